"""Shared fixtures, and the rule for tests that need a real service.

Tests marked `postgres`, `redis`, `worker`, `browser` or `validator` skip, saying why, when their service is missing.
CI sets REQUIRE_SERVICES=1, which turns every such skip into a failure.
"""

import os
import shutil
import socket
from urllib.parse import urlparse

import pytest
from django.db import connection

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 6379), timeout=1):
            return True
    except OSError:
        return False


def _missing(item) -> str | None:
    needs = {marker.name for marker in item.iter_markers()}
    if needs & {"postgres", "worker"} and connection.vendor != "postgresql":
        return "needs PostgreSQL: run with DATABASE_URL=postgres://... (see README)"
    if needs & {"redis", "worker"} and not _reachable(REDIS_URL):
        return f"needs Redis at {REDIS_URL} (TEST_REDIS_URL)"
    if "browser" in needs and not (shutil.which("chromium") and shutil.which("chromedriver")):
        return "needs Chromium: apt-get install chromium chromium-driver"
    if "validator" in needs and not shutil.which("java"):
        return "needs Java for the Nu HTML Checker: apt-get install default-jre-headless"
    return None


def pytest_runtest_setup(item):
    reason = _missing(item)
    if reason is None:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_cache():
    """Cached reports are keyed by ids, which a rolled-back test can hand out again."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _site_language_after_each_test():
    """Django's LocaleMiddleware leaves the browser's language active in the thread after a
    request; a test that sent Accept-Language must not decide the next test's language."""
    yield
    from django.utils import translation

    translation.deactivate()
