import csv
import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from coaching.models import CoachingTip, WeeklyPlan
from scoring.models import Answer, CategoryScore, MetricReading, Profile, Store, Submission
from scoring.selectors import latest_scored_week, strengths_and_opportunities, weekly_ror
from scoring.weeks import week_start, weeks_back

pytestmark = pytest.mark.django_db


def counts():
    return (
        Store.objects.count(),
        Submission.objects.count(),
        Answer.objects.count(),
        MetricReading.objects.count(),
        CategoryScore.objects.count(),
        Profile.objects.count(),
    )


def test_demo_builds_a_scored_chain_and_is_idempotent():
    out = io.StringIO()
    call_command("demo", "--stores", "6", "--weeks", "8", "--seed", "3", stdout=out)
    first = counts()
    scores_first = sorted(
        CategoryScore.objects.values_list("store__code", "week", "source", "score")
    )

    call_command("demo", "--stores", "6", "--weeks", "8", "--seed", "3", stdout=io.StringIO())

    assert counts() == first
    assert sorted(CategoryScore.objects.values_list("store__code", "week", "source", "score")) == (
        scores_first
    )
    stores, submissions, answers, _readings, scores, profiles = first
    assert stores == 6
    assert answers == submissions * 24
    # Every category from questionnaire and metrics, every week, except the team categories'
    # questionnaire scores in weeks with fewer than five respondents (anonymity).
    small_weeks = (
        Submission.objects.values("store", "week")
        .annotate(n=Count("id"))
        .filter(n__lt=settings.PULSE_MIN_STAFF_ANSWERS)
        .count()
    )
    assert scores == 6 * 8 * 8 * 2 - small_weeks * 4
    assert profiles == 6 + 3 + 2  # managers, leads, admin and trainer
    text = out.getvalue()
    assert "manager.s001" in text and "lead.north" in text and "ror-demo-2026" in text


def test_demo_trajectories_differ_between_stores():
    call_command("demo", "--stores", "5", "--weeks", "12", stdout=io.StringIO())
    week = latest_scored_week()
    first_week = weeks_back(week, 11)
    ror = {(p.store_id, p.week): p.ror for p in weekly_ror(start=first_week, end=week)}
    improving, declining, collapsing = (Store.objects.get(code=c) for c in ("S001", "S002", "S005"))

    assert len({ror[(s.id, week)] for s in Store.objects.all()}) == 5
    assert ror[(improving.id, week)] > ror[(improving.id, first_week)] + 3
    assert ror[(declining.id, week)] < ror[(declining.id, first_week)] - 3
    drops = strengths_and_opportunities(collapsing, week).largest_drops
    assert drops and drops[0].change < -5, "one category of the collapsing store falls hard"


def test_quickstart_no_serve_migrates_and_loads_demo_once(monkeypatch):
    out = io.StringIO()
    call_command("quickstart", "--no-serve", stdout=out)
    assert "Demo chain: 24 stores" in out.getvalue()
    assert "24 created" in out.getvalue()
    managers = Profile.objects.filter(role="store_manager").count()
    assert WeeklyPlan.objects.filter(week=week_start(timezone.localdate())).count() == managers
    assert not WeeklyPlan.objects.exclude(status=WeeklyPlan.Status.READY).exists()
    assert CoachingTip.objects.filter(plan__week=week_start(timezone.localdate())).count() >= 24
    # Past coaching, with its effect in the scores, so impact shows on the first run.
    assert "72 past weekly plans added" in out.getvalue()
    assert "Coaching impact (difference in differences" in out.getvalue()
    # The demo's sales follow satisfaction most: the driver analysis says so.
    drivers = out.getvalue().split("sales change over 4 weeks", 1)[1].splitlines()
    assert drivers[1].split()[0] == "customer_satisfaction"
    again = io.StringIO()
    call_command("quickstart", "--no-serve", stdout=again)
    assert "already present" in again.getvalue()
    assert "0 past weekly plans added" in again.getvalue()
    assert Store.objects.count() == 24


def test_the_demo_impact_recovers_its_injected_effect():
    from coaching.demo import create_demo_history, load_demo_modules
    from coaching.tracking.selectors import coaching_impact
    from scoring.demo import DEMO_COACHING_EFFECT

    call_command("demo", stdout=io.StringIO())
    load_demo_modules()
    assert create_demo_history() == 72
    done = CoachingTip.objects.filter(plan__week__lt=week_start(timezone.localdate()))
    assert done.filter(done_at__isnull=False).count() == 47

    this_week = week_start(timezone.localdate())
    report = coaching_impact(
        list(Store.objects.values_list("id", flat=True)),
        start=weeks_back(this_week, 26),
        end=this_week,
    )

    assert report.tips_done.low <= DEMO_COACHING_EFFECT <= report.tips_done.high
    assert report.tips_done.low > 0
    assert report.tips_not_done.low <= 0 <= report.tips_not_done.high
    out = io.StringIO()
    call_command("impact", "--csv", "-", stdout=out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert rows[1]["group"] == "tips done"
    assert float(rows[1]["effect"]) == report.tips_done.effect
    assert int(rows[0]["events"]) == 72


@pytest.mark.postgres
def test_postgres_run_really_uses_postgres():
    assert connection.vendor == "postgresql"
    assert connection.pg_version >= 130000
