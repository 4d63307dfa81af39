"""Every LLM call is costed at its own model's price; a model with no price (a local server) and
the offline playbook cost nothing."""

from decimal import Decimal

from coaching.call_log import cost_of
from coaching.llm.base import CallRecord


def call(model: str, provider: str = "openai") -> CallRecord:
    return CallRecord(provider, model, "weekly_plan.v1", tokens_in=2_000, tokens_out=500)


def test_a_listed_model_is_costed_at_its_price_and_others_at_the_default(settings):
    settings.COACH_PRICES = {"gpt-4o-mini": (0.15, 0.60), "house-model": (1.0, 2.0)}
    settings.COACH_PRICE_INPUT_PER_MTOK = settings.COACH_PRICE_OUTPUT_PER_MTOK = 0.0
    assert cost_of(call("gpt-4o-mini")) == Decimal("0.000600")  # 2,000 x 0.15 + 500 x 0.60
    assert cost_of(call("house-model")) == Decimal("0.003000")
    assert cost_of(call("smollm2-135m")) == 0  # a local server: no price, no cost
    assert cost_of(call("playbook", provider="playbook")) == 0
    settings.COACH_PRICE_INPUT_PER_MTOK, settings.COACH_PRICE_OUTPUT_PER_MTOK = 1.0, 1.0
    assert cost_of(call("smollm2-135m")) == Decimal("0.002500")


def test_prices_come_from_the_environment(monkeypatch):
    import importlib

    import config.settings_coaching as shipped

    monkeypatch.setenv("COACH_PRICES", "smollm2=0/0,house-model=0.5/1.5")
    try:
        prices = importlib.reload(shipped).COACH_PRICES
    finally:
        monkeypatch.delenv("COACH_PRICES")
        importlib.reload(shipped)
    assert prices["smollm2"] == (0.0, 0.0) and prices["house-model"] == (0.5, 1.5)
    assert prices["gpt-4o-mini"] == (0.15, 0.60)
