"""Coaching against a real OpenAI-compatible server (llama.cpp, llama-cpp-python, vLLM, Ollama,
OpenAI), when one is named: TEST_LLM_URL=http://127.0.0.1:8765/v1 [TEST_LLM_MODEL=...]
pytest -m llm_server. A small model may not write usable coaching; what must hold on any server
is that each plan ends ready or with a stated reason, never in a retry storm, and that what
auto mode learns about the server is kept for the next plan."""

import os

import pytest

from coaching.llm.openai_adapter import forget_servers
from coaching.models import LLMCall, WeeklyPlan
from coaching.plans import batch
from scoring.models import Role
from tests.factories import RegionFactory, StoreFactory, user_with_role

from .helpers import WEEK, seed_coached_store, seed_peer_store

URL = os.environ.get("TEST_LLM_URL", "")
pytestmark = [
    pytest.mark.llm_server,
    pytest.mark.django_db,
    pytest.mark.skipif(not URL, reason="no server named: set TEST_LLM_URL to run it"),
]


def test_a_real_server_coaches_or_says_why_without_retry_storms(settings):
    from coaching.demo import load_demo_modules

    settings.COACH_LLM_PROVIDER = "openai"
    settings.OPENAI_BASE_URL = URL
    settings.OPENAI_API_KEY = os.environ.get("TEST_LLM_KEY", "local")
    settings.OPENAI_MODEL = os.environ.get("TEST_LLM_MODEL", "local-model")
    settings.OPENAI_TIMEOUT = float(os.environ.get("TEST_LLM_TIMEOUT", "180"))
    settings.COACH_LLM_MODE = "auto"
    settings.COACH_LLM_CONCURRENCY = 1
    settings.COACH_MAX_COMPLETION_TOKENS = int(os.environ.get("TEST_LLM_MAX_TOKENS", "700"))
    forget_servers()
    load_demo_modules()
    region = RegionFactory()
    stores = [StoreFactory(region=region) for _ in range(2)]
    for number, store in enumerate(stores):
        seed_coached_store(store, offset=number * 0.3)
    seed_peer_store(StoreFactory(region=region), 75.0)
    managers = [user_with_role(Role.STORE_MANAGER, stores=[store]) for store in stores]

    result = batch.generate_plans(
        [(m.id, s.id) for m, s in zip(managers, stores, strict=True)], WEEK
    )

    print(result.summary(), *result.problem_lines(), sep="\n")
    plans = list(WeeklyPlan.objects.filter(week=WEEK).order_by("store__code"))
    assert len(plans) == 2 and WeeklyPlan.Status.FAILED not in {p.status for p in plans}
    for plan in plans:
        assert plan.status == WeeklyPlan.Status.READY or plan.fallback_reason
        calls = LLMCall.objects.filter(plan=plan, provider="openai").count()
        # Mode probes (the first plan only), one answer, one repair: never the old 3 x retries.
        assert calls <= (4 if plan == plans[0] else 2), plan.fallback_reason
