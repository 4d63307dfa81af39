"""Goals cannot grow a prompt without bound: a manager holds at most GOALS_PER_MANAGER active
goals per store, and a goal's text is at most 500 characters, refused with a clear reason."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.test import APIClient

from coaching.goals.services import MAX_INTENT, create_goal, drop_goal, edit_goal
from coaching.models import Goal
from scoring.models import Role
from tests.factories import StoreFactory, category, user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_at():
    store = StoreFactory()
    return user_with_role(Role.STORE_MANAGER, stores=[store]), store


def _goal(manager, store, intent: str = "") -> Goal:
    return create_goal(
        manager=manager,
        store=store,
        category=category("team_retention"),
        target_score=75,
        due_date=timezone.localdate() + dt.timedelta(weeks=6),
        intent=intent,
    )


def test_a_manager_holds_at_most_the_configured_number_of_active_goals(manager_at, settings):
    settings.GOALS_PER_MANAGER = 3
    manager, store = manager_at
    goals = [_goal(manager, store) for _ in range(3)]
    with pytest.raises(ValidationError, match="at most 3 active goals per store"):
        _goal(manager, store)
    drop_goal(goals[0])  # a closed goal leaves room
    _goal(manager, store)
    assert Goal.objects.filter(manager=manager, status=Goal.Status.ACTIVE).count() == 3


def test_the_cap_defaults_to_ten_and_is_per_store(manager_at):
    manager, store = manager_at
    for _ in range(10):
        _goal(manager, store)
    with pytest.raises(ValidationError, match="at most 10"):
        _goal(manager, store)
    other = StoreFactory()
    manager.profile.stores.add(other)
    _goal(manager, other)


def test_the_api_answers_the_cap_as_a_400(manager_at, settings):
    settings.GOALS_PER_MANAGER = 1
    manager, store = manager_at
    _goal(manager, store)
    client = APIClient()
    client.force_login(manager)
    body = {
        "store": store.code,
        "category": "team_retention",
        "target_score": 80,
        "due_date": str(timezone.localdate() + dt.timedelta(weeks=4)),
    }
    refused = client.post("/api/v1/goals/", body, format="json")
    assert refused.status_code == 400, refused.content
    assert "at most 1 active goals" in str(refused.json()["error"]["fields"])


def test_goal_text_over_the_limit_is_refused_not_cut(manager_at):
    manager, store = manager_at
    with pytest.raises(ValidationError, match=f"at most {MAX_INTENT} characters"):
        _goal(manager, store, intent="x" * (MAX_INTENT + 1))
    goal = _goal(manager, store, intent="  " + "y" * MAX_INTENT + "  ")
    assert goal.intent == "y" * MAX_INTENT
    with pytest.raises(ValidationError, match=f"at most {MAX_INTENT} characters"):
        edit_goal(goal, intent="z" * (MAX_INTENT + 1))
