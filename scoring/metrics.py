"""Metric feeds and how each maps onto its ROR category: the one table to read and to change.

Each metric is normalised linearly from [low, high] onto 0-100 and clipped; `higher_is_better`
False flips it (turnover: 0 % is 100 points). Bounds are the realistic range seen across a retail
chain, so a typical store lands mid-scale rather than at an end.
"""

from dataclasses import dataclass

from .maths import normalise


@dataclass(frozen=True)
class MetricSpec:
    code: str
    label: str
    category: str
    low: float
    high: float
    higher_is_better: bool
    unit: str

    def to_score(self, value: float) -> float:
        return normalise(
            value, low=self.low, high=self.high, higher_is_better=self.higher_is_better
        )


METRICS: dict[str, MetricSpec] = {
    spec.code: spec
    for spec in [
        MetricSpec("nps", "Net Promoter Score", "customer_advocacy", -100, 100, True, "NPS"),
        MetricSpec(
            "review_rating", "Average online review", "customer_advocacy", 1, 5, True, "stars"
        ),
        MetricSpec("csat", "Customer satisfaction", "customer_satisfaction", 1, 5, True, "1-5"),
        MetricSpec(
            "repeat_rate", "Customers returning in 30 days", "brand_loyalty", 0, 60, True, "%"
        ),
        MetricSpec("enps", "Employee NPS", "team_engagement", -100, 100, True, "eNPS"),
        MetricSpec(
            "staff_turnover", "Staff turnover, annualised", "team_retention", 0, 120, False, "%"
        ),
        MetricSpec(
            "promotion_lift", "Sales lift over discount cost", "promotions_roi", -20, 40, True, "%"
        ),
        MetricSpec(
            "training_hours",
            "Coaching and training hours per employee per month",
            "manager_empowerment",
            0,
            8,
            True,
            "hours",
        ),
        MetricSpec(
            "community_reach",
            "Customers reached through local, social and email touchpoints",
            "community_engagement",
            0,
            25,
            True,
            "%",
        ),
    ]
}
