"""The LLM port: `get_coach()` gives the configured coach, `PLAYBOOK` the offline one, and
`retries()` the configured transient-retry budget for `policy`. This module is the package's only
reader of Django settings; nothing in it touches models or the ORM."""

from django.conf import settings

from .base import Coach
from .openai_adapter import OpenAICoach
from .playbook import PLAYBOOK
from .policy import Retries

__all__ = ["PLAYBOOK", "Coach", "get_coach", "provider_name", "retries"]


def provider_name() -> str:
    """The configured provider; unset means openai once an endpoint or key is given."""
    if settings.COACH_LLM_PROVIDER:
        return settings.COACH_LLM_PROVIDER
    return "openai" if (settings.OPENAI_BASE_URL or settings.OPENAI_API_KEY) else "playbook"


def get_coach() -> Coach:
    provider = provider_name()
    if provider == "playbook":
        return PLAYBOOK
    if provider == "openai":
        return OpenAICoach(
            base_url=settings.OPENAI_BASE_URL,
            api_key=settings.OPENAI_API_KEY,
            model=settings.OPENAI_MODEL,
            timeout=settings.OPENAI_TIMEOUT,
            max_retries=settings.OPENAI_MAX_RETRIES,
            mode=settings.COACH_LLM_MODE,
            max_completion_tokens=settings.COACH_MAX_COMPLETION_TOKENS,
        )
    raise ValueError(f"COACH_LLM_PROVIDER must be 'playbook' or 'openai', not {provider!r}")


def retries() -> Retries:
    """COACH_LLM_ATTEMPTS tries on transient failures, COACH_LLM_BACKOFF_SECONDS doubling."""
    return Retries(
        attempts=max(1, settings.COACH_LLM_ATTEMPTS),
        backoff_seconds=settings.COACH_LLM_BACKOFF_SECONDS,
    )


def probe(timeout: float = 3.0) -> str:
    """One cheap call to the configured model server (its model list), for the health check:
    what it answered, or raises. Never a completion: a monitor's probe costs no tokens."""
    if provider_name() == "playbook":
        return "not used: the offline playbook coach writes the coaching"
    from .openai_adapter import list_models

    models = list_models(
        base_url=settings.OPENAI_BASE_URL, api_key=settings.OPENAI_API_KEY, timeout=timeout
    )
    listed = settings.OPENAI_MODEL in models
    return f"answering; model {settings.OPENAI_MODEL} {'listed' if listed else 'not listed'}"
