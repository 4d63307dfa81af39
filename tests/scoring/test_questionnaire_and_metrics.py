from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from scoring.models import CategoryScore, MetricReading, Question, Source
from scoring.services import MetricInput, record_metrics, submit_responses
from tests.factories import MONDAY, StoreFactory

pytestmark = pytest.mark.django_db


def questions(code):
    """The category's 1-5 agreement questions (advocacy also has a 0-10 one)."""
    return list(Question.objects.filter(category__code=code, scale=5).values_list("id", flat=True))


def test_every_category_has_three_default_questions_and_advocacy_a_likelihood_one():
    counts = {q.category.code for q in Question.objects.select_related("category")}
    assert len(counts) == 8
    assert Question.objects.filter(scale=5).count() == 24
    assert Question.objects.get(scale=10).category.code == "customer_advocacy"


def test_team_questions_are_answered_by_the_team_and_the_rest_by_customers():
    team = set(Question.objects.filter(audience="staff").values_list("category__code", flat=True))
    assert team == {"team_engagement", "team_retention", "manager_empowerment", "promotions_roi"}


def test_questionnaire_score_is_mean_answer_rescaled():
    store = StoreFactory()
    q1, q2, q3 = questions("customer_advocacy")
    responses = [{q1: 5, q2: 4, q3: 4}, {q1: 3, q2: 4, q3: 4}]  # mean 4 -> 75

    assert submit_responses(store=store, week=MONDAY, responses=responses) == 2

    saved = CategoryScore.objects.get(store=store, source=Source.QUESTIONNAIRE)
    assert saved.category.code == "customer_advocacy"
    assert saved.score == Decimal("75.0")
    assert saved.responses == 2


def test_later_responses_are_added_to_the_same_week():
    store = StoreFactory()
    [q1, *_] = questions("brand_loyalty")
    submit_responses(store=store, week=MONDAY, responses=[{q1: 5}])
    submit_responses(store=store, week=MONDAY, responses=[{q1: 1}, {q1: 3}])
    saved = CategoryScore.objects.get(store=store)
    assert saved.score == Decimal("50.0")  # mean of 5, 1, 3 = 3
    assert saved.responses == 3


def test_a_team_score_needs_five_respondents_whatever_the_channel(settings):
    store = StoreFactory()
    [q1, *_] = questions("team_engagement")
    submit_responses(store=store, week=MONDAY, responses=[{q1: 4}] * 4)
    assert not CategoryScore.objects.filter(store=store).exists()
    submit_responses(store=store, week=MONDAY, responses=[{q1: 4}])
    assert CategoryScore.objects.get(store=store).responses == settings.PULSE_MIN_STAFF_ANSWERS


@pytest.mark.parametrize("value", [0, 6, "4", None])
def test_answers_outside_one_to_five_are_refused(value):
    store = StoreFactory()
    [q1, *_] = questions("team_engagement")
    with pytest.raises(ValidationError, match="1 to 5"):
        submit_responses(store=store, week=MONDAY, responses=[{q1: 4}, {q1: value}])
    assert not CategoryScore.objects.exists()


def test_unknown_question_and_non_monday_are_refused():
    store = StoreFactory()
    with pytest.raises(ValidationError, match="unknown question"):
        submit_responses(store=store, week=MONDAY, responses=[{999999: 3}])
    with pytest.raises(ValidationError, match="Monday"):
        submit_responses(store=store, week=MONDAY.replace(day=17), responses=[{1: 3}])


def test_metrics_are_normalised_into_their_category():
    store = StoreFactory()
    record_metrics(
        [
            MetricInput(store, MONDAY, "nps", 40, sample_size=90),  # -> 70
            MetricInput(store, MONDAY, "review_rating", 4.6, sample_size=10),  # -> 90
            MetricInput(store, MONDAY, "staff_turnover", 30),  # lower is better -> 75
        ]
    )
    scores = {
        s.category.code: s
        for s in CategoryScore.objects.select_related("category").filter(source=Source.METRIC)
    }
    assert scores["customer_advocacy"].score == Decimal("72.0")  # (70*90 + 90*10) / 100
    assert scores["customer_advocacy"].responses == 100
    assert scores["team_retention"].score == Decimal("75.0")
    assert scores["team_retention"].responses is None
    assert MetricReading.objects.count() == 3


def test_metric_readings_are_upserted():
    store = StoreFactory()
    record_metrics([MetricInput(store, MONDAY, "csat", 3, sample_size=50)])
    record_metrics([MetricInput(store, MONDAY, "csat", 5, sample_size=60)])
    assert MetricReading.objects.get().value == Decimal("5.00")
    assert CategoryScore.objects.get().score == Decimal("100.0")


def test_unknown_metric_is_refused():
    with pytest.raises(ValidationError, match="unknown metric"):
        record_metrics([MetricInput(StoreFactory(), MONDAY, "footfall", 3)])
