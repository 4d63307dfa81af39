"""Focus selection on hand-built cases: which categories a manager works on, and why."""

import datetime as dt

import pytest

from coaching.plans.focus import GoalTarget, rank_categories
from scoring.models import Category
from scoring.selectors import CategoryTrend

pytestmark = pytest.mark.django_db
WEEK = dt.date(2026, 11, 16)


def trend(code, score, *, change=None, slope=None, noise=1.0, significant=False, median=70.0,
          top=80.0, low_confidence=False):  # fmt: skip
    return CategoryTrend(
        category=Category.objects.get(code=code),
        week=WEEK,
        score=score,
        responses=30,
        low_confidence=low_confidence,
        change=change,
        moving_average=score,
        slope=slope,
        noise=noise,
        significant=significant,
        region_percentile=50.0,
        chain_percentile=50.0,
        region_median=median,
        chain_median=median,
        chain_top_quartile=top,
    )


def codes(focus):
    return [f.trend.category.code for f in focus]


def test_a_sharp_decline_beats_a_stable_low_score():
    trends = [
        trend("customer_advocacy", 64.0, change=-9.5, slope=-0.8, significant=True),
        trend("team_retention", 62.0, change=0.2, slope=0.0),  # lower, but stable
        trend("brand_loyalty", 75.0, change=0.5, slope=0.1),
    ]
    focus = rank_categories(trends, goals={})
    assert codes(focus)[:2] == ["customer_advocacy", "team_retention"]
    assert focus[0].situation == "declining"
    assert focus[0].reason == (
        "Customer advocacy fell 9.5 points last week to 64.0, beyond this store's usual "
        "week-to-week movement of 1.0, the largest drop in the region."
    )


def test_the_reason_does_not_claim_the_largest_drop_when_another_store_fell_more():
    trends = [trend("customer_advocacy", 64.0, change=-9.5, significant=True)]
    [focus] = rank_categories(trends, goals={}, region_drops={"customer_advocacy": 12.0})
    assert "largest drop" not in focus.reason


def test_a_drop_within_the_noise_is_not_a_decline():
    trends = [
        trend("customer_advocacy", 69.0, change=-4.0, significant=False),
        trend("team_retention", 60.0),
    ]
    assert codes(rank_categories(trends, goals={})) == ["team_retention", "customer_advocacy"]


def test_a_goal_pulls_its_category_into_focus_with_the_goal_in_the_reason():
    trends = [trend("customer_satisfaction", 72.0), trend("team_retention", 66.0)]
    goals = {"customer_satisfaction": GoalTarget("customer_satisfaction", 80.0, "20 Dec 2026")}
    focus = rank_categories(trends, goals=goals)
    assert codes(focus) == ["customer_satisfaction", "team_retention"]
    assert focus[0].situation == "goal"
    # Above the chain median and the store's best: a strength, coached for the goal, as it says.
    assert focus[0].reason == (
        "Your goal is 80.0 by 20 Dec 2026; Customer satisfaction is at 72.0 (8.0 points to go). "
        "It is one of this store's strengths; your goal is why it is in focus."
    )


def test_above_95_and_low_confidence_are_never_a_focus_on_their_own():
    trends = [
        trend("community_engagement", 96.0, median=99.0, top=99.5),
        trend("promotions_roi", 30.0, change=-20.0, significant=False, low_confidence=True),
        trend("brand_loyalty", 65.0),
    ]
    assert codes(rank_categories(trends, goals={})) == ["brand_loyalty"]
    goals = {"promotions_roi": GoalTarget("promotions_roi", 60.0, "1 Feb 2027")}
    assert "promotions_roi" in codes(rank_categories(trends, goals=goals))


def test_recently_coached_categories_without_new_data_are_halved():
    trends = [trend("team_retention", 60.0), trend("brand_loyalty", 62.0)]
    assert codes(rank_categories(trends, goals={}))[0] == "team_retention"
    again = rank_categories(trends, goals={}, recently_coached={"team_retention"})
    assert codes(again)[0] == "brand_loyalty"


def test_impact_weights_scale_priorities():
    trends = [trend("team_retention", 60.0), trend("brand_loyalty", 62.0)]
    focus = rank_categories(trends, goals={}, impact={"brand_loyalty": 3.0})
    assert codes(focus)[0] == "brand_loyalty"


def test_at_most_three_and_a_store_doing_well_still_gets_one():
    trends = [trend(c.code, 50.0 + i) for i, c in enumerate(Category.objects.all())]
    assert len(rank_categories(trends, goals={})) == 3
    strong = [trend(c.code, 90.0 + i * 0.1) for c in Category.objects.all() for i in [1]]
    [only] = rank_categories(strong, goals={})
    assert only.situation == "steady"
    assert "lowest category" in only.reason
