"""The numbers the pages show, on hand-made data."""

import pytest

from coaching.models import WeeklyPlan
from coaching.tracking.selectors import first_coaching_week, since_coaching
from scoring.models import Category, Role
from scoring.weeks import weeks_back
from tests.factories import MONDAY, StoreFactory, score, user_with_role

pytestmark = pytest.mark.django_db


def test_improvement_since_coaching_compares_the_week_before_the_first_plan_with_now():
    first, second = StoreFactory(), StoreFactory()
    manager = user_with_role(Role.STORE_MANAGER, stores=[first])
    began = weeks_back(MONDAY, 4)
    WeeklyPlan.objects.create(manager=manager, store=first, week=began, status="ready")
    WeeklyPlan.objects.create(manager=manager, store=first, week=MONDAY, status="ready")
    before = weeks_back(began, 1)
    for store, then, now in ((first, 60, 80), (second, 70, 90)):
        score(store, "brand_loyalty", before, then)
        score(store, "brand_loyalty", began, 99)  # the plan's own week is not the baseline
        score(store, "brand_loyalty", MONDAY, now)

    assert first_coaching_week([first.id, second.id]) == began
    loyalty = Category.objects.get(code="brand_loyalty")
    satisfaction = Category.objects.get(code="customer_satisfaction")
    rows = since_coaching([first.id, second.id], [loyalty, satisfaction], began, MONDAY)
    assert [(r.before, r.then, r.now, r.change) for r in rows] == [
        (before, 65.0, 85.0, 20.0),
        (before, None, None, None),
    ]
    assert since_coaching([first.id], [loyalty], None, MONDAY) == []


def test_the_impact_report_is_cached_until_a_tip_changes(monkeypatch):
    from django.utils import timezone

    from coaching.models import CoachingTip
    from coaching.tracking import selectors as dashboards

    store = StoreFactory()
    manager = user_with_role(Role.STORE_MANAGER, stores=[store])
    plan = WeeklyPlan.objects.create(manager=manager, store=store, week=MONDAY, status="ready")
    tip = CoachingTip.objects.create(
        plan=plan, category=Category.objects.get(code="brand_loyalty"), title="t", why="w"
    )
    score(store, "brand_loyalty", MONDAY, 70)
    computed = []
    real = dashboards.coaching_impact
    monkeypatch.setattr(
        dashboards, "coaching_impact", lambda *a, **k: computed.append(1) or real(*a, **k)
    )

    first = dashboards.region_impact([store.id])
    assert dashboards.region_impact([store.id]) == first and len(computed) == 1
    CoachingTip.objects.filter(pk=tip.pk).update(done_at=timezone.now())
    dashboards.region_impact([store.id])
    assert len(computed) == 2


def test_goals_of_a_store_with_no_scores_yet_show_as_no_data():
    import datetime as dt

    from coaching.goals.selectors import goals_with_progress
    from coaching.models import Goal

    store = StoreFactory()
    manager = user_with_role(Role.STORE_MANAGER, stores=[store])
    Goal.objects.create(
        manager=manager,
        store=store,
        category=Category.objects.get(code="team_retention"),
        target_score=70,
        due_date=MONDAY + dt.timedelta(weeks=8),
    )
    [progress] = goals_with_progress(Goal.objects.filter(store=store))
    assert (progress.status, progress.current, progress.target) == ("no_data", None, 70.0)
