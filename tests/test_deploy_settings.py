"""Settings read from the environment at start-up, each checked in a fresh process: production
passes `check --deploy`, the laptop mode stays friendly, proxies and caches are opt-in."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Everything these tests set, cleared from the inherited environment first.
KNOBS = [
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_COOKIES",
    "TRUST_PROXY_HEADERS",
    "TRUSTED_PROXY_COUNT",
    "SECURE_PROXY_SSL_HEADER",
    "CACHE_URL",
    "REDIS_URL",
    "EMAIL_HOST",
    "EMAIL_BACKEND",
    "EMAIL_USE_TLS",
    "API_DOCS_PUBLIC",
    "API_TOKEN_MAX_AGE_DAYS",
    "DEMO_COMMANDS_ALLOWED",
]


def production(**extra: str) -> dict[str, str]:
    return {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "coach.example.com",
        "SECURE_SSL_REDIRECT": "true",
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
        "SECURE_HSTS_PRELOAD": "true",
        **extra,
    }


def run(args: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in KNOBS and k != "DJANGO_SETTINGS_MODULE"}
    # A throwaway database: nothing here may touch the project's own.
    base["DATABASE_URL"] = f"sqlite:///{tmp_path / 'deploy.sqlite3'}"
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, *args],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def check_deploy(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    return run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env, tmp_path)


SHOW = """
import json, django
django.setup()
from django.conf import settings as s
rf = s.REST_FRAMEWORK
print(json.dumps({
    "DEBUG": s.DEBUG, "ALLOWED_HOSTS": s.ALLOWED_HOSTS, "CACHES": s.CACHES,
    "SECURE_SSL_REDIRECT": s.SECURE_SSL_REDIRECT, "SECURE_HSTS_SECONDS": s.SECURE_HSTS_SECONDS,
    "SESSION_COOKIE_SECURE": s.SESSION_COOKIE_SECURE, "CSRF_COOKIE_SECURE": s.CSRF_COOKIE_SECURE,
    "SECURE_PROXY_SSL_HEADER": s.SECURE_PROXY_SSL_HEADER,
    "TRUSTED_PROXY_COUNT": s.TRUSTED_PROXY_COUNT, "NUM_PROXIES": rf["NUM_PROXIES"],
    "EMAIL_BACKEND": s.EMAIL_BACKEND, "EMAIL_HOST": s.EMAIL_HOST, "EMAIL_USE_TLS": s.EMAIL_USE_TLS,
    "API_DOCS_PUBLIC": s.API_DOCS_PUBLIC, "DEMO_COMMANDS_ALLOWED": s.DEMO_COMMANDS_ALLOWED,
    "AUTH": rf["DEFAULT_AUTHENTICATION_CLASSES"],
}))
"""


def settings_with(env: dict[str, str], tmp_path: Path) -> dict:
    result = run(["-c", SHOW], env, tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_settings_from_the_environment_pass_check_deploy(tmp_path):
    result = check_deploy(production(), tmp_path)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_on_each_missing_piece(tmp_path):
    """The control: the same check warns once DEBUG is on or a piece of HTTPS is missing."""
    missing = {
        "DEBUG": "true",
        "SECURE_HSTS_SECONDS": "0",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
    }
    result = check_deploy(production(**missing), tmp_path)
    assert result.returncode != 0
    for warning in ("W018", "W004", "W008", "W012", "W016"):
        assert f"security.{warning}" in result.stderr, warning


def test_the_laptop_defaults_stay_friendly(tmp_path):
    laptop = settings_with({}, tmp_path)
    assert laptop["DEBUG"] is True
    assert laptop["SECURE_SSL_REDIRECT"] is False and laptop["SECURE_HSTS_SECONDS"] == 0
    assert laptop["SESSION_COOKIE_SECURE"] is False
    assert laptop["API_DOCS_PUBLIC"] is True and laptop["DEMO_COMMANDS_ALLOWED"] is True
    assert laptop["CACHES"]["default"]["BACKEND"].endswith("LocMemCache")
    assert laptop["EMAIL_BACKEND"].endswith("console.EmailBackend")
    # The test runner adds its own "testserver"; the default hosts do not carry it.
    assert "testserver" not in laptop["ALLOWED_HOSTS"]
    assert laptop["SECURE_PROXY_SSL_HEADER"] is None
    assert laptop["TRUSTED_PROXY_COUNT"] == 0 and laptop["NUM_PROXIES"] == 0
    assert laptop["AUTH"][0] == "config.auth.ExpiringTokenAuthentication"


def test_production_defaults_close_the_docs_and_the_demo(tmp_path):
    prod = settings_with(production(), tmp_path)
    assert prod["SESSION_COOKIE_SECURE"] is True and prod["CSRF_COOKIE_SECURE"] is True
    assert prod["API_DOCS_PUBLIC"] is False
    assert prod["DEMO_COMMANDS_ALLOWED"] is False
    assert prod["ALLOWED_HOSTS"] == ["coach.example.com"]


def test_proxy_headers_are_trusted_only_when_configured(tmp_path):
    proxied = settings_with(production(TRUST_PROXY_HEADERS="true"), tmp_path)
    assert proxied["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert proxied["TRUSTED_PROXY_COUNT"] == 1 and proxied["NUM_PROXIES"] == 1
    two = settings_with(
        production(
            TRUSTED_PROXY_COUNT="2", SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_SCHEME,https"
        ),
        tmp_path,
    )
    assert two["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_SCHEME", "https"]
    assert two["TRUSTED_PROXY_COUNT"] == 2 and two["NUM_PROXIES"] == 2


def test_smtp_when_an_email_host_is_set(tmp_path):
    mail = settings_with({"EMAIL_HOST": "smtp.example.com"}, tmp_path)
    assert mail["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert mail["EMAIL_HOST"] == "smtp.example.com" and mail["EMAIL_USE_TLS"] is True


def test_a_cache_url_gives_every_process_the_same_redis_cache(tmp_path):
    cache = settings_with({"CACHE_URL": "redis://127.0.0.1:6379/14"}, tmp_path)["CACHES"]["default"]
    assert cache["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert cache["LOCATION"] == "redis://127.0.0.1:6379/14"
    fallback = settings_with({"REDIS_URL": "redis://cache.internal:6379/3"}, tmp_path)
    assert fallback["CACHES"]["default"]["LOCATION"] == "redis://cache.internal:6379/3"


SHARED = """
import os, sys, django
django.setup()
from django.core.cache import cache
from rest_framework.throttling import SimpleRateThrottle
if sys.argv[1] == "write":
    cache.set(os.environ["SHARED_KEY"], 41, 60)
else:
    print(cache.get(os.environ["SHARED_KEY"]), SimpleRateThrottle.cache is not None)
    cache.delete(os.environ["SHARED_KEY"])
"""


@pytest.mark.redis
def test_two_processes_share_the_redis_cache(tmp_path):
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15").rsplit("/", 1)[0] + "/14"
    # A key of this run's own: CI runs the SQLite and PostgreSQL passes side by side.
    env = {"CACHE_URL": url, "SHARED_KEY": f"test-deploy-shared-{os.getpid()}"}
    assert run(["-c", SHARED, "write"], env, tmp_path).returncode == 0
    read = run(["-c", SHARED, "read"], env, tmp_path)
    assert read.returncode == 0, read.stderr
    assert read.stdout.split() == ["41", "True"]


def test_the_demo_command_refuses_when_debug_is_off(tmp_path):
    result = run(["manage.py", "demo", "--stores", "2", "--weeks", "2"], production(), tmp_path)
    assert result.returncode != 0
    assert "--force" in result.stderr and "Refusing" in result.stderr
