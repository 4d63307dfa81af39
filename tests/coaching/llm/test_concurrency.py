"""The batch's LLM calls run concurrently, each plan written in its own transaction."""

import json
import os
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import pytest
from django.db import connection, connections

from coaching.demo import load_demo_modules
from coaching.models import LLMCall, WeeklyPlan
from coaching.plans import batch
from scoring.models import Role
from tests.factories import RegionFactory, StoreFactory, user_with_role
from tests.fakes.openai_server import ok, slow

from .helpers import WEEK, call_log, focus_codes, good_answer, seed_coached_store, tip_categories

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[3]

# Worker threads use their own database connections, so these tests commit (transaction=True) and
# the threads see the data. On SQLite the test database is in-memory with a shared cache, which has
# table-level locks: a thread reading a table another thread is writing to gets "database table is
# locked" at once (no busy timeout applies). So on SQLite the answers are staggered to keep the
# writes apart while the LLM calls still overlap; PostgreSQL also takes six simultaneous answers.
# What the shipped SQLite configuration does with simultaneous answers on a real file is tested
# further down, in a subprocess.


def concurrent_batch(llm, settings, answers) -> list[WeeklyPlan]:
    settings.COACH_LLM_CONCURRENCY = 6
    llm.enqueue(*answers)
    region = RegionFactory()
    stores = [StoreFactory(region=region) for _ in range(6)]
    for number, store in enumerate(stores):
        seed_coached_store(store, offset=number * 0.2)
    managers = [user_with_role(Role.STORE_MANAGER, stores=[store]) for store in stores]
    load_demo_modules()
    pairs = [(m.id, s.id) for m, s in zip(managers, stores, strict=True)]

    result = batch.generate_plans(pairs, WEEK)

    assert dict(result.counts) == {"created": 6}
    assert llm.request_count == 6
    plans = list(WeeklyPlan.objects.filter(week=WEEK))
    assert len(plans) == 6
    assert sorted((p.manager_id, p.store_id) for p in plans) == sorted(pairs)
    for plan in plans:
        assert plan.status == WeeklyPlan.Status.READY and plan.provider == "openai"
        assert plan.focus and tip_categories(plan) == focus_codes(plan)
        assert call_log(plan) == [("openai", "ok")]
    assert LLMCall.objects.count() == 6
    return plans


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_six_simultaneous_answers_are_coached_concurrently(llm, settings):
    concurrent_batch(llm, settings, [slow(0.5, ok(good_answer))] * 6)

    assert llm.max_in_flight == 6, "all six requests were open at once"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_staggered_answers_are_coached_concurrently(llm, settings):
    # 0.3 s, 0.5 s ... 1.3 s: 4.8 s one after the other, about 1.3 s in parallel.
    answers = [slow(0.3 + 0.2 * n, ok(good_answer)) for n in range(6)]

    concurrent_batch(llm, settings, answers)

    assert llm.max_in_flight > 1, "the LLM calls overlapped"


SQLITE_FILE_BATCH = """
import json, sys, time
import django

django.setup()
from django.conf import settings

from coaching.plans import batch, digests
from coaching.plans import selectors as plan_selectors
from coaching.demo import load_demo_modules
from coaching.models import WeeklyPlan
from scoring.models import Role
from tests.coaching.llm import helpers as t
from tests.factories import RegionFactory, StoreFactory, user_with_role
from tests.fakes.openai_server import FakeOpenAIServer, ok, slow

count = int(sys.argv[1])
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
region = RegionFactory()
stores = [StoreFactory(region=region) for _ in range(count)]
for number, store in enumerate(stores):
    t.seed_coached_store(store, offset=number * 0.1)
managers = [user_with_role(Role.STORE_MANAGER, stores=[store]) for store in stores]
load_demo_modules()
error = None
with FakeOpenAIServer() as server:
    server.default = slow(0.3, ok(t.good_answer))
    settings.COACH_LLM_PROVIDER = "openai"
    settings.OPENAI_BASE_URL = server.base_url
    settings.OPENAI_API_KEY = "test-key"
    settings.OPENAI_MODEL = "fake-model"
    settings.OPENAI_MAX_RETRIES = 0
    settings.COACH_LLM_CONCURRENCY = count
    try:
        counts = dict(batch.generate_plans(
            [(m.id, s.id) for m, s in zip(managers, stores)], t.WEEK
        ).counts)
    except Exception as exc:
        counts, error = None, f"{type(exc).__name__}: {exc}"
print(json.dumps({
    "options": settings.DATABASES["default"]["OPTIONS"],
    "error": error,
    "counts": counts,
    "stored": WeeklyPlan.objects.filter(week=t.WEEK, status="ready").count(),
}))
"""


def run_batch_on_sqlite_file(tmp_path, count: int = 12) -> dict:
    """A batch of simultaneous answers in a subprocess with the shipped settings on a SQLite file
    (WAL, 20 s timeout), its schema copied from the migrated test database."""
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite file configuration is exercised on the SQLite run")
    path = tmp_path / "db.sqlite3"
    connection.ensure_connection()
    with closing(sqlite3.connect(path)) as target:
        connection.connection.backup(target)
    env = os.environ | {
        "DATABASE_URL": f"sqlite:///{path}",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    process = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", SQLITE_FILE_BATCH, str(count)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if process.returncode != 0:  # a broken harness, not the behaviour under test
        raise RuntimeError(process.stderr[-3000:])
    outcome = json.loads(process.stdout.strip().splitlines()[-1])
    assert outcome["options"]["timeout"] == 20
    assert "journal_mode=WAL" in outcome["options"]["init_command"]
    assert outcome["options"]["transaction_mode"] == "IMMEDIATE"
    return outcome


# The backup needs a test database outside a transaction: BEGIN IMMEDIATE would lock it.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_sqlite_file_batch_stores_every_plan_with_the_shipped_settings(tmp_path):
    outcome = run_batch_on_sqlite_file(tmp_path)

    assert outcome["error"] is None, outcome["error"]
    assert outcome["counts"] == {"created": 12}
    assert outcome["stored"] == 12


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_simultaneous_runs_of_a_week_pay_once_for_each_plan(llm, settings):
    settings.COACH_LLM_CONCURRENCY = 3
    llm.default = slow(0.5, ok(good_answer))
    region = RegionFactory()
    stores = [StoreFactory(region=region) for _ in range(3)]
    for number, store in enumerate(stores):
        seed_coached_store(store, offset=number * 0.2)
    managers = [user_with_role(Role.STORE_MANAGER, stores=[store]) for store in stores]
    load_demo_modules()
    pairs = [(m.id, s.id) for m, s in zip(managers, stores, strict=True)]

    def run(_):
        try:
            return batch.generate_plans(pairs, WEEK).counts
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        first, second = pool.map(run, range(2))

    assert llm.request_count == 3, "each plan's LLM call was paid for once"
    assert first["created"] + second["created"] == 3
    assert first["claimed"] + first["reused"] + second["claimed"] + second["reused"] == 3
    plans = WeeklyPlan.objects.filter(week=WEEK)
    assert plans.count() == 3 and {p.status for p in plans} == {WeeklyPlan.Status.READY}
