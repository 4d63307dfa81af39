"""Goals change only through `coaching.goals.services`, whether the change comes from the web
form or the API: the same rules on dates and targets, and status changes as transitions."""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from coaching.goals.services import create_goal
from coaching.models import Goal
from scoring.models import Role
from tests.factories import StoreFactory, category, score, user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def goal():
    store = StoreFactory()
    week = timezone.localdate() - dt.timedelta(days=7)
    score(store, "team_retention", week, 70)
    manager = user_with_role(Role.STORE_MANAGER, stores=[store])
    return create_goal(
        manager=manager,
        store=store,
        category=category("team_retention"),
        target_score=75,
        due_date=timezone.localdate() + dt.timedelta(weeks=6),
    )


def api(goal) -> APIClient:
    client = APIClient()
    client.force_login(goal.manager)
    return client


def test_the_api_refuses_a_past_due_date_as_the_web_form_does(goal, client):
    refused = api(goal).patch(f"/api/v1/goals/{goal.id}/", {"due_date": "2020-01-06"}, "json")
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"]["due_date"] == ["due date must be in the future"]
    client.force_login(goal.manager)
    web = client.post(
        f"/goals/{goal.id}/edit/",
        {"target_score": "75", "due_date": "2020-01-06", "intent": ""},
    )
    assert web.status_code == 400 and b"due date must be in the future" in web.content
    goal.refresh_from_db()
    assert goal.due_date > timezone.localdate()


def test_status_is_not_a_writable_field(goal):
    refused = api(goal).patch(
        f"/api/v1/goals/{goal.id}/", {"status": "achieved", "intent": "done!"}, "json"
    )
    assert refused.status_code == 400
    assert "close" in refused.json()["error"]["fields"]["status"][0]
    goal.refresh_from_db()
    assert (goal.status, goal.intent) == (Goal.Status.ACTIVE, "")
    unchanged = api(goal).patch(f"/api/v1/goals/{goal.id}/", {"status": "active"}, "json")
    assert unchanged.status_code == 200


def test_a_goal_is_achieved_only_once_the_score_reaches_the_target(goal):
    url = f"/api/v1/goals/{goal.id}/close/"
    early = api(goal).post(url, {"status": "achieved"}, "json")
    assert early.status_code == 400
    assert "the latest score is 70.0" in early.json()["error"]["fields"]["non_field_errors"][0]
    score(goal.store, "team_retention", timezone.localdate(), 76)
    done = api(goal).post(url, {"status": "achieved"}, "json")
    assert done.status_code == 200 and done.json()["status"] == "achieved"
    again = api(goal).patch(f"/api/v1/goals/{goal.id}/", {"intent": "more"}, "json")
    assert again.status_code == 400
    assert again.json()["error"]["fields"]["non_field_errors"] == [
        "only an active goal can be edited"
    ]


def test_a_goal_is_missed_only_after_its_due_date(goal):
    url = f"/api/v1/goals/{goal.id}/close/"
    assert api(goal).post(url, {"status": "missed"}, "json").status_code == 400
    Goal.objects.filter(pk=goal.pk).update(due_date=timezone.localdate() - dt.timedelta(days=1))
    assert api(goal).post(url, {"status": "missed"}, "json").json()["status"] == "missed"
    reopened = api(goal).post(url, {"status": "dropped"}, "json")
    assert reopened.status_code == 400
    assert "already missed" in reopened.json()["error"]["fields"]["non_field_errors"][0]


def test_deleting_a_goal_drops_it_and_keeps_it_on_record(goal):
    assert api(goal).delete(f"/api/v1/goals/{goal.id}/").status_code == 204
    goal.refresh_from_db()
    assert goal.status == Goal.Status.DROPPED
