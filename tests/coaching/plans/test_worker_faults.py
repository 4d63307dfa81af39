"""A worker killed mid-batch: its chunk comes back from Redis after the visibility timeout and a
second worker finishes it, taking back the claims of the killed delivery (the same task id).

Real Celery workers on Redis and PostgreSQL (`worker` marker), with the LLM played by a slow fake
OpenAI server in this process so the first worker can be killed between two plans of one chunk.
"""

import re
import tempfile
import time
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from coaching import tasks
from coaching.demo import load_demo_modules
from coaching.models import WeeklyPlan
from coaching.plans.access import coached_pairs
from scoring.demo import build_demo
from scoring.weeks import week_start
from tests.coaching.llm.helpers import good_answer
from tests.coaching.plans.test_worker import CHUNK, Worker, broker, drained, wait_until
from tests.fakes.openai_server import FakeOpenAIServer, ok, slow

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
__all__ = ["broker"]  # the fixture, imported

VISIBILITY = 10  # seconds: CELERY_VISIBILITY_TIMEOUT of both workers
ANSWER_SECONDS = 2.0  # each LLM answer takes this long
RECEIVED = re.compile(r"Task coaching\.tasks\.generate_plans\[([^\]]+)\] received")
DIGEST_TO = re.compile(r"^To: (\S+)$", re.MULTILINE)


@pytest.fixture
def workers(transactional_db, broker):
    """Workers made by the test, stopped (or already killed) before the database is flushed."""
    made: list[Worker] = []
    with tempfile.TemporaryDirectory(prefix="ror-workers-") as tmp:

        def make(name: str, concurrency: int) -> Worker:
            made.append(Worker(Path(tmp) / f"{name}.log", name=name, concurrency=concurrency))
            return made[-1]

        try:
            yield make
        finally:
            for w in made:
                w.stop()
                print(f"\n----- {w.name} log -----\n{w.log()}")


