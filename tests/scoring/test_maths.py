import pytest

from scoring import maths
from scoring.metrics import METRICS


def test_questionnaire_score_maps_one_to_five_onto_zero_to_hundred():
    assert maths.questionnaire_score(1) == 0
    assert maths.questionnaire_score(3) == 50
    assert maths.questionnaire_score(5) == 100
    assert maths.questionnaire_score(4.2) == pytest.approx(80)
    with pytest.raises(ValueError):
        maths.questionnaire_score(0.5)


def test_normalise_is_linear_clipped_and_can_flip_direction():
    assert maths.normalise(0, low=-100, high=100) == 50
    assert maths.normalise(40, low=-100, high=100) == 70
    assert maths.normalise(250, low=-100, high=100) == 100
    assert maths.normalise(-300, low=-100, high=100) == 0
    # turnover: lower is better, 30 % on 0..120 is three quarters of the way to the best
    assert maths.normalise(30, low=0, high=120, higher_is_better=False) == 75


def test_every_metric_maps_to_a_real_category():
    codes = {
        "brand_loyalty", "customer_satisfaction", "customer_advocacy", "team_engagement",
        "team_retention", "promotions_roi", "manager_empowerment", "community_engagement",
    }  # fmt: skip
    assert {spec.category for spec in METRICS.values()} == codes
    assert METRICS["nps"].to_score(20) == 60
    assert METRICS["csat"].to_score(4.5) == 87.5
    assert METRICS["staff_turnover"].to_score(60) == 50


def test_ror_renormalises_weights_over_the_categories_present():
    weights = {"a": 1, "b": 1, "c": 2}
    assert maths.ror({"a": 60, "b": 80, "c": 70}, weights) == 70  # (60 + 80 + 140) / 4
    # c missing: weights of a and b now sum to 1 between them
    assert maths.ror({"a": 60, "b": 80}, weights) == 70
    assert maths.ror({"c": 40, "a": 100}, weights) == 60  # (100 + 80) / 3
    assert maths.ror({}, weights) is None
    assert maths.ror({"zzz": 50}, weights) is None


def test_combine_sources_weighs_by_responses_and_treats_unknown_as_minimum():
    assert maths.combine_sources([(80, 30), (60, 10)], unknown_weight=5) == 75
    assert maths.combine_sources([(80, None), (50, 5)], unknown_weight=5) == 65


def test_slope_is_least_squares_points_per_week():
    assert maths.slope([(0, 50), (1, 52), (2, 54), (3, 56)]) == pytest.approx(2)
    assert maths.slope([(0, 50), (1, 60), (2, 50)]) == pytest.approx(0)
    assert maths.slope([(0, 50), (1, 52)]) is None


def test_noise_and_significance():
    changes = [1, -1, 1, -1]
    assert maths.noise(changes) == pytest.approx(1.1547, abs=1e-4)
    assert maths.noise([1, 2, 3]) is None
    assert maths.is_significant(5, 1.1547, sigmas=2, floor=1)
    assert not maths.is_significant(2, 1.1547, sigmas=2, floor=1)
    # a flat history still needs a change beyond the floor
    assert not maths.is_significant(1.5, 0.0, sigmas=2, floor=1)
    assert maths.is_significant(2.5, 0.0, sigmas=2, floor=1)
    assert not maths.is_significant(50, None, sigmas=2, floor=1)


def test_percentile_rank_and_quantiles():
    population = [10, 20, 30, 40]
    assert maths.Benchmark(population).rank(30) == 62.5  # 2 below, 1 equal: (2 + .5) / 4
    assert maths.Benchmark(population).rank(5) == 0
    assert maths.Benchmark([]).rank(5) is None
    assert maths.quantile(population, 0.5) == 25
    assert maths.quantile(population, 0.75) == 32.5
    assert maths.quantile([7], 0.75) == 7
    assert maths.quantile([], 0.5) is None
