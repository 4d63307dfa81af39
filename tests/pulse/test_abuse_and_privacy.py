"""What a flood, a bot, a leaked QR code or a curious manager can and cannot do."""

import pytest
from django.test import Client

from scoring.models import Audience, CategoryScore, Role, Submission
from scoring.pulse import access, selectors, services
from scoring.pulse.scrub import scrub
from scoring.pulse.selectors import local_day
from scoring.weeks import week_start
from tests.factories import StoreFactory, user_with_role

from .conftest import answer

pytestmark = pytest.mark.django_db


def test_a_thousand_answer_flood_from_one_address_moves_the_score_by_a_capped_few(
    link, settings, django_capture_on_commit_callbacks
):
    week = week_start(local_day(link.store))
    questions = list(access.questions_for(Audience.CUSTOMER).filter(scale=5))
    data = {"shown": [q.id for q in questions], "website": ""}
    data |= {f"q{q.id}": 1 for q in questions}  # the flooder's lowest marks
    statuses = []
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(1000):  # a script that drops its cookie every time
            statuses.append(
                Client(REMOTE_ADDR="198.51.100.9").post(f"/p/{link.token}/", data).status_code
            )

    counted = Submission.objects.filter(counted=True).count()
    held_back = Submission.objects.filter(counted=False).count()
    assert counted == settings.PULSE_ADDRESS_DAILY_CAP == 5
    assert statuses.count(429) == 1000 - counted - held_back > 900
    scores = CategoryScore.objects.filter(store=link.store, week=week)
    assert scores and all(s.responses <= 5 for s in scores)
    # The lead sees it.
    lead = user_with_role(Role.REGIONAL_LEAD, regions=[link.store.region])
    lead_client = Client()
    lead_client.force_login(lead)
    page = lead_client.get(f"/pulse/regions/{link.store.region.code}/")
    assert f"{held_back} held back".encode() in page.content
    assert b"1 store had answers held back" in page.content


def test_a_store_wide_rate_limit_refuses_beyond_its_rate(link, settings):
    settings.PULSE_STORE_RATE = "3/h"
    statuses = [
        answer(Client(REMOTE_ADDR=f"192.0.2.{n}"), link.token).status_code for n in range(5)
    ]
    assert statuses == [302, 302, 302, 429, 429]


def test_the_honeypot_thanks_a_bot_and_keeps_nothing(client, link):
    page = client.get(f"/p/{link.token}/")
    question = page.context["form"].questions[0]
    response = client.post(
        f"/p/{link.token}/",
        {"shown": [question.id], f"q{question.id}": 4, "website": "http://spam.example"},
    )
    assert response.status_code == 302
    assert Submission.objects.count() == 0


def test_an_oversized_body_is_refused(client, link):
    response = client.post(f"/p/{link.token}/", {"comment": "x" * 40_000, "website": ""})
    assert response.status_code == 413
    assert Submission.objects.count() == 0


def test_rotating_the_link_retires_the_old_qr_code(client, link, manager):
    client.force_login(manager)
    response = client.post(f"/pulse/stores/{link.store.code}/rotate/customer/")
    assert response.status_code == 302

    new = access.live_links(link.store).get(audience="customer")
    assert new.token != link.token
    retired = Client().get(f"/p/{link.token}/")
    assert retired.status_code == 410 and b"no longer in use" in retired.content
    assert Client().get(f"/p/{new.token}/").status_code == 200
    page = client.get(f"/pulse/stores/{link.store.code}/")
    assert new.token.encode() in page.content and link.token.encode() not in page.content


def test_an_unknown_token_is_not_found(client, link):
    assert client.get("/p/not-a-real-token/").status_code == 404


@pytest.mark.parametrize(
    "written, kept",
    [
        (
            "Great! My name is Sam Jones, mail me at sam.j@example.com",
            "My name is [name], mail me at [email]",
        ),
        ("Call me on +44 7700 900123 about the refund", "Call me on [number] about the refund"),
        ("Ask for Priya, she was lovely. I'm Tom", "Ask for [name], she was lovely. I'm [name]"),
        ("Waited 20 minutes and paid £4.50 for milk", "Waited 20 minutes and paid £4.50 for milk"),
        ("Card 4111 1111 1111 1111 was charged twice", "Card [number] was charged twice"),
        ("See www.example.biz/deals", "See [link]"),
    ],
)
def test_personal_data_is_scrubbed_before_storage(written, kept):
    assert kept in scrub(written, limit=500)