def test_a_killed_workers_chunk_is_redone_by_another_within_the_visibility_timeout(workers):
    build_demo(stores=6, weeks=8, seed=1)
    load_demo_modules()
    week = week_start(timezone.localdate())
    pairs = coached_pairs()
    with FakeOpenAIServer() as server:
        server.default = slow(ANSWER_SECONDS, ok(good_answer))
        env = {
            "COACH_LLM_PROVIDER": "openai",
            "OPENAI_BASE_URL": server.base_url,
            "OPENAI_API_KEY": "test-key",
            "COACH_LLM_ATTEMPTS": "1",
            "COACH_LLM_CONCURRENCY": "1",  # one plan after the other within a chunk
            "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY),
            "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        }
        tasks.enqueue_week(week, pairs)
        first = workers("first", concurrency=1)  # takes one chunk, prefetches nothing more
        first.start(**env)
        ready = WeeklyPlan.objects.filter(week=week, status=WeeklyPlan.Status.READY)
        # Mid-chunk: its first plan saved, the second one's LLM answer under way.
        wait_until(lambda: ready.count() == 1 and server.request_count == 2, "mid-chunk", first)
        first.process.kill()  # SIGKILL: no ack, no warm shutdown
        first.process.wait(timeout=10)
        killed_at = time.monotonic()
        [killed_task] = RECEIVED.findall(first.log())
        held = WeeklyPlan.objects.get(
            week=week, status=WeeklyPlan.Status.PENDING, claim_token=killed_task
        )

        second = workers("second", concurrency=4)
        second.start(**env)
        wait_until(lambda: ready.count() == len(pairs), "every plan ready", second, timeout=60)
        redone_in = time.monotonic() - killed_at
        drained(second)

    assert redone_in < VISIBILITY + 3 * CHUNK * ANSWER_SECONDS + 10, redone_in
    assert killed_task in RECEIVED.findall(second.log()), "the killed task was redelivered"
    plans = WeeklyPlan.objects.filter(week=week)
    assert sorted(plans.values_list("manager_id", "store_id")) == pairs, "one plan per manager"
    assert not plans.exclude(status=WeeklyPlan.Status.READY).exists()
    assert not plans.filter(emailed_at__isnull=True).exists()
    held.refresh_from_db()
    assert (held.status, held.claim_token) == (WeeklyPlan.Status.READY, "")
    # The redelivery took its claim back: nothing left to another run, nothing paid twice but
    # the answer the kill interrupted.
    assert sum(second.results(), Counter()) == Counter(created=len(pairs) - 1, reused=1)
    assert server.request_count == len(pairs) + 1
    emails = sorted(plans.values_list("manager__email", flat=True))
    sent = DIGEST_TO.findall(first.log()) + DIGEST_TO.findall(second.log())
    assert sorted(sent) == emails, "one digest per manager"
    assert "Traceback" not in second.log()


TERMINATE_OTHERS = """
    SELECT pg_terminate_backend(pid) FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid()
"""


def test_a_database_restart_mid_batch_is_retried_and_every_digest_goes_out_once(workers):
    build_demo(stores=6, weeks=8, seed=1)
    load_demo_modules()
    week = week_start(timezone.localdate())
    pairs = coached_pairs()
    with FakeOpenAIServer() as server:
        server.default = slow(ANSWER_SECONDS, ok(good_answer))
        tasks.enqueue_week(week, pairs)
        worker = workers("worker", concurrency=4)  # every chunk at once
        worker.start(
            COACH_LLM_PROVIDER="openai",
            OPENAI_BASE_URL=server.base_url,
            OPENAI_API_KEY="test-key",
            COACH_LLM_ATTEMPTS="1",
            COACH_LLM_CONCURRENCY="1",
            EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend",
        )
        ready = WeeklyPlan.objects.filter(week=week, status=WeeklyPlan.Status.READY)
        wait_until(lambda: ready.count() >= 1, "the batch under way", worker)
        with connection.cursor() as cursor:  # as a restart does to every worker's connection
            cursor.execute(TERMINATE_OTHERS)
            assert cursor.fetchall(), "the worker's connections were terminated"
        plans = WeeklyPlan.objects.filter(week=week)
        wait_until(
            lambda: ready.filter(emailed_at__isnull=False).count() == len(pairs),
            "every plan ready and emailed",
            worker,
            timeout=90,
        )
        drained(worker)

    assert "Retry in" in worker.log(), "the tasks the restart broke were retried"
    assert sorted(plans.values_list("manager_id", "store_id")) == pairs, "one plan per manager"
    emails = sorted(plans.values_list("manager__email", flat=True))
    assert sorted(DIGEST_TO.findall(worker.log())) == emails, "one digest per manager"


def test_feedback_survives_a_regeneration_through_a_database_restart_and_no_digest_repeats(
    workers, settings
):
    """The manager marked tips done and commented; then the week is coached again (a goal edit
    changed its inputs; `force` here) while the database restarts under the worker. Every answer
    the manager gave is still there, each manager still has one plan, and nobody gets the week's
    digest a second time."""
    from coaching.models import CoachingTip
    from coaching.plans.batch import generate_plans

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    build_demo(stores=6, weeks=8, seed=1)
    load_demo_modules()
    week = week_start(timezone.localdate())
    pairs = coached_pairs()
    first = generate_plans(pairs, week)  # the playbook, in this process: Monday's plans
    assert first.counts["created"] == len(pairs) and first.emailed == len(pairs)
    answered = {}
    for plan in WeeklyPlan.objects.filter(week=week):
        tip = plan.tips.order_by("order").first()
        CoachingTip.objects.filter(pk=tip.pk).update(
            done_at=timezone.now(), helpful=True, comment=f"Did it at {plan.store.code}"
        )
        answered[plan.pk] = tip.pk
    with FakeOpenAIServer() as server:
        server.default = slow(ANSWER_SECONDS, ok(good_answer))
        tasks.enqueue_week(week, pairs, force=True)
        worker = workers("worker", concurrency=4)
        worker.start(
            COACH_LLM_PROVIDER="openai",
            OPENAI_BASE_URL=server.base_url,
            OPENAI_API_KEY="test-key",
            COACH_LLM_ATTEMPTS="1",
            COACH_LLM_CONCURRENCY="1",
            EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend",
        )
        coached = WeeklyPlan.objects.filter(week=week, provider="openai")
        wait_until(lambda: coached.count() >= 1, "the regeneration under way", worker)
        with connection.cursor() as cursor:
            cursor.execute(TERMINATE_OTHERS)
            assert cursor.fetchall(), "the worker's connections were terminated"
        wait_until(
            lambda: coached.count() == len(pairs), "every plan regenerated", worker, timeout=90
        )
        drained(worker)

    plans = WeeklyPlan.objects.filter(week=week)
    assert sorted(plans.values_list("manager_id", "store_id")) == pairs, "one plan per manager"
    for plan in plans:
        tip = CoachingTip.objects.get(pk=answered[plan.pk])
        assert tip.plan_id == plan.pk and tip.done_at and tip.helpful is True
        assert tip.comment == f"Did it at {plan.store.code}"
        assert plan.tips.filter(category=tip.category).count() == 1
    assert "Retry in" in worker.log(), "the tasks the restart broke were retried"
    assert DIGEST_TO.findall(worker.log()) == [], "the week's digest went out once, on Monday"
