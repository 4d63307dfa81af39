"""Mid-week nudges: once per manager and week whatever the deliveries, on the store's own clock,
never in quiet hours, never to a manager who opted out or has nothing open; a lead's nudge by
hand, within its daily limit; and the banner on the manager's week page."""

import datetime as dt
import zoneinfo

import pytest
from django.contrib.messages import get_messages
from django.core.mail.backends import locmem
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from coaching import tasks
from coaching.models import CoachingTip, Nudge, WeeklyPlan
from coaching.nudges import selectors, services
from coaching.nudges.selectors import banner_for, due_nudges, nudge_managers
from coaching.nudges.services import NudgeRefused, nudge_by_lead, send_nudge
from scoring.models import Role
from scoring.weeks import week_start
from tests.factories import MONDAY, RegionFactory, StoreFactory, category, user_with_role

pytestmark = pytest.mark.django_db
WEEK = MONDAY + dt.timedelta(weeks=1)  # 2026-W48; its Thursday is 26 November
THURSDAY = WEEK + dt.timedelta(days=3)
PARIS = "Europe/Paris"


def at(zone: str, hour: int, *, day: dt.date = THURSDAY, minute: int = 15) -> dt.datetime:
    """A moment given on a store's clock, as the UTC time the task sees."""
    local = dt.datetime.combine(day, dt.time(hour, minute), zoneinfo.ZoneInfo(zone))
    return local.astimezone(dt.UTC)


def manager_at(store, *, name="Alex"):
    manager = user_with_role(Role.STORE_MANAGER, stores=[store])
    manager.first_name = name
    manager.email = f"{manager.username}@example.com"
    manager.save()
    return manager


def plan_for(manager, store, *, week=WEEK, tips=2, read=False):
    plan = WeeklyPlan.objects.create(
        manager=manager,
        store=store,
        week=week,
        status=WeeklyPlan.Status.READY,
        read_at=timezone.now() if read else None,
    )
    for order in range(1, tips + 1):
        CoachingTip.objects.create(
            plan=plan,
            category=category("team_retention"),
            order=order,
            title=f"Tip number {order}",
            why="Because.",
            steps=["One step", "Another"],
        )
    return plan


@pytest.fixture
def shop():
    store = StoreFactory(timezone=PARIS, name="Rue de Rivoli")
    manager = manager_at(store)
    plan = plan_for(manager, store)
    return store, manager, plan


class BrokenMailServer(locmem.EmailBackend):
    def send_messages(self, messages):
        raise ConnectionRefusedError("SMTP server down")


class PickyMailServer(locmem.EmailBackend):
    """Refuses mail to anyone whose address starts with "broken"."""

    def send_messages(self, messages):
        if any(to.startswith("broken") for m in messages for to in m.to):
            raise ConnectionRefusedError("mailbox unavailable")
        return super().send_messages(messages)


# --- when a nudge is due ----------------------------------------------------------------------


def test_due_on_the_nudge_weekday_from_the_nudge_hour_the_same_local_day(shop):
    store, manager, _plan = shop
    assert due_nudges(at(PARIS, 10)) == [(manager.id, store.id, WEEK)]
    assert due_nudges(at(PARIS, 15)) == [(manager.id, store.id, WEEK)], "a late tick catches up"
    assert due_nudges(at(PARIS, 9)) == []
    assert due_nudges(at(PARIS, 10, day=THURSDAY - dt.timedelta(days=1))) == []
    assert due_nudges(at(PARIS, 10, day=THURSDAY + dt.timedelta(days=1))) == []


def test_the_store_time_zone_decides(shop, mailoutbox):
    paris, paris_manager, _plan = shop
    new_york = StoreFactory(timezone="America/New_York")
    ny_manager = manager_at(new_york)
    plan_for(ny_manager, new_york)
    morning_in_paris = at(PARIS, 10)  # 04:15 in New York: quiet hours there

    assert due_nudges(morning_in_paris) == [(paris_manager.id, paris.id, WEEK)]
    tasks.send_nudges(morning_in_paris.isoformat())
    assert [m.to for m in mailoutbox] == [[paris_manager.email]]

    morning_in_new_york = at("America/New_York", 10)  # 16:15 in Paris, already nudged
    assert due_nudges(morning_in_new_york) == [(ny_manager.id, new_york.id, WEEK)]
    tasks.send_nudges(morning_in_new_york.isoformat())
    assert [m.to for m in mailoutbox] == [[paris_manager.email], [ny_manager.email]]


