"""The weekly fan-out through a real Celery worker: Redis broker, PostgreSQL, at-least-once.

A separate `celery worker` process (threads pool) consumes the `llm` queue against the test
database. The batch is generated once, then delivered again (the whole week twice more, and one
chunk re-sent by hand as a broker redelivery would): nothing may be written twice. Last, two
deliveries of every chunk race each other before any plan exists.

Runs only in the PostgreSQL pass (`worker` marker), e.g.
`DATABASE_URL=postgres://postgres@127.0.0.1:5432/ror_coach REQUIRE_SERVICES=1 pytest tests/coaching/test_worker.py`.
"""

import ast
import datetime as dt
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection
from django.utils import timezone

from coaching import tasks
from coaching.demo import load_demo_modules
from coaching.models import CoachingTip, LLMCall, WeeklyPlan
from coaching.plans.access import coached_pairs
from scoring.demo import build_demo
from scoring.weeks import week_start

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PROJECT_ROOT = Path(__file__).resolve().parents[3]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")  # as tests/conftest.py
QUEUES = ("llm", "celery")
CHUNK = 2  # 6 stores -> 3 chunks, so "one chunk" is a real part of the batch
TIMEOUT = 45.0
SUCCEEDED = re.compile(
    r"Task coaching\.tasks\.generate_plans\[[^\]]+\] succeeded in [\d.e-]+s: (\{.*\})"
)


def _redis():
    import redis

    return redis.Redis.from_url(REDIS_URL)


# kombu's Redis transport keeps one list per queue (and one per priority step, named
# "<queue>\x06\x16<step>") and a hash of delivered-but-unacknowledged messages: with acks_late a
# message stays there until its task has finished.
UNACKED = (b"unacked", b"unacked_index", b"unacked_mutex")


def _queue_keys(client) -> list[bytes]:
    return [k for q in QUEUES for k in client.keys(f"{q}*") if k.split(b"\x06")[0] == q.encode()]


def _purge() -> None:
    with _redis() as client:
        client.delete(*_queue_keys(client), *UNACKED)


def _pending_messages() -> int:
    with _redis() as client:
        return sum(client.llen(k) for k in _queue_keys(client)) + client.hlen(UNACKED[0])


def _test_database_url() -> str:
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}@{host}{port}/{quote(db['NAME'], safe='')}"


def _reset_broker_pools(app) -> None:
    """Forget pooled broker connections so the next publish uses the current broker_url."""
    from kombu import pools

    if app._pool is not None:
        app._pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None
    pools.reset()


@pytest.fixture
def broker(settings):
    """The test process publishes to Redis instead of running tasks eagerly."""
    from config.celery import app

    before = (app.conf.broker_url, app.conf.task_always_eager)
    settings.CELERY_BROKER_URL = REDIS_URL
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.COACH_BATCH_CHUNK = CHUNK
    settings.COACH_LLM_PROVIDER = "playbook"
    app.conf.broker_url = REDIS_URL
    app.conf.task_always_eager = False
    _reset_broker_pools(app)
    _purge()
    try:
        yield app
    finally:
        _reset_broker_pools(app)
        app.conf.broker_url, app.conf.task_always_eager = before
        _purge()


