"""A database lock that outlasts its timeout (SQLite's one writer, a PostgreSQL lock timeout) is a
503 with Retry-After on the pages and the API alike, never a 500; other database errors stay
errors."""

import pytest
from django.db import OperationalError
from rest_framework.test import APIClient

from coaching.plans import views as plan_views
from coaching.plans.api import PlanViewSet
from scoring.models import Role
from tests.factories import StoreFactory, user_with_role

pytestmark = pytest.mark.django_db


def locked(*args, **kwargs):
    raise OperationalError("database is locked")


@pytest.fixture
def manager():
    return user_with_role(Role.STORE_MANAGER, stores=[StoreFactory()])


def test_a_locked_database_is_a_503_page_with_retry_after(manager, client, monkeypatch):
    monkeypatch.setattr(plan_views.selectors, "plan_archive", locked)
    client.force_login(manager)
    response = client.get("/plans/")
    assert response.status_code == 503 and response["Retry-After"] == "10"
    assert "nothing was changed" in response.content.decode()


def test_a_locked_database_is_a_503_in_the_apis_error_shape(manager, monkeypatch):
    monkeypatch.setattr(PlanViewSet, "list", locked)
    client = APIClient()
    client.force_login(manager)
    response = client.get("/api/v1/plans/")
    assert response.status_code == 503 and response["Retry-After"] == "10"
    assert response.json()["error"]["code"] == "database_busy"


def test_other_database_errors_are_not_hidden(manager, monkeypatch):
    def broken(*args, **kwargs):
        raise OperationalError("no such table: coaching_weeklyplan")

    monkeypatch.setattr(plan_views.selectors, "plan_archive", broken)
    client = APIClient(raise_request_exception=True)
    client.force_login(manager)
    with pytest.raises(OperationalError):
        client.get("/plans/")