def test_quiet_hours_are_respected(shop, settings, mailoutbox):
    store, manager, _plan = shop
    settings.NUDGE_HOUR = 21  # inside the default quiet hours, 20-8
    for hour in (21, 22, 23):
        assert due_nudges(at(PARIS, hour)) == []
        tasks.send_nudges(at(PARIS, hour).isoformat())
    assert send_nudge(manager.id, store.id, WEEK, now=at(PARIS, 21)) is False
    assert mailoutbox == []
    assert not Nudge.objects.exists()

    settings.NUDGE_QUIET_HOURS = ""
    assert due_nudges(at(PARIS, 21)) == [(manager.id, store.id, WEEK)]


def test_an_opted_out_manager_gets_no_nudge(shop, mailoutbox):
    store, manager, _plan = shop
    manager.profile.nudges = False
    manager.profile.save()

    assert due_nudges(at(PARIS, 10)) == []
    assert send_nudge(manager.id, store.id, WEEK, now=at(PARIS, 10)) is False
    assert mailoutbox == []


def test_none_when_every_tip_is_done_or_dismissed_and_the_plan_was_read(shop, mailoutbox):
    _store, _manager, plan = shop
    first, second = plan.tips.order_by("order")
    first.done_at = timezone.now()
    first.save()
    second.dismissed_reason = "Not for us"
    second.save()
    plan.read_at = timezone.now()
    plan.save()

    tasks.send_nudges(at(PARIS, 10).isoformat())
    assert mailoutbox == []


def test_sent_when_the_plan_is_unread_even_with_no_tip_open(shop, mailoutbox):
    store, manager, plan = shop
    plan.tips.update(done_at=timezone.now())

    assert send_nudge(manager.id, store.id, WEEK, now=at(PARIS, 10)) is True
    (mail,) = mailoutbox
    assert mail.subject == "Reminder: your coaching plan for Rue de Rivoli is waiting"
    assert "Your plan for this week is waiting for you." in mail.body


def test_no_nudge_for_a_store_the_manager_left_or_a_plan_still_pending(shop):
    store, manager, plan = shop
    plan.status = WeeklyPlan.Status.PENDING
    plan.save()
    assert due_nudges(at(PARIS, 10)) == []
    plan.status = WeeklyPlan.Status.FALLBACK
    plan.save()
    assert due_nudges(at(PARIS, 10)) == [(manager.id, store.id, WEEK)]
    manager.profile.stores.set([StoreFactory(timezone=PARIS)])
    assert due_nudges(at(PARIS, 10)) == []


# --- once per manager and week --------------------------------------------------------------


def test_the_email_lists_the_open_tips_and_links_to_the_week(shop, settings, mailoutbox):
    store, manager, plan = shop
    settings.SITE_URL = "https://coach.example.com"
    plan.tips.filter(order=1).update(done_at=timezone.now())
    plan_for(manager, store, week=WEEK - dt.timedelta(weeks=1))  # last week's: not mentioned

    send_nudge(manager.id, store.id, WEEK, now=at(PARIS, 10))

    (mail,) = mailoutbox
    assert mail.to == [manager.email]
    assert mail.subject == "Reminder: 1 open tip this week at Rue de Rivoli"
    assert mail.body.startswith("Hi Alex,\n")
    assert "1 tip is still open:\n- Tip number 2\n" in mail.body
    assert "Tip number 1" not in mail.body
    assert f"https://coach.example.com/week/?store={store.code}" in mail.body
    assert "https://coach.example.com/settings/" in mail.body
    assert "&amp;" not in mail.body


def test_once_per_manager_and_week_when_the_task_is_delivered_twice(shop, mailoutbox):
    store, manager, _plan = shop
    now = at(PARIS, 10).isoformat()

    assert tasks.send_nudges(now) == 1
    assert tasks.send_nudges(now) == 0  # a redelivery finds nothing due
    assert tasks.send_one_nudge(manager.id, store.id, WEEK.isoformat(), now) is False
    assert tasks.send_nudges(at(PARIS, 11).isoformat()) == 0

    assert len(mailoutbox) == 1
    nudge = Nudge.objects.get()
    assert (nudge.kind, nudge.attempts, nudge.open_tips) == (Nudge.Kind.SCHEDULED, 1, 2)
    assert nudge.sent_at == at(PARIS, 10)


