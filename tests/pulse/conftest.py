import pytest
from django.test import Client

from scoring.models import Audience, Role
from scoring.pulse import services
from tests.factories import RegionFactory, StoreFactory, user_with_role


@pytest.fixture
def store(db):
    return StoreFactory(region=RegionFactory(code="north"), timezone="Europe/London")


@pytest.fixture
def manager(store):
    return user_with_role(Role.STORE_MANAGER, stores=[store])


@pytest.fixture
def link(store):
    return services.link_for(store, Audience.CUSTOMER)


@pytest.fixture
def staff_link(store):
    return services.link_for(store, Audience.STAFF)


def answer(client: Client, token: str, *, value=None, comment: str = "", **extra):
    """Open the link, answer every question shown (the top of each scale unless `value`)."""
    page = client.get(f"/p/{token}/", **extra)
    form = page.context["form"]
    data = {"shown": [q.id for q in form.questions], "comment": comment, "website": ""}
    for question in form.questions:
        data[f"q{question.id}"] = question.scale if value is None else value
    return client.post(f"/p/{token}/", data, **extra)
