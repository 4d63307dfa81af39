"""The manager-lead loop: a regional lead reads a store's coaching (plans, tips, the manager's
answers) on its store page and replies or recognises; the manager reads it on their week page,
where it is then marked seen. Scoped like everything personal: another region's lead gets a 404,
a manager cannot reply."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.utils import timezone

from coaching.models import CoachingTip, PlanReply, WeeklyPlan
from coaching.replies import services
from tests.web.conftest import build_chain
from tests.web.test_pages import assert_valid_html

User = get_user_model()


@pytest.fixture
def chain(db):
    build_chain()


def _client(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def _plan(code="S001", newest=0) -> WeeklyPlan:
    plans = WeeklyPlan.objects.filter(store__code=code).exclude(status="pending")
    return plans.order_by("-week")[newest]


def test_a_lead_reads_a_stores_coaching_with_the_managers_answers(chain):
    plan = _plan()
    tip = plan.tips.order_by("order").first()
    CoachingTip.objects.filter(pk=tip.pk).update(
        done_at=timezone.now() - dt.timedelta(weeks=5),
        helpful=False,
        dismissed_reason="already_doing",
        comment="We run this huddle already",
        followup_answer="partly",
    )
    response = _client("lead.north").get("/stores/S001/")
    assert response.status_code == 200
    assert_valid_html(response)
    page = response.content.decode()
    assert "Coaching and answers" in page
    assert f'id="plan-{plan.pk}"' in page and tip.title in page
    assert "Dismissed:</strong> We already do this" in page
    assert "Comment:</strong> We run this huddle already" in page
    assert "Did it work?</strong> Partly" in page
    assert 'class="badge">Not helpful' in page
    assert f'action="/plans/{plan.pk}/replies/"' in page
    assert 'value="/tips/' not in page and "/feedback/" not in page, "the lead answers no tip"


def test_a_lead_replies_and_the_manager_sees_it_once_on_the_week_page(chain):
    plan = _plan()
    tip = plan.tips.order_by("order").first()
    lead = _client("lead.north")
    mail.outbox.clear()
    response = lead.post(
        f"/plans/{plan.pk}/replies/",
        {"kind": "reply", "tip": tip.pk, "body": "Great start, try it on Saturday too"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/stores/S001/#plan-{plan.pk}"
    reply = PlanReply.objects.get(plan=plan)
    assert reply.tip == tip and reply.author.username == "lead.north" and reply.seen_at is None
    assert "Great start, try it on Saturday too" in lead.get("/stores/S001/").content.decode()

    manager = _client("manager.s001")
    response = manager.get("/week/")
    assert_valid_html(response)
    page = response.content.decode()
    assert "From your regional lead" in page
    assert "Great start, try it on Saturday too" in page
    assert f"about “{tip.title}”" in page
    assert ">New<" in page
    assert "Your regional lead wrote to you: read the new message." in page  # above the tips
    assert page.index('href="#replies"') < page.index('id="tips-h"')
    reply.refresh_from_db()
    assert reply.seen_at is not None
    again = manager.get("/week/").content.decode()
    assert ">New<" not in again and "wrote to you" not in again


def test_the_manager_is_emailed_about_a_reply_in_their_language(
    chain, django_capture_on_commit_callbacks
):
    plan = _plan()
    lead = User.objects.get(username="lead.north")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.post_reply(author=lead, plan=plan, body="Well done", kind="recognition")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [plan.manager.email]
    assert "recognised your work" in mail.outbox[0].subject
    assert "Well done" in mail.outbox[0].body and "/week/?store=S001" in mail.outbox[0].body


def test_a_reply_on_a_past_week_shows_on_the_week_page_until_seen(chain):
    past = _plan(newest=2)
    current = _plan()
    lead = User.objects.get(username="lead.north")
    services.post_reply(author=lead, plan=past, body="About that earlier week")
    manager = _client("manager.s001")
    page = manager.get("/week/").content.decode()
    assert "About that earlier week" in page
    assert "about your coaching for" in page
    assert current.replies.count() == 0
    assert "About that earlier week" not in manager.get("/week/").content.decode()


def test_recognition_is_shown_as_recognition(chain):
    plan = _plan()
    _client("lead.north").post(
        f"/plans/{plan.pk}/replies/", {"kind": "recognition", "body": "Your team nailed it"}
    )
    assert PlanReply.objects.get(plan=plan).kind == "recognition"
    page = _client("manager.s001").get("/week/").content.decode()
    assert 'class="reply recognition"' in page and "Recognition" in page


def test_another_regions_lead_cannot_read_or_reply(chain):
    plan = _plan()
    south = _client("lead.south")
    assert south.get("/stores/S001/").status_code == 404
    response = south.post(f"/plans/{plan.pk}/replies/", {"body": "Hello"})
    assert response.status_code == 404
    assert not PlanReply.objects.exists()
    with pytest.raises(services.PermissionDenied):
        services.post_reply(author=User.objects.get(username="lead.south"), plan=plan, body="Hi")


def test_a_manager_sees_their_plans_on_their_store_page_but_cannot_reply(chain):
    plan = _plan()
    manager = _client("manager.s001")
    page = manager.get("/stores/S001/").content.decode()
    assert "Coaching and answers" in page and f'id="plan-{plan.pk}"' in page
    assert "/replies/" not in page
    assert manager.post(f"/plans/{plan.pk}/replies/", {"body": "Hi"}).status_code == 403
    with pytest.raises(services.PermissionDenied):
        services.post_reply(author=User.objects.get(username="manager.s001"), plan=plan, body="x")
    assert not PlanReply.objects.exists()


def test_an_empty_reply_or_a_tip_of_another_plan_is_refused(chain):
    plan = _plan()
    other_tip = _plan(newest=1).tips.first()
    lead = _client("lead.north")
    lead.post(f"/plans/{plan.pk}/replies/", {"body": "   "})
    lead.post(f"/plans/{plan.pk}/replies/", {"body": "Hi", "tip": other_tip.pk})
    lead.post(f"/plans/{plan.pk}/replies/", {"body": "Hi", "kind": "shout"})
    assert not PlanReply.objects.exists()


def _count(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_store_and_week_pages_queries_do_not_grow_with_plans_tips_or_replies(chain):
    lead_user = User.objects.get(username="lead.north")
    lead, manager = _client("lead.north"), _client("manager.s001")
    manager.get("/week/")  # marks the plan read, so the next views are alike
    lead.get("/stores/S001/")  # and computes what the store page keeps of the scores
    before = {
        "store": _count(lead, "/stores/S001/"),
        "store, all weeks": _count(lead, "/stores/S001/?weeks=52"),
        "week": _count(manager, "/week/"),
    }
    plans = list(WeeklyPlan.objects.filter(store__code="S001").exclude(status="pending"))
    for plan in plans:
        for tip in plan.tips.all():
            services.post_reply(author=lead_user, plan=plan, body="On this tip", tip_id=tip.pk)
        services.post_reply(author=lead_user, plan=plan, body="On the plan", kind="recognition")
    WeeklyPlan.objects.filter(store__code="S001").update(read_at=timezone.now())
    manager.get("/week/")  # sees the new replies once, then the week page is as before
    after = {
        "store": _count(lead, "/stores/S001/"),
        "store, all weeks": _count(lead, "/stores/S001/?weeks=52"),
        "week": _count(manager, "/week/"),
    }
    assert PlanReply.objects.count() > len(plans)
    assert after == before