def test_once_when_send_nudge_is_called_twice(shop, mailoutbox):
    store, manager, _plan = shop
    assert send_nudge(manager.id, store.id, WEEK, now=at(PARIS, 10)) is True
    assert send_nudge(manager.id, store.id, WEEK, now=at(PARIS, 10)) is False
    assert len(mailoutbox) == 1
    assert Nudge.objects.get().attempts == 1


def test_a_failed_send_stays_unsent_and_the_retry_sends_exactly_once(shop, settings, mailoutbox):
    store, manager, _plan = shop
    settings.EMAIL_BACKEND = f"{__name__}.BrokenMailServer"

    with pytest.raises(OSError):
        send_nudge(manager.id, store.id, WEEK, now=at(PARIS, 10))
    nudge = Nudge.objects.get()
    assert nudge.sent_at is None and nudge.attempts == 1
    assert due_nudges(at(PARIS, 11)) == [(manager.id, store.id, WEEK)], "still due that day"

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert send_nudge(manager.id, store.id, WEEK, now=at(PARIS, 11)) is True
    assert send_nudge(manager.id, store.id, WEEK, now=at(PARIS, 11)) is False
    assert len(mailoutbox) == 1
    nudge.refresh_from_db()
    assert nudge.sent_at == at(PARIS, 11) and nudge.attempts == 2


def test_one_managers_mail_failure_does_not_stop_the_others(shop, settings, mailoutbox):
    _store, manager, _plan = shop
    other_store = StoreFactory(timezone=PARIS)
    unlucky = manager_at(other_store)
    unlucky.email = "broken@example.com"
    unlucky.save()
    plan_for(unlucky, other_store)
    settings.EMAIL_BACKEND = f"{__name__}.PickyMailServer"

    # Eager mode: the unlucky one's task asks for a retry (a worker would run it with backoff),
    # which reaches send_nudges as an error of that nudge alone; the other one is sent.
    assert tasks.send_nudges(at(PARIS, 10).isoformat()) == 1
    assert [m.to for m in mailoutbox] == [[manager.email]]
    failed = Nudge.objects.get(manager=unlucky)
    assert failed.sent_at is None and failed.attempts == 1

    unlucky.email = "fixed@example.com"
    unlucky.save()
    assert tasks.send_nudges(at(PARIS, 11).isoformat()) == 1, "only the failed one is tried again"
    assert [m.to for m in mailoutbox] == [[manager.email], ["fixed@example.com"]]


# --- the manager's language -------------------------------------------------------------------


def test_the_subject_is_translated_in_the_managers_language(shop, monkeypatch):
    """Without compiled catalogues the words stay English: this checks the language active when
    the subject goes through gettext."""
    store, manager, _plan = shop
    manager.profile.language = "fr"
    manager.profile.save()
    seen = []
    real = services.ngettext

    def spy(singular, plural, count):
        seen.append(translation.get_language())
        return real(singular, plural, count)

    monkeypatch.setattr(services, "ngettext", spy)
    send_nudge(manager.id, store.id, WEEK, now=at(PARIS, 10))
    assert seen == ["fr"]


def test_a_french_store_manager_gets_the_subject_in_french(mailoutbox):
    store = StoreFactory(timezone=PARIS, name="Rivoli", language="fr")
    manager = manager_at(store)
    plan_for(manager, store)

    send_nudge(manager.id, store.id, WEEK, now=at(PARIS, 10))

    (mail,) = mailoutbox
    assert mail.subject == "Rappel : 2 conseils encore à faire cette semaine pour Rivoli"
    assert mail.body.startswith("Bonjour") and "paramètres" in mail.body


# --- at 5,000 stores --------------------------------------------------------------------------


