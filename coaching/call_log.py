"""The LLM call log: every call a coach made, with its tokens, latency, cost and outcome."""

from decimal import Decimal

from django.conf import settings

from .llm.base import CallRecord
from .models import LLMCall

PER_TOKEN = Decimal(1_000_000)


def cost_of(call: CallRecord) -> Decimal:
    """USD for the call's tokens at its model's price (COACH_PRICES: input, output and, when
    given, cached input per million tokens), else the default price (COACH_PRICE_*_PER_MTOK, 0
    unless set: a local server costs nothing per token). Cached prompt tokens cost the cached
    price; a model priced without one pays the full input price for them."""
    default = (settings.COACH_PRICE_INPUT_PER_MTOK, settings.COACH_PRICE_OUTPUT_PER_MTOK)
    if call.provider == "playbook":
        return Decimal(0)
    price_in, price_out, *rest = settings.COACH_PRICES.get(call.model, default)
    price_cached = rest[0] if rest else price_in
    cached = min(call.cached_tokens, call.tokens_in)
    cost = (
        (call.tokens_in - cached) * Decimal(str(price_in))
        + cached * Decimal(str(price_cached))
        + call.tokens_out * Decimal(str(price_out))
    ) / PER_TOKEN
    return cost.quantize(Decimal("0.000001"))


def log_calls(
    calls: list[CallRecord], *, plan=None, module=None, purpose: str = "weekly_plan"
) -> None:
    LLMCall.objects.bulk_create(call_rows(calls, plan=plan, module=module, purpose=purpose))


def call_rows(
    calls: list[CallRecord], *, plan=None, module=None, purpose: str = "weekly_plan"
) -> list[LLMCall]:
    """The unsaved LLMCall rows of these calls (a batch saves many plans' in one insert)."""
    return [
        LLMCall(
            plan=plan,
            module=module,
            purpose=purpose,
            provider=c.provider,
            model=c.model,
            prompt_version=c.prompt_version,
            attempt=c.attempt,
            tokens_in=c.tokens_in,
            tokens_out=c.tokens_out,
            cached_tokens=c.cached_tokens,
            latency_ms=c.latency_ms,
            cost_usd=cost_of(c),
            outcome=c.outcome,
            error=c.error,
        )
        for c in calls
    ]
