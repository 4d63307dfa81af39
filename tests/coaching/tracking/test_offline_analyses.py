"""With a broker, the slow analyses (key drivers, coaching impact) leave the request path: a page
or the API serves what a task computed, queues one computation when the inputs moved on, and says
from when its figures are."""

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.utils import timezone

from coaching import tasks as coaching_tasks
from coaching.models import CoachingTip
from coaching.tracking import selectors as tracking_selectors
from coaching.tracking.services import refresh_analyses
from scoring import offline
from scoring import tasks as scoring_tasks
from tests.web.conftest import build_chain

pytestmark = pytest.mark.django_db


class Queue:
    """Stands in for the broker: records what would be sent, runs it on demand."""

    def __init__(self):
        self.sent = []

    def send_task(self, name, args=()):
        self.sent.append((name, list(args)))

    def run_all(self):
        while self.sent:
            name, args = self.sent.pop(0)
            module, function = name.rsplit(".", 1)
            task = {"scoring.tasks": scoring_tasks, "coaching.tasks": coaching_tasks}[module]
            getattr(task, function)(*args)


@pytest.fixture
def queue(settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    broker = Queue()
    monkeypatch.setattr(offline, "current_app", broker)
    return broker


@pytest.fixture
def demo_chain():
    build_chain(stores=6, weeks=26)


def log_in(client, username):
    client.force_login(get_user_model().objects.get(username=username))


def test_the_drivers_api_answers_202_then_serves_what_the_task_computed(client, demo_chain, queue):
    log_in(client, "lead.north")

    first = client.get("/api/v1/drivers/")
    again = client.get("/api/v1/drivers/")

    assert first.status_code == again.status_code == 202
    assert [name for name, _ in queue.sent] == ["scoring.tasks.compute_key_drivers"]  # once
    queue.run_all()
    ready = client.get("/api/v1/drivers/")
    assert ready.status_code == 200
    body = ready.json()
    assert body["computing"] is False and body["computed_at"] and body["stores"] == 6


def test_a_region_page_never_computes_the_impact_in_the_request(
    client, demo_chain, queue, monkeypatch
):
    real = tracking_selectors.coaching_impact
    monkeypatch.setattr(tracking_selectors, "coaching_impact", _must_not_run)
    log_in(client, "lead.north")

    waiting = client.get("/regions/north/").content.decode()

    assert "The figures are being worked out" in waiting
    assert any(name == "coaching.tasks.compute_impact" for name, _ in queue.sent)
    monkeypatch.setattr(tracking_selectors, "coaching_impact", real)
    queue.run_all()
    monkeypatch.setattr(tracking_selectors, "coaching_impact", _must_not_run)
    ready = client.get("/regions/north/").content.decode()
    assert "being worked out" not in ready and "How we tell" in ready


def test_new_inputs_serve_the_newest_result_and_say_from_when(client, demo_chain, queue):
    log_in(client, "lead.north")
    client.get("/regions/north/")
    queue.run_all()
    tip = CoachingTip.objects.filter(plan__store__region__code="north", done_at=None).first()
    CoachingTip.objects.filter(pk=tip.pk).update(done_at=timezone.now())

    stale = client.get("/regions/north/").content.decode()

    assert "The newest figures are being worked out; these are from" in stale
    assert "How we tell" in stale  # the previous report, still shown
    assert [name for name, _ in queue.sent] == ["coaching.tasks.compute_impact"]


def test_the_hourly_refresh_computes_what_is_missing_and_skips_what_is_ready(
    demo_chain, queue, monkeypatch
):
    from coaching.tracking import services

    cache.clear()
    assert refresh_analyses() == 3 + 1  # three regions' impact and the chain's drivers
    checked = []
    is_fresh = services.impact_between_is_fresh
    monkeypatch.setattr(
        services,
        "impact_between_is_fresh",
        lambda ids, **kw: checked.append(ids) or is_fresh(ids, **kw),
    )
    assert refresh_analyses() == 0
    assert queue.sent == []
    assert len(checked) == 3  # once a region, not once a store (it was, at 5,000 stores: 10 min)


def _must_not_run(*args, **kwargs):
    raise AssertionError("the impact bootstrap ran inside a request")