class Worker:
    def __init__(self, log_path: Path, name: str = "test-worker", concurrency: int = 8) -> None:
        self.log_path = log_path
        self.name = name
        self.concurrency = concurrency
        self.process: subprocess.Popen | None = None

    def start(self, **extra_env: str) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": _test_database_url(),
            "CELERY_BROKER_URL": REDIS_URL,
            "COACH_LLM_PROVIDER": "playbook",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "PYTHONUNBUFFERED": "1",
            **extra_env,
        }
        env.pop("CELERY_RESULT_BACKEND", None)
        command = [
            *(sys.executable, "-m", "celery", "-A", "config", "worker"),
            *("-Q", ",".join(QUEUES), "--pool", "threads", "--concurrency", str(self.concurrency)),
            *("--loglevel", "info", "-n", f"{self.name}-{os.getpid()}@%h"),
            *("--without-gossip", "--without-mingle", "--without-heartbeat"),
        ]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own fixed argv
                command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 30
        while " ready." not in self.log():
            if self.process.poll() is not None:
                pytest.fail(f"the worker exited with {self.process.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                pytest.fail(f"the worker did not become ready in 30 s:\n{self.log()}")
            time.sleep(0.1)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def results(self) -> list[Counter]:
        """The counts each finished generate_plans task returned, in the order they finished."""
        return [Counter(ast.literal_eval(m)) for m in SUCCEEDED.findall(self.log())]

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # warm shutdown: running tasks finish, their messages are acked
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def worker(transactional_db, broker):
    """Stopped before the database is flushed (it depends on `transactional_db`). Its log is
    printed at teardown: pytest shows it when the test failed."""
    with tempfile.TemporaryDirectory(prefix="ror-worker-") as tmp:
        w = Worker(Path(tmp) / "worker.log")
        try:
            yield w
        finally:
            w.stop()
            print(f"\n----- celery worker log -----\n{w.log()}")


def wait_until(condition, what: str, worker: Worker, timeout: float = TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if worker.process.poll() is not None:
            pytest.fail(f"the worker died while waiting for {what}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


def drained(worker: Worker, stable_for: float = 3.0) -> None:
    """Nothing queued or unacknowledged, and the coaching tables unchanged for `stable_for` s."""

    def snapshot():
        return (
            _pending_messages(),
            WeeklyPlan.objects.count(),
            CoachingTip.objects.count(),
            LLMCall.objects.count(),
        )

    state = {"last": None, "since": time.monotonic()}

    def quiet():
        now = snapshot()
        if now != state["last"]:
            state["last"], state["since"] = now, time.monotonic()
            return False
        return now[0] == 0 and time.monotonic() - state["since"] >= stable_for

    wait_until(quiet, "the queues to drain", worker)


def plan_state(week: dt.date) -> dict[tuple[int, int], tuple]:
    return {
        (p.manager_id, p.store_id): (
            p.id,
            p.status,
            p.fingerprint,
            p.updated_at,
            tuple(t.id for t in p.tips.all()),
        )
        for p in WeeklyPlan.objects.filter(week=week).prefetch_related("tips")
    }


def test_a_real_worker_generates_the_week_once_whatever_is_delivered_again(broker, worker):
    build_demo(stores=6, weeks=8, seed=1)
    load_demo_modules()
    _purge()  # the demo's scores queued the overviews' warm-up; what follows counts the week's
    week = week_start(timezone.localdate())
    pairs = coached_pairs()
    assert len(pairs) == 6
    chunks = [pairs[i : i + CHUNK] for i in range(0, len(pairs), CHUNK)]

    # Outside any transaction (transaction=True: autocommit), delay_on_commit publishes at once,
    # and the route puts every chunk on the llm queue: check before a worker can consume them.
    assert not connection.in_atomic_block
    assert tasks.enqueue_week(week, pairs) == len(chunks)
    with _redis() as client:
        assert client.llen("llm") == len(chunks)
        assert client.llen("celery") == 0

    worker.start()
    wait_until(
        lambda: (
            WeeklyPlan.objects.filter(week=week, status=WeeklyPlan.Status.READY).count()
            == len(pairs)
        ),
        f"{len(pairs)} ready plans",
        worker,
    )
    drained(worker)
    first = plan_state(week)
    calls = LLMCall.objects.count()
    assert set(first) == set(pairs)
    assert all(tips for *_, tips in first.values()), "every plan has tips"
    assert sum(worker.results(), Counter()) == Counter(created=len(pairs))

    # The week delivered twice more, and one chunk redelivered as the broker would after a lost ack.
    tasks.enqueue_week(week, pairs)
    tasks.enqueue_week(week, pairs)
    tasks.generate_plans.apply_async(args=[[list(p) for p in chunks[1]], week.isoformat(), False])
    total = len(chunks) + 2 * len(chunks) + 1
    wait_until(lambda: len(worker.results()) == total, f"{total} finished tasks", worker)
    drained(worker)

    assert WeeklyPlan.objects.filter(week=week).count() == len(pairs)
    assert plan_state(week) == first, "no plan or tip was rewritten"
    assert LLMCall.objects.count() == calls, "no plan was coached again"
    later = worker.results()[len(chunks) :]
    assert sum(later, Counter()) == Counter(reused=len(pairs) * 2 + len(chunks[1]))

    # Next week, every chunk delivered twice before any plan exists: the deliveries race.
    next_week = week + dt.timedelta(weeks=1)
    before = len(worker.results())
    tasks.enqueue_week(next_week, pairs)
    tasks.enqueue_week(next_week, pairs)
    wait_until(lambda: len(worker.results()) == before + 2 * len(chunks), "the race", worker)
    drained(worker)

    plans = WeeklyPlan.objects.filter(week=next_week)
    assert sorted(plans.values_list("manager_id", "store_id")) == pairs
    assert set(plans.values_list("status", flat=True)) == {WeeklyPlan.Status.READY}
    for plan in plans:
        tips = list(plan.tips.all())
        assert 1 <= len(tips) <= 3
        assert len({t.category_id for t in tips}) == len(tips), "no tip written twice"
        assert [t.order for t in tips] == list(range(1, len(tips) + 1))
    raced = sum(worker.results()[before:], Counter())
    assert raced["created"] == len(pairs), raced
    # The losing delivery of a pair found it done (reused) or still held by the winner (claimed).
    assert raced["created"] + raced["reused"] + raced["claimed"] == 2 * len(pairs), raced
    assert "Traceback" not in worker.log()
