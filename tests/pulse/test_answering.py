"""Customers and the team answer by link or kiosk; the scores follow; nothing identifies them."""

from decimal import Decimal

import pytest
from django.test import Client

from scoring.models import Answer, Audience, CategoryScore, Question, Source, Submission
from scoring.pulse import access, selectors, services
from scoring.pulse.selectors import local_day
from scoring.weeks import week_start

from .conftest import answer

pytestmark = pytest.mark.django_db

CUSTOMER_CATEGORIES = {
    "brand_loyalty",
    "customer_satisfaction",
    "customer_advocacy",
    "community_engagement",
}


def test_the_link_asks_one_question_from_each_customer_category(client, link):
    page = client.get(f"/p/{link.token}/")

    assert page.status_code == 200
    asked = page.context["form"].questions
    assert {q.category.code for q in asked} == CUSTOMER_CATEGORIES
    assert b"<script" not in page.content  # answered without JavaScript


def test_an_answer_moves_the_store_score_for_this_week_with_its_response_count(
    client, link, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = answer(client, link.token, value=None)  # top of every scale

    assert response.status_code == 302
    week = week_start(local_day(link.store))
    scores = CategoryScore.objects.filter(store=link.store, week=week, source=Source.QUESTIONNAIRE)
    assert {s.category.code for s in scores} == CUSTOMER_CATEGORIES
    assert all(s.score == Decimal("100.0") and s.responses == 1 for s in scores)


def test_nothing_stored_identifies_the_respondent(link):
    client = Client(REMOTE_ADDR="203.0.113.77", HTTP_USER_AGENT="Secret-Phone/1.0")
    answer(client, link.token, comment="Lovely visit")

    submission = Submission.objects.get()
    assert submission.submitted_by is None
    stored = " ".join(
        str(value)
        for row in (*Submission.objects.values(), *Answer.objects.values())
        for value in row.values()
    )
    assert "203.0.113.77" not in stored and "Secret-Phone" not in stored
    names = {f.name for f in Submission._meta.get_fields()}
    assert not names & {"ip", "ip_address", "user_agent", "user", "device", "respondent"}


def test_one_answer_per_device_a_day(client, link):
    answer(client, link.token)
    again = client.get(f"/p/{link.token}/")

    assert b"already answered today" in again.content
    second = client.post(f"/p/{link.token}/", {"shown": [], "website": ""})
    assert b"already answered today" in second.content
    assert Submission.objects.count() == 1


def test_questions_rotate_so_each_gets_its_turn(link):
    week = week_start(local_day(link.store))
    seen = set()
    for _ in range(3):
        chosen = selectors.choose_questions(link.store, Audience.CUSTOMER, week)
        seen |= {q.id for q in chosen}
        services.submit_pulse(
            store=link.store,
            audience=Audience.CUSTOMER,
            answers={q.id: q.scale for q in chosen},
            channel="link",
            week=week,
        )
    customer_questions = access.questions_for(Audience.CUSTOMER).count()
    assert customer_questions == 13  # three a category, and the 0-10 recommend question
    assert len(seen) == 12  # three rounds of four: no question asked twice


def test_a_zero_to_ten_answer_counts_ten_points_a_step(link, django_capture_on_commit_callbacks):
    nps = Question.objects.get(scale=10)
    week = week_start(local_day(link.store))
    with django_capture_on_commit_callbacks(execute=True):
        services.submit_pulse(
            store=link.store, audience="customer", answers={nps.id: 7}, channel="link", week=week
        )

    score = CategoryScore.objects.get(store=link.store, category=nps.category, week=week)
    assert score.score == Decimal("70.0")


def test_answers_off_the_scale_or_for_the_other_audience_are_refused(client, link):
    team_question = Question.objects.filter(audience="staff").first()
    page = client.get(f"/p/{link.token}/")
    question = page.context["form"].questions[0]

    off_scale = client.post(
        f"/p/{link.token}/", {"shown": [question.id], f"q{question.id}": 9, "website": ""}
    )
    other = client.post(
        f"/p/{link.token}/",
        {"shown": [team_question.id], f"q{team_question.id}": 5, "website": ""},
    )

    assert off_scale.status_code == 400 and other.status_code == 400
    assert Submission.objects.count() == 0


def test_the_kiosk_starts_again_after_each_answer_and_is_not_limited_to_one(store):
    device, key = services.add_device(store, name="Till 1")
    client = Client()
    for _ in range(3):
        page = client.get(f"/k/{key}/")
        form = page.context["form"]
        data = {"shown": [q.id for q in form.questions], "website": ""}
        data |= {f"q{q.id}": q.scale for q in form.questions}
        assert client.post(f"/k/{key}/", data).status_code == 302
    thanks = client.get(f"/k/{key}/?thanks=1")

    assert Submission.objects.filter(channel="kiosk", counted=True).count() == 3
    assert b'http-equiv="refresh"' in thanks.content

    services.retire_device(device)
    assert client.get(f"/k/{key}/").status_code == 404


def test_rolling_twice_changes_nothing(link):
    week = week_start(local_day(link.store))
    questions = list(access.questions_for("customer"))[:2]
    Submission.objects.bulk_create(
        [Submission(store=link.store, week=week, audience="customer", rolled=False)]
    )
    Answer.objects.create(submission=Submission.objects.get(), question=questions[0], value=4)

    assert services.roll_answers() == 1
    first = list(CategoryScore.objects.values_list("score", "responses"))
    assert services.roll_answers() == 0
    Submission.objects.update(rolled=False)
    assert services.roll_answers() == 1
    assert (
        list(CategoryScore.objects.values_list("score", "responses"))
        == first
        == [(Decimal("75.0"), 1)]
    )
