"""Access hardening (issue 15): login throttling per address as well as per user, the client
address behind a trusted proxy only, API tokens that die with a password change or with age, API
docs that are not public in production, and demo commands that will not overwrite a real database.
Settings read from the environment at start-up are checked in tests/test_deploy_settings.py."""

import datetime as dt
import io

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from scoring.models import Role, Store
from scoring.services import api_token

from .factories import StoreFactory, UserFactory, user_with_role

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
ATTACKER = "203.0.113.5"
NEIGHBOUR = "198.51.100.7"
PROXY = "10.0.0.2"


@pytest.fixture
def alice():
    return user_with_role(Role.TRAINER)  # password "pw"


def login(client: Client, username: str, password: str, **meta):
    return client.post(LOGIN, {"username": username, "password": password}, **meta)


def spray(count: int, start: int = 0, **meta) -> list[int]:
    """One wrong password for each of `count` different usernames from one address: the statuses
    (200 re-shows the form; 429 is the lockout, from the failure that reaches a limit on)."""
    client = Client()
    return [
        login(client, f"victim{n}", "Winter2026!", **meta).status_code
        for n in range(start, start + count)
    ]


# --- Login throttling -------------------------------------------------------------------------


def test_password_spraying_from_one_address_is_locked_out_for_that_address_only(alice):
    limit = settings.AXES_ADDRESS_FAILURE_LIMIT
    assert limit == 30
    assert spray(limit - 1, REMOTE_ADDR=ATTACKER) == [200] * (limit - 1)
    # Below the per-address allowance, a right password still gets in from there.
    assert login(Client(), alice.username, "pw", REMOTE_ADDR=ATTACKER).status_code == 302
    assert spray(1, start=limit, REMOTE_ADDR=ATTACKER) == [429]  # the 30th failure locks

    locked = login(Client(), alice.username, "pw", REMOTE_ADDR=ATTACKER)
    assert locked.status_code == 429
    assert "_auth_user_id" not in locked.wsgi_request.session
    # Another address, the user's own, is not affected.
    assert login(Client(), alice.username, "pw", REMOTE_ADDR=NEIGHBOUR).status_code == 302


def test_guessing_one_users_password_locks_that_user_and_address_only(alice):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, alice.username, "wrong", REMOTE_ADDR=ATTACKER)

    assert login(Client(), alice.username, "pw", REMOTE_ADDR=ATTACKER).status_code == 429
    # The attacker did not lock the user out for everyone (e.g. the office behind one proxy)...
    assert login(Client(), alice.username, "pw", REMOTE_ADDR=NEIGHBOUR).status_code == 302
    # ...nor every other user from the attacker's address, below the address allowance.
    bob = user_with_role(Role.TRAINER)
    assert login(Client(), bob.username, "pw", REMOTE_ADDR=ATTACKER).status_code == 302


def test_x_forwarded_for_is_ignored_without_a_trusted_proxy(alice):
    for n in range(settings.AXES_ADDRESS_FAILURE_LIMIT):
        # A client that writes a new address into the header on every try is still one address.
        login(
            Client(),
            f"victim{n}",
            "wrong",
            REMOTE_ADDR=ATTACKER,
            HTTP_X_FORWARDED_FOR=f"10.9.0.{n}",
        )

    refused = login(
        Client(), alice.username, "pw", REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR=NEIGHBOUR
    )
    assert refused.status_code == 429