def test_comments_are_scrubbed_when_stored_and_escaped_when_shown(client, link, manager):
    answer(Client(), link.token, comment="<script>alert(1)</script> I am Jo, jo@x.org")
    stored = Submission.objects.get().comment
    assert "jo@x.org" not in stored and "Jo" not in stored

    client.force_login(manager)
    page = client.get(f"/pulse/stores/{link.store.code}/")
    assert b"<script>alert(1)</script>" not in page.content
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in page.content


def _team_answers(store, count, comment="The rota changes too late, schedule is hard"):
    week = week_start(local_day(store))
    questions = list(access.questions_for(Audience.STAFF))
    for _ in range(count):
        services.submit_pulse(
            store=store,
            audience=Audience.STAFF,
            answers={q.id: 4 for q in questions[:4]},
            comment=comment,
            channel="link",
            week=week,
        )
    services.roll_answers()
    return week


def test_four_team_answers_show_nothing(store, manager, client):
    week = _team_answers(store, 4)

    so_far = selectors.week_so_far(store, week)
    assert so_far.staff_answers == 4
    assert all(c.score is None and c.answers == 0 for c in so_far.categories)
    assert so_far.staff_themes == []
    assert not CategoryScore.objects.filter(store=store, category__questions__audience="staff")
    client.force_login(manager)
    page = client.get(f"/pulse/stores/{store.code}/").content.decode()
    assert "The rota changes" not in page and "Shown from 5 team answers" in page


def test_five_team_answers_show_the_aggregate_and_themes_never_the_words(store, manager, client):
    week = _team_answers(store, 5)

    so_far = selectors.week_so_far(store, week)
    assert all(c.score == 75.0 and c.answers == 5 for c in so_far.categories)
    assert ("schedules and hours", 5) in so_far.staff_themes
    scores = CategoryScore.objects.filter(store=store, week=week, source="questionnaire")
    assert {s.responses for s in scores} == {5}
    client.force_login(manager)
    page = client.get(f"/pulse/stores/{store.code}/").content.decode()
    assert "Schedules and hours: 5 comments" in page
    assert "The rota changes too late" not in page  # team comments only in aggregate


def test_who_sees_and_who_runs_a_store_pulse(client, store, manager):
    other_store = StoreFactory(region=store.region)
    lead = user_with_role(Role.REGIONAL_LEAD, regions=[store.region])
    trainer = user_with_role(Role.TRAINER)
    neighbour = user_with_role(Role.STORE_MANAGER, stores=[other_store])
    services.link_for(store, Audience.CUSTOMER)
    url = f"/pulse/stores/{store.code}/"

    client.force_login(lead)
    assert client.get(url).status_code == 200
    assert client.post(f"{url}rotate/customer/").status_code == 403
    assert client.get(f"{url}poster/").status_code == 403
    client.force_login(neighbour)
    assert client.get(url).status_code == 404
    assert client.post(f"{url}rotate/customer/").status_code == 403
    client.force_login(trainer)
    assert client.get(url).status_code == 403
    assert access.live_links(store).count() == 1  # nothing was rotated
    client.force_login(manager)
    poster = client.get(f"{url}poster/")
    assert poster.status_code == 200 and b"<svg" in poster.content


def test_the_week_so_far_costs_the_same_queries_however_many_answers(
    store, django_assert_max_num_queries
):
    week = _team_answers(store, 6)
    with django_assert_max_num_queries(5):
        selectors.week_so_far(store, week)
    _team_answers(store, 30)
    with django_assert_max_num_queries(5):
        selectors.week_so_far(store, week)


def test_an_answer_keeps_the_day_not_the_minute(link):
    answer(Client(), link.token)
    stamp = Submission.objects.get().submitted_at
    assert (stamp.hour, stamp.minute, stamp.second, stamp.microsecond) == (0, 0, 0, 0)