def _count_queries(stores: int) -> int:
    region = RegionFactory()
    for number in range(stores):
        store = StoreFactory(
            region=region, timezone=(PARIS, "Europe/Berlin", "Europe/Rome")[number % 3]
        )
        plan_for(manager_at(store), store, tips=1)
    with CaptureQueriesContext(connection) as queries:
        due = due_nudges(at(PARIS, 10))
    assert len(due) == stores
    return len(queries)


def test_finding_the_due_nudges_costs_the_same_queries_for_5_or_20_stores():
    few = _count_queries(5)
    WeeklyPlan.objects.all().delete()
    many = _count_queries(20)
    assert few == many <= 3


# --- a lead's nudge ---------------------------------------------------------------------------


@pytest.fixture
def region_now(settings):
    """A store on UTC with this week's plan, its manager and its lead; no quiet hours, so a page
    request at any real time of day may nudge."""
    settings.NUDGE_QUIET_HOURS = ""
    region = RegionFactory()
    store = StoreFactory(region=region, timezone="UTC", name="Leeds")
    manager = manager_at(store, name="Robin")
    plan_for(manager, store, week=week_start(timezone.now().date()))
    lead = user_with_role(Role.REGIONAL_LEAD, regions=[region])
    lead.first_name, lead.last_name = "Kim", "Lead"
    lead.save()
    return store, manager, lead


def post_nudge(client, user, store, manager):
    client.force_login(user)
    url = reverse("store-nudge", kwargs={"code": store.code})
    response = client.post(url, {"manager": manager.pk})
    return response, [str(m) for m in get_messages(response.wsgi_request)]


def test_a_lead_may_nudge_once_then_is_refused_within_24_hours(client, region_now, mailoutbox):
    store, manager, lead = region_now

    response, said = post_nudge(client, lead, store, manager)
    assert response.status_code == 302
    assert response["Location"] == reverse("store", kwargs={"code": store.code})
    assert said == ["Robin has been sent a reminder."]
    (mail,) = mailoutbox
    assert mail.subject == "Kim Lead asked you to look at your coaching for Leeds"
    assert "Kim Lead asked you to look at your coaching for Leeds this week." in mail.body
    assert "Tip number 1" in mail.body

    response, said = post_nudge(client, lead, store, manager)
    assert response.status_code == 302
    # (the first message is still queued: the test did not follow the redirect to show it)
    assert said[-1] == "Robin was already nudged in the last 24 hours: once a day at most."
    assert len(mailoutbox) == 1
    nudge = Nudge.objects.get()
    assert (nudge.kind, nudge.sent_by) == (Nudge.Kind.LEAD, lead)


def this_tuesday(hour: int) -> dt.datetime:
    """A moment in the real current week (the one `region_now` made a plan for), in UTC."""
    tuesday = week_start(timezone.now().date()) + dt.timedelta(days=1)
    return dt.datetime.combine(tuesday, dt.time(hour), dt.UTC)


def test_the_lead_limit_is_a_rolling_day(region_now, mailoutbox):
    store, manager, lead = region_now
    nudge_by_lead(lead, store, manager, now=this_tuesday(10))
    with pytest.raises(NudgeRefused, match="already nudged"):
        nudge_by_lead(lead, store, manager, now=this_tuesday(10) + dt.timedelta(hours=23))
    nudge_by_lead(lead, store, manager, now=this_tuesday(10) + dt.timedelta(hours=24, minutes=1))
    assert len(mailoutbox) == 2


def test_the_lead_limit_is_a_setting(region_now, settings, mailoutbox):
    store, manager, lead = region_now
    settings.NUDGE_LEAD_PER_DAY = 2
    for minutes in (0, 5):
        nudge_by_lead(lead, store, manager, now=this_tuesday(10) + dt.timedelta(minutes=minutes))
    with pytest.raises(NudgeRefused, match="2 times in the last 24 hours"):
        nudge_by_lead(lead, store, manager, now=this_tuesday(11))
    assert len(mailoutbox) == 2


def test_a_lead_is_refused_in_quiet_hours_and_when_nothing_is_open(region_now, settings):
    store, manager, lead = region_now
    settings.NUDGE_QUIET_HOURS = "20-8"
    with pytest.raises(NudgeRefused, match="It is 22:00 at Leeds, in the quiet hours"):
        nudge_by_lead(lead, store, manager, now=this_tuesday(22))

    CoachingTip.objects.update(done_at=timezone.now())
    WeeklyPlan.objects.update(read_at=timezone.now())
    with pytest.raises(NudgeRefused, match="Nothing is open for Robin"):
        nudge_by_lead(lead, store, manager, now=this_tuesday(10))
    assert not Nudge.objects.exists()