def test_behind_a_trusted_proxy_x_forwarded_for_decides_the_address(alice, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # The proxy appends the address it saw; anything before it was written by the client.
    spray(
        settings.AXES_ADDRESS_FAILURE_LIMIT,
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=f"1.2.3.4, {ATTACKER}",
    )

    via_proxy = {"REMOTE_ADDR": PROXY}
    attacker = login(Client(), alice.username, "pw", HTTP_X_FORWARDED_FOR=ATTACKER, **via_proxy)
    assert attacker.status_code == 429
    # Everyone else behind the same proxy still signs in, whatever they write into the header.
    neighbour = login(
        Client(), alice.username, "pw", HTTP_X_FORWARDED_FOR=f"{ATTACKER}, {NEIGHBOUR}", **via_proxy
    )
    assert neighbour.status_code == 302


def test_the_token_endpoint_throttle_is_not_dodged_by_a_forged_x_forwarded_for():
    rate = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["token"]
    allowed = int(rate.split("/")[0])
    client = APIClient(REMOTE_ADDR=ATTACKER)
    statuses = [
        client.post(
            "/api/v1/auth/token/",
            {"username": f"victim{n}", "password": "wrong"},
            HTTP_X_FORWARDED_FOR=f"10.8.0.{n}",
        ).status_code
        for n in range(allowed + 1)
    ]
    assert statuses[:allowed] == [400] * allowed
    assert statuses[allowed] == 429


# --- API tokens -------------------------------------------------------------------------------


def api_get(key: str):
    return APIClient().get("/api/v1/categories/", HTTP_AUTHORIZATION=f"Token {key}")


def test_a_password_change_revokes_the_api_token(alice):
    key = api_token(alice)
    assert api_get(key).status_code == 200

    alice.set_password("a-new-Passw0rd")
    alice.save()

    assert not Token.objects.filter(user=alice).exists()
    assert api_get(key).status_code == 401
    fresh = APIClient().post(
        "/api/v1/auth/token/", {"username": alice.username, "password": "a-new-Passw0rd"}
    )
    assert fresh.status_code == 200 and fresh.json()["token"] != key
    assert api_get(fresh.json()["token"]).status_code == 200


def test_a_password_reset_through_the_queryset_save_path_revokes_too(alice):
    key = api_token(alice)
    alice.set_password("another-Passw0rd")
    alice.save(update_fields=["password"])
    assert api_get(key).status_code == 401


def test_other_saves_and_signing_in_keep_the_token(alice):
    key = api_token(alice)
    alice.first_name = "Alice"
    alice.save()
    assert login(Client(), alice.username, "pw").status_code == 302  # updates last_login
    get_user_model().objects.get(pk=alice.pk).save()  # the same hash saved again
    assert Token.objects.get(user=alice).key == key
    assert api_get(key).status_code == 200


def test_tokens_never_expire_by_default(alice):
    assert settings.API_TOKEN_MAX_AGE_DAYS == 0
    key = api_token(alice)
    Token.objects.filter(key=key).update(created=timezone.now() - dt.timedelta(days=3650))
    assert api_get(key).status_code == 200


def test_tokens_older_than_the_max_age_are_refused_and_replaced(alice, settings):
    settings.API_TOKEN_MAX_AGE_DAYS = 30
    key = api_token(alice)
    assert api_get(key).status_code == 200
    Token.objects.filter(key=key).update(created=timezone.now() - dt.timedelta(days=31))

    refused = api_get(key)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "token_expired"
    fresh = APIClient().post("/api/v1/auth/token/", {"username": alice.username, "password": "pw"})
    assert fresh.status_code == 200
    assert fresh.json()["token"] != key, "the endpoint hands out a new token, not the expired one"
    assert api_get(fresh.json()["token"]).status_code == 200


def test_the_token_endpoint_keeps_a_token_that_has_not_expired(alice, settings):
    settings.API_TOKEN_MAX_AGE_DAYS = 30
    key = api_token(alice)
    again = APIClient().post("/api/v1/auth/token/", {"username": alice.username, "password": "pw"})
    assert again.json() == {"token": key}


# --- API docs ---------------------------------------------------------------------------------


def test_api_docs_need_a_signed_in_user_unless_public(alice, settings):
    settings.API_DOCS_PUBLIC = False
    anonymous = Client()
    assert anonymous.get("/api/schema/").status_code == 401
    docs = anonymous.get("/api/docs/")
    assert docs.status_code == 302 and docs.url.startswith(f"{LOGIN}?next=")

    signed_in = Client()
    signed_in.force_login(alice)
    assert signed_in.get("/api/schema/").status_code == 200
    assert signed_in.get("/api/docs/").status_code == 200
    token = APIClient().get("/api/schema/", HTTP_AUTHORIZATION=f"Token {api_token(alice)}")
    assert token.status_code == 200


def test_api_docs_are_public_when_configured(settings):
    settings.API_DOCS_PUBLIC = True
    anonymous = Client()
    assert anonymous.get("/api/schema/").status_code == 200
    assert anonymous.get("/api/docs/").status_code == 200


# --- Demo commands ----------------------------------------------------------------------------


def test_demo_refuses_a_database_with_real_stores():
    StoreFactory(code="LON-01")
    with pytest.raises(CommandError, match="--force") as refused:
        call_command("demo", "--stores", "2", "--weeks", "2", stdout=io.StringIO())
    assert "LON-01" in str(refused.value)
    assert not Store.objects.filter(code="S001").exists()


def test_demo_refuses_a_database_with_real_users_and_keeps_their_admin_password():
    admin = UserFactory(username="admin", email="ops@example.com", is_superuser=True)
    admin.save()
    with pytest.raises(CommandError, match="--force"):
        call_command("demo", "--stores", "2", "--weeks", "2", stdout=io.StringIO())
    assert get_user_model().objects.get(username="admin").check_password("pw")


def test_demo_runs_over_real_data_with_force():
    StoreFactory(code="LON-01")
    call_command("demo", "--stores", "2", "--weeks", "2", "--force", stdout=io.StringIO())
    assert set(Store.objects.values_list("code", flat=True)) == {"LON-01", "S001", "S002"}


def test_demo_refuses_outside_the_laptop_mode(settings):
    settings.DEMO_COMMANDS_ALLOWED = False  # what DEBUG=false gives (tests/test_deploy_settings.py)
    with pytest.raises(CommandError, match="--force"):
        call_command("demo", "--stores", "2", "--weeks", "2", stdout=io.StringIO())
    assert not Store.objects.exists()
    call_command("demo", "--stores", "2", "--weeks", "2", "--force", stdout=io.StringIO())
    assert Store.objects.count() == 2


def test_demo_rebuilds_a_demo_only_database_without_force():
    call_command("demo", "--stores", "2", "--weeks", "2", stdout=io.StringIO())
    call_command("demo", "--stores", "2", "--weeks", "2", stdout=io.StringIO())
    assert Store.objects.count() == 2


def test_quickstart_reset_demo_refuses_a_real_database():
    StoreFactory(code="LON-01")
    admin = UserFactory(username="admin", email="ops@example.com", is_superuser=True)
    admin.save()
    with pytest.raises(CommandError, match="--force"):
        call_command("quickstart", "--no-serve", "--reset-demo", stdout=io.StringIO())
    assert get_user_model().objects.get(username="admin").check_password("pw")
    assert not Store.objects.filter(code="S001").exists()
