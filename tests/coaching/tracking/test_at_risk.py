"""One meaning of "at risk", for the region page and the lead's summary email: a store whose ROR
fell beyond its usual noise, or sits at the bottom of its region; goals behind add to the rank and
the reasons but never list a store on their own."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.utils import timezone

from coaching.models import Goal
from coaching.tracking import pages
from coaching.tracking.risk import Reason, assess
from coaching.tracking.services import send_lead_summaries, summary_text
from scoring.models import Category, Region, Store
from scoring.weeks import week_start
from tests.web.conftest import build_chain

STEADY = [70.0, 70.5, 69.8, 70.2, 70.1, 69.9, 70.3, 70.0, 70.4, 69.7, 70.2, 70.0, 70.1, 70.0]


def test_a_fall_beyond_the_stores_noise_is_at_risk_with_its_size_in_the_reason():
    fell = [*STEADY[:-3], 69.0, 67.5, 66.0]
    risks = assess({1: fell, 2: STEADY}, {})
    assert [r.store_id for r in risks] == [1]
    assert risks[0].reasons == [Reason("fell", 4.2, 3)]
    assert risks[0].text == "ROR down 4.2 points in 3 weeks"


def test_the_same_fall_at_a_noisy_store_is_noise():
    noisy = [70, 76, 68, 75, 66, 74, 69, 77, 67, 75, 70, 69, 67.5, 66.0]
    assert assess({1: noisy, 2: STEADY}, {}) == []


def test_goals_behind_alone_never_list_a_store_but_rank_one_that_is_at_risk():
    best, middle, low = [v + 10 for v in STEADY], STEADY, [v - 10 for v in STEADY]
    fell = [*STEADY[:-3], 69.0, 67.5, 66.0]
    risks = assess({1: best, 2: middle, 3: low, 4: fell}, {1: 3, 4: 2})
    assert 1 not in [r.store_id for r in risks], "the region's best store is not at risk"
    by_store = {r.store_id: r for r in risks}
    assert by_store[3].text == "lowest ROR in the region"
    assert by_store[4].text == "ROR down 4.2 points in 3 weeks; 2 goals off track or at risk"


def test_the_bottom_quarter_of_a_larger_region_is_at_risk():
    ror = {n: [v + n for v in STEADY] for n in range(1, 9)}
    risks = assess(ror, {})
    assert [r.store_id for r in risks] == [1, 2]
    assert [str(r.reasons[0]) for r in risks] == [
        "lowest ROR in the region",
        "ROR in the region's bottom quarter",
    ]


def test_two_stores_have_no_lowest_to_speak_of():
    assert assess({1: STEADY, 2: [v - 5 for v in STEADY]}, {}) == []


@pytest.fixture
def north(db):
    build_chain(stores=9)
    region = Region.objects.get(code="north")
    stores = list(Store.objects.filter(region=region).order_by("code"))
    return region, stores


def _off_track_goals(store: Store, count: int) -> None:
    manager = get_user_model().objects.get(profile__stores=store)
    for category in Category.objects.filter(active=True)[:count]:
        Goal.objects.create(
            manager=manager,
            store=store,
            category=category,
            target_score=99,
            due_date=timezone.localdate() + dt.timedelta(weeks=1),
        )


def test_the_page_and_the_email_list_the_same_stores_with_the_same_reasons(north):
    region, stores = north
    page = pages.region_dashboard(region, Store.objects.all())
    best = max(page.rows, key=lambda r: r.ror)
    _off_track_goals(best.store, 3)  # what put the best store on top of "most at risk" before

    page = pages.region_dashboard(region, Store.objects.all())
    listed = [(r.store.code, "; ".join(map(str, r.reasons))) for r in page.at_risk]
    assert best.store.code not in [code for code, _ in listed]
    assert listed, "the region's lowest store is at risk"
    assert all(reason for _, reason in listed)

    text = summary_text("Lee", stores, week_start(timezone.localdate()))
    emailed = text.split("- Most at risk:\n")[1].split("\n- ")[0].splitlines()
    assert [line.strip() for line in emailed[: len(listed)]] == [
        f"{code} {Store.objects.get(code=code).name}: {reason}" for code, reason in listed
    ]
    assert len([line for line in emailed if line.startswith("  ")]) == len(listed)


def test_the_region_page_shows_each_reason(north):
    region, _stores = north
    client = Client()
    client.force_login(get_user_model().objects.get(username="lead.north"))
    page = client.get(f"/regions/{region.code}/").content.decode()
    assert "<th>Reason</th>" in page
    assert "lowest ROR in the region" in page


def test_the_lead_summary_says_why_each_store_is_at_risk(north):
    mail.outbox.clear()
    send_lead_summaries(week_start(timezone.localdate()))
    north_mail = next(m for m in mail.outbox if m.to[0].startswith("lead.north"))
    assert "- Most at risk:" in north_mail.body
    assert "lowest ROR in the region" in north_mail.body
