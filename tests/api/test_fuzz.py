"""schemathesis against our own OpenAPI schema, through the WSGI app, as each role: whatever it
generates, no 5xx and every documented response matches its schema."""

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error, response_schema_conformance

from config.wsgi import application
from tests.api.test_access import World

# The schema is served to anyone and is the same for every role; what each role may do is not.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """schemathesis calls the WSGI app directly, whose request signals would close the test's
    open transaction's connection; Django's own test client unhooks them the same way."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def tokens(db) -> dict[str, str]:
    """One world per API operation; hypothesis then runs every example against it."""
    cache.clear()  # throttling counts per user in the cache
    return {role: Token.objects.create(user=user).key for role, user in World().users.items()}


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_server_errors_and_responses_match_the_schema(case, tokens):
    for token in tokens.values():
        case.call_and_validate(
            headers={"Authorization": f"Token {token}"},
            checks=[not_a_server_error, response_schema_conformance],
        )