def test_a_lead_mail_failure_leaves_no_nudge_behind(client, region_now, settings, mailoutbox):
    store, manager, lead = region_now
    settings.EMAIL_BACKEND = f"{__name__}.BrokenMailServer"
    _response, said = post_nudge(client, lead, store, manager)
    assert said == ["The email could not be sent. Please try again later."]
    assert not Nudge.objects.exists(), "a failure does not count against the limit"


def test_another_regions_lead_gets_404_and_a_manager_403(client, region_now, mailoutbox):
    store, manager, _lead = region_now
    stranger = user_with_role(Role.REGIONAL_LEAD, regions=[RegionFactory()])
    assert post_nudge(client, stranger, store, manager)[0].status_code == 404
    assert post_nudge(client, manager, store, manager)[0].status_code == 403
    assert not Nudge.objects.exists() and mailoutbox == []


def test_the_nudge_takes_a_post_a_manager_of_the_store_and_a_csrf_token(client, region_now):
    store, manager, lead = region_now
    url = reverse("store-nudge", kwargs={"code": store.code})
    client.force_login(lead)
    assert client.get(url).status_code == 405
    assert client.post(url, {"manager": "x"}).status_code == 404
    outsider = manager_at(StoreFactory(region=store.region))
    assert client.post(url, {"manager": outsider.pk}).status_code == 404

    strict = type(client)(enforce_csrf_checks=True)
    strict.force_login(lead)
    assert strict.post(url, {"manager": manager.pk}).status_code == 403
    assert not Nudge.objects.exists()


def test_the_store_page_button_lists_the_managers_for_leads_only(region_now):
    store, manager, lead = region_now
    assert nudge_managers(lead, store) == [manager]
    assert nudge_managers(manager, store) == []
    assert (
        nudge_managers(user_with_role(Role.REGIONAL_LEAD, regions=[RegionFactory()]), store) == []
    )

    html = render_to_string(
        "coaching/_nudge_button.html", {"store": store, "nudge_managers": [manager]}
    )
    assert f'action="{reverse("store-nudge", kwargs={"code": store.code})}"' in html
    assert f'name="manager" value="{manager.pk}"' in html
    assert "Nudge Robin" in html
    assert render_to_string("coaching/_nudge_button.html", {"store": store}).strip() == ""


# --- the banner -------------------------------------------------------------------------------


def test_the_banner_shows_the_open_tips_after_a_nudge_this_week(shop):
    store, manager, plan = shop
    assert banner_for(manager, store, WEEK) is None, "no nudge yet"

    send_nudge(manager.id, store.id, WEEK, now=at(PARIS, 10))
    assert banner_for(manager, store, WEEK) == 2
    assert banner_for(manager, store, WEEK - dt.timedelta(weeks=1)) is None
    assert banner_for(manager, store, None) is None

    plan.tips.update(done_at=timezone.now())
    assert banner_for(manager, store, WEEK) is None, "all done: no banner"


def test_the_banner_partial_says_how_many_tips_are_open():
    html = render_to_string("coaching/_nudge_banner.html", {"nudge_open_tips": 2})
    assert '<p class="notice" role="status">' in html
    assert "2 tips of this week are still open" in html
    one = render_to_string("coaching/_nudge_banner.html", {"nudge_open_tips": 1})
    assert "1 tip of this week is still open" in one
    assert render_to_string("coaching/_nudge_banner.html", {"nudge_open_tips": None}).strip() == ""


def test_quiet_hours_span_midnight(settings):
    settings.NUDGE_QUIET_HOURS = "20-8"
    hours = [h for h in range(24) if selectors.in_quiet_hours(dt.datetime(2026, 1, 1, h))]
    assert hours == [0, 1, 2, 3, 4, 5, 6, 7, 20, 21, 22, 23]
    settings.NUDGE_QUIET_HOURS = "13-14"
    assert [h for h in range(24) if selectors.in_quiet_hours(dt.datetime(2026, 1, 1, h))] == [13]
