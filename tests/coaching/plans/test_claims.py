"""Two runs of one week never pay twice for a plan: a run reserves the plans it coaches before it
asks the LLM, another run leaves them alone until the reservation lapses, and a redelivered task
takes its own reservations back."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from coaching.models import WeeklyPlan
from coaching.plans.batch import generate_plans
from coaching.plans.services import claim_plans
from tests.coaching.llm.helpers import good_answer
from tests.coaching.plans import test_plans
from tests.coaching.plans.test_plans import PLAN_WEEK, pairs
from tests.fakes.openai_server import FakeOpenAIServer, error, ok

pytestmark = pytest.mark.django_db
chain = test_plans.chain  # the three-store chain those tests coach


def use_server(settings, server: FakeOpenAIServer) -> None:
    server.default = ok(good_answer)
    settings.COACH_LLM_PROVIDER = "openai"
    settings.OPENAI_BASE_URL = server.base_url
    settings.OPENAI_API_KEY = "test-key"
    settings.OPENAI_MAX_RETRIES = 0
    settings.COACH_LLM_ATTEMPTS = 1
    settings.COACH_LLM_CONCURRENCY = 1  # one thread: the test database is not shared


def test_a_plan_another_run_holds_is_left_to_it_and_costs_nothing(chain, settings):
    stores, managers = chain
    mine, theirs = pairs(stores, managers)[:2]
    assert claim_plans(PLAN_WEEK, {theirs: "x"}, token="other-run", force=False) == {}

    with FakeOpenAIServer() as server:
        use_server(settings, server)
        result = generate_plans([mine, theirs], PLAN_WEEK)

    assert result.counts["claimed"] == 1 and result.counts["created"] == 1
    assert server.request_count == 1  # only the plan this run holds was asked for
    held = WeeklyPlan.objects.get(manager_id=theirs[0], store_id=theirs[1])
    assert (held.status, held.claim_token) == (WeeklyPlan.Status.PENDING, "other-run")
    assert "another run is coaching this plan" in result.problem_lines()[0]
    done = WeeklyPlan.objects.get(manager_id=mine[0], store_id=mine[1])
    assert done.status == WeeklyPlan.Status.READY and done.claimed_at is None


def test_a_lapsed_claim_is_taken_over_and_the_same_run_may_claim_again(chain, settings):
    stores, managers = chain
    pair = pairs(stores, managers)[0]
    claim_plans(PLAN_WEEK, {pair: "x"}, token="task-1", force=False)
    # A redelivered task (the same token) goes on with its own reservation.
    assert claim_plans(PLAN_WEEK, {pair: "x"}, token="task-1", force=False) == {}
    assert claim_plans(PLAN_WEEK, {pair: "x"}, token="task-2", force=False) != {}
    lapsed = timezone.now() - dt.timedelta(seconds=settings.COACH_CLAIM_SECONDS + 1)
    WeeklyPlan.objects.update(claimed_at=lapsed)
    # The first run is taken for dead: its plan is coached by the next one.
    result = generate_plans([pair], PLAN_WEEK, claim_token="task-2")
    assert result.counts["created"] == 1
    assert WeeklyPlan.objects.get().status == WeeklyPlan.Status.READY


def test_the_command_prints_why_each_plan_fell_back(chain, settings, capsys):
    stores, _ = chain
    with FakeOpenAIServer() as server:
        use_server(settings, server)
        server.default = error(401, "Incorrect API key provided")
        call_command(
            "generate_coaching", "--week", PLAN_WEEK.isoformat(), "--store", stores[0].code
        )
    out = capsys.readouterr().out
    assert "1 fell back to the playbook" in out
    assert f"{stores[0].code} (" in out and "fell back to the playbook: LLM error:" in out
    assert "Incorrect API key provided" in out
