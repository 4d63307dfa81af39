"""The LLM call log: every call a coach made, with its tokens, latency, cost and outcome."""

from decimal import Decimal

from django.conf import settings

from .llm.base import CallRecord
from .models import LLMCall


def log_calls(
    calls: list[CallRecord], *, plan=None, module=None, purpose: str = "weekly_plan"
) -> None:
    price_in = Decimal(str(settings.COACH_PRICE_INPUT_PER_MTOK)) / 1_000_000
    price_out = Decimal(str(settings.COACH_PRICE_OUTPUT_PER_MTOK)) / 1_000_000
    LLMCall.objects.bulk_create(
        [
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
                latency_ms=c.latency_ms,
                cost_usd=(c.tokens_in * price_in + c.tokens_out * price_out).quantize(
                    Decimal("0.000001")
                ),
                outcome=c.outcome,
                error=c.error,
            )
            for c in calls
        ]
    )
