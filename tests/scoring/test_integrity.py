"""Integrity of the scores (issue 15): who may submit questionnaire responses, the audit trail of
every write that changes a score, the back-dating window, and role changes made in the admin."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.test import Client
from rest_framework.test import APIClient

from scoring.imports import import_scores
from scoring.kpis import import_kpis
from scoring.models import (
    CategoryScore,
    ChangeKind,
    KpiReading,
    Question,
    Role,
    ScoreChange,
    Submission,
)
from scoring.services import MetricInput, assign_role, record_metrics, submit_responses
from scoring.weeks import week_label, week_start, weeks_back
from tests.factories import RegionFactory, StoreFactory, UserFactory, user_with_role

pytestmark = pytest.mark.django_db
THIS_WEEK = week_start(dt.date.today())
LAST_WEEK = weeks_back(THIS_WEEK, 1)


@pytest.fixture
def store():
    return StoreFactory(region=RegionFactory(code="north"), code="OWN")


@pytest.fixture
def question() -> int:
    return Question.objects.filter(active=True).values_list("id", flat=True).first()


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def integration_account():
    user = UserFactory(username="till-feed")
    user.save()
    user.groups.add(Group.objects.get(name="Integrations"))
    return user


def answers(store, question, week=LAST_WEEK, respondents=1) -> dict:
    return {
        "store": store.code,
        "week": week_label(week),
        "responses": [{str(question): 4}] * respondents,
    }


# --- 1. who may submit questionnaire responses ------------------------------------------------


def test_store_managers_and_leads_may_not_submit_the_scores_they_are_judged_on(store, question):
    manager = user_with_role(Role.STORE_MANAGER, stores=[store])
    lead = user_with_role(Role.REGIONAL_LEAD, regions=[store.region])
    for person in (manager, lead, user_with_role(Role.TRAINER)):
        response = api(person).post(
            "/api/v1/questionnaire-responses/", answers(store, question), format="json"
        )
        assert response.status_code == 403, person
    assert not Submission.objects.exists() and not ScoreChange.objects.exists()


def test_admins_and_integration_accounts_submit_and_are_recorded(store, question):
    admin, feed = user_with_role(Role.ADMIN), integration_account()
    for who in (admin, feed):
        response = api(who).post(
            "/api/v1/questionnaire-responses/", answers(store, question), format="json"
        )
        assert response.status_code == 201, response.json()
    assert {s.submitted_by for s in Submission.objects.all()} == {admin, feed}
    change = ScoreChange.objects.filter(by=feed).get()
    assert (change.kind, change.via, change.rows) == (ChangeKind.QUESTIONNAIRE, "api", 1)
    assert (change.week_from, change.week_to) == (LAST_WEEK, LAST_WEEK)
    assert list(change.stores.all()) == [store]


def test_respondents_per_call_are_capped(store, question, settings):
    admin = user_with_role(Role.ADMIN)
    too_many = answers(store, question, respondents=settings.SCORE_MAX_RESPONDENTS + 1)
    response = api(admin).post("/api/v1/questionnaire-responses/", too_many, format="json")
    assert response.status_code == 400
    assert "responses" in response.json()["error"]["fields"]
    assert not Submission.objects.exists()
    settings.SCORE_MAX_RESPONDENTS = 2  # the service holds the cap too, whoever calls it
    with pytest.raises(ValidationError, match="at most 2 respondents"):
        submit_responses(store=store, week=LAST_WEEK, responses=[{question: 3}] * 3)


# --- 2. every write that changes a score records who made it ----------------------------------


def score_csv(store, week, score="55.5") -> io.BytesIO:
    text = f"store_code,week,category,score\n{store.code},{week_label(week)},customer_advocacy,{score}\n"
    return io.BytesIO(text.encode())


def test_an_api_score_import_records_its_author_and_a_refused_one_nothing(store):
    lead = user_with_role(Role.REGIONAL_LEAD, regions=[store.region])
    row = {"store_code": store.code, "week": week_label(LAST_WEEK), "category": "customer_advocacy"}
    client = api(lead)

    dry = client.post(
        "/api/v1/scores/import/", {"rows": [{**row, "score": 50}], "dry_run": True}, format="json"
    )
    bad = client.post("/api/v1/scores/import/", {"rows": [{**row, "score": 500}]}, format="json")
    assert (dry.status_code, bad.status_code) == (200, 400)
    assert not ScoreChange.objects.exists()

    done = client.post("/api/v1/scores/import/", {"rows": [{**row, "score": 50}]}, format="json")
    assert done.status_code == 201, done.json()
    change = ScoreChange.objects.get()
    assert (change.by, change.via, change.kind, change.rows) == (
        lead,
        "api import",
        ChangeKind.SCORES,
        1,
    )
    assert (change.week_from, change.week_to) == (LAST_WEEK, LAST_WEEK)
    assert list(change.stores.all()) == [store]
    assert "1 were created" in change.summary


def test_a_command_import_is_recorded_without_a_user(store):
    result = import_scores(score_csv(store, LAST_WEEK))
    assert result.ok
    change = ScoreChange.objects.get()
    assert change.by is None and change.via == "command" and change.rows == 1


def test_kpi_imports_and_metric_readings_are_recorded(store):
    lead = user_with_role(Role.REGIONAL_LEAD, regions=[store.region])
    text = f"store_code,week,kpi,value\n{store.code},{week_label(LAST_WEEK)},sales,1000\n"
    result = import_kpis(io.BytesIO(text.encode()), by=lead, via="web import")
    assert result.ok and KpiReading.objects.count() == 1
    kpis = ScoreChange.objects.get(kind=ChangeKind.KPIS)
    assert (kpis.by, kpis.via, kpis.rows) == (lead, "web import", 1)

    record_metrics([MetricInput(store, LAST_WEEK, "nps", 40.0, 50)], by=lead, via="feed")
    metrics = ScoreChange.objects.get(kind=ChangeKind.METRICS)
    assert (metrics.by, metrics.via, metrics.rows) == (lead, "feed", 1)
    assert list(metrics.stores.all()) == [store]


# --- 3. the back-dating window ----------------------------------------------------------------


def test_api_imports_refuse_weeks_beyond_the_window_with_row_messages(store, settings):
    admin = user_with_role(Role.ADMIN)
    edge, too_old = weeks_back(THIS_WEEK, 8), weeks_back(THIS_WEEK, 9)
    assert settings.SCORE_BACKDATE_WEEKS == 8
    row = {"store_code": store.code, "category": "customer_advocacy", "score": 40}
    rows = [{**row, "week": week_label(edge)}, {**row, "week": week_label(too_old)}]

    refused = api(admin).post("/api/v1/scores/import/", {"rows": rows}, format="json")

    assert refused.status_code == 400
    assert refused.json()["error"]["fields"]["rows"] == [
        f"line 3: week {week_label(too_old)} is more than 8 weeks back"
    ]
    assert not CategoryScore.objects.exists()
    accepted = api(admin).post("/api/v1/scores/import/", {"rows": rows[:1]}, format="json")
    assert accepted.status_code == 201
    settings.SCORE_BACKDATE_WEEKS = 0
    now_too_old = api(admin).post("/api/v1/scores/import/", {"rows": rows[:1]}, format="json")
    assert now_too_old.status_code == 400


def test_questionnaire_responses_refuse_old_and_future_weeks(store, question):
    client = api(user_with_role(Role.ADMIN))
    url = "/api/v1/questionnaire-responses/"
    old = client.post(url, answers(store, question, weeks_back(THIS_WEEK, 9)), format="json")
    assert old.status_code == 400
    assert old.json()["error"]["fields"]["week"] == [
        f"week {week_label(weeks_back(THIS_WEEK, 9))} is more than 8 weeks back"
    ]
    future = client.post(url, answers(store, question, weeks_back(THIS_WEEK, -1)), format="json")
    assert future.status_code == 400
    assert not Submission.objects.exists()


def test_system_writes_and_explicit_overrides_may_reach_further_back(store, question):
    old = weeks_back(THIS_WEEK, 30)
    person = user_with_role(Role.ADMIN)
    assert import_scores(score_csv(store, old)).ok  # by=None: a command or the demo loader
    refused = import_scores(score_csv(store, old, "60"), by=person)
    assert [str(e) for e in refused.errors] == [
        f"line 2: week {week_label(old)} is more than 8 weeks back"
    ]
    assert import_scores(score_csv(store, old, "60"), by=person, backdate_weeks=52).ok
    with pytest.raises(ValidationError, match="more than 8 weeks back"):
        submit_responses(store=store, week=old, responses=[{question: 3}], by=person)
    assert submit_responses(store=store, week=old, responses=[{question: 3}]) == 1
    text = f"store_code,week,kpi,value\n{store.code},{week_label(old)},sales,1\n"
    kpis = import_kpis(io.BytesIO(text.encode()), by=person)
    assert [str(e) for e in kpis.errors] == [
        f"line 2: week {week_label(old)} is more than 8 weeks back"
    ]


# --- 4. a role changes only through assign_role, the admin's included ---------------------------


def admin_client() -> Client:
    client = Client()
    client.force_login(user_with_role(Role.ADMIN))
    return client


def change_role_in_admin(user, role: str, *, stores=(), regions=()):
    response = admin_client().post(
        f"/admin/scoring/profile/{user.profile.pk}/change/",
        {
            "user": user.pk,
            "role": role,
            "stores": [s.pk for s in stores],
            "regions": [r.pk for r in regions],
        },
    )
    assert response.status_code == 302, response.content[:2000]
    user.refresh_from_db()


def test_demoting_an_admin_in_the_admin_removes_staff_superuser_and_old_groups(store):
    demoted = user_with_role(Role.ADMIN)
    assert demoted.is_staff and demoted.is_superuser

    change_role_in_admin(demoted, Role.STORE_MANAGER, stores=[store])

    assert not demoted.is_staff and not demoted.is_superuser
    assert list(demoted.groups.values_list("name", flat=True)) == ["Store managers"]
    assert list(demoted.profile.stores.all()) == [store]
    assert api(demoted).get("/api/v1/stores/").json()["count"] == 1  # no longer chain-wide


def test_a_lead_demoted_in_the_admin_can_no_longer_import(store):
    lead = user_with_role(Role.REGIONAL_LEAD, regions=[store.region])
    row = {"store_code": store.code, "week": week_label(LAST_WEEK), "category": "customer_advocacy"}
    body = {"rows": [{**row, "score": 50}]}
    assert api(lead).post("/api/v1/scores/import/", body, format="json").status_code == 201

    change_role_in_admin(lead, Role.STORE_MANAGER, stores=[store])
    fresh = get_user_model().objects.get(pk=lead.pk)  # as the next request loads it
    assert api(fresh).post("/api/v1/scores/import/", body, format="json").status_code == 403
    assert list(fresh.groups.values_list("name", flat=True)) == ["Store managers"]


def test_assign_role_keeps_flags_in_step_with_the_role():
    user = user_with_role(Role.ADMIN)
    assign_role(user, Role.TRAINER)
    user.refresh_from_db()
    assert (user.is_staff, user.is_superuser) == (False, False)
    assert not user.has_perm("scoring.submit_responses")
    assign_role(user, Role.ADMIN)
    user.refresh_from_db()
    assert user.is_staff and user.groups.get().name == "Administrators"


def test_the_audit_trail_and_scores_are_read_only_in_the_admin(store):
    import_scores(score_csv(store, LAST_WEEK))
    client = admin_client()
    change = ScoreChange.objects.get()
    assert client.get("/admin/scoring/scorechange/").status_code == 200
    assert client.get(f"/admin/scoring/scorechange/{change.pk}/change/").status_code == 200
    assert client.get("/admin/scoring/scorechange/add/").status_code == 403
    assert client.post(f"/admin/scoring/scorechange/{change.pk}/delete/").status_code == 403
    score = CategoryScore.objects.get()
    client.post(
        f"/admin/scoring/categoryscore/{score.pk}/change/",
        {"store": store.pk, "category": score.category_id, "week": score.week, "score": "99"},
    )
    score.refresh_from_db()
    assert score.score == Decimal("55.5")


def test_web_score_imports_and_api_kpi_imports_record_their_author(store):
    from django.core.files.uploadedfile import SimpleUploadedFile

    lead = user_with_role(Role.REGIONAL_LEAD, regions=[store.region])
    web = Client()
    web.force_login(lead)
    scores = (
        f"store_code,week,category,score\n{store.code},{week_label(LAST_WEEK)},brand_loyalty,61\n"
    )
    response = web.post("/import/", {"file": SimpleUploadedFile("s.csv", scores.encode())})
    assert response.status_code == 200
    kpis = f"store_code,week,kpi,value\n{store.code},{week_label(LAST_WEEK)},sales,1000\n"
    response = api(lead).post(
        "/api/v1/kpis/import/", {"file": SimpleUploadedFile("k.csv", kpis.encode())}
    )
    assert response.status_code == 201
    changes = list(ScoreChange.objects.order_by("id").values_list("by", "via", "kind"))
    assert changes == [
        (lead.id, "web import", ChangeKind.SCORES),
        (lead.id, "api import", ChangeKind.KPIS),
    ]
    old = f"store_code,week,category,score\n{store.code},{week_label(weeks_back(THIS_WEEK, 12))},brand_loyalty,61\n"
    refused = web.post("/import/", {"file": SimpleUploadedFile("s.csv", old.encode())})
    assert refused.status_code == 400 and "weeks back" in refused.content.decode()
