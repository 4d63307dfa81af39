"""The store report (issue 12): strengths at or above the chain median, opportunities only below
it, largest drops only beyond the store's usual week-to-week movement."""

import pytest

from scoring.selectors import strengths_and_opportunities
from scoring.weeks import weeks_back
from tests.factories import MONDAY, RegionFactory, StoreFactory, score

pytestmark = pytest.mark.django_db

# code: (the store's usual score, its score this week, the two other stores' this week)
CHAIN = {
    "brand_loyalty": (80.0, 80.0, (70.0, 75.0)),
    "community_engagement": (85.0, 77.5, (70.0, 70.0)),  # -8.0: far beyond its usual movement
    "team_engagement": (76.0, 75.0, (70.0, 70.0)),  # -1.5: an ordinary week
    "customer_satisfaction": (72.0, 72.0, (60.0, 65.0)),
    "customer_advocacy": (74.0, 73.0, (80.0, 85.0)),  # 7 points under the chain median
    "team_retention": (75.0, 75.0, (76.0, 77.0)),  # 1 point under it
    "manager_empowerment": (71.0, 71.0, (71.0, 71.0)),  # at the chain median
    "promotions_roi": (70.0, 70.0, (60.0, 60.0)),  # the store's lowest, well above the chain's
}


@pytest.fixture
def store():
    region = RegionFactory()
    store, *others = StoreFactory.create_batch(3, region=region)
    for code, (usual, now, peers) in CHAIN.items():
        score(store, code, MONDAY, now)
        for i in range(1, 7):  # six weeks moving half a point: the store's usual movement
            score(store, code, weeks_back(MONDAY, i), usual + (0.5 if i % 2 else 0.0))
        for other, value in zip(others, peers, strict=True):
            score(other, code, MONDAY, value)
    return store


def report_codes(items) -> list[str]:
    return [t.category.code for t in items]


def test_opportunities_are_only_categories_below_the_chain_median_largest_shortfall_first(store):
    report = strengths_and_opportunities(store, MONDAY)

    assert report_codes(report.opportunities) == ["customer_advocacy", "team_retention"]
    assert all(t.score < t.chain_median for t in report.opportunities)
    # The store's lowest score is no opportunity when the chain does worse.
    assert "promotions_roi" not in report_codes(report.opportunities)


def test_strengths_are_the_best_categories_at_or_above_the_chain_median(store):
    report = strengths_and_opportunities(store, MONDAY)

    assert report_codes(report.strengths) == [
        "brand_loyalty",
        "community_engagement",
        "team_engagement",
    ]
    assert not set(report_codes(report.strengths)) & set(report_codes(report.opportunities))


def test_largest_drops_are_only_those_beyond_the_stores_noise(store):
    report = strengths_and_opportunities(store, MONDAY)

    assert [(t.category.code, t.change) for t in report.largest_drops] == [
        ("community_engagement", -8.0)
    ]  # team engagement and advocacy fell 1.5: an ordinary week here
