"""/health/ says which services answer; only a dead database makes it fail."""

import pytest
from django.core.cache import cache
from django.db import connection

from config import health
from tests.conftest import REDIS_URL
from tests.fakes.openai_server import FakeOpenAIServer

pytestmark = pytest.mark.django_db


def test_the_embedded_mode_is_healthy_and_says_what_it_does_not_use(client):
    response = client.get("/health/")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["detail"] == f"{connection.vendor} answering"
    assert body["checks"]["broker"]["detail"].startswith("not used")
    assert body["checks"]["llm"]["detail"].startswith("not used")
    assert "no-cache" in response["Cache-Control"]


def test_a_dead_database_answers_503(client, monkeypatch):
    def broken():
        raise ConnectionError("could not connect to server at postgres://user:secret@db")

    monkeypatch.setitem(health.CHECKS, "database", broken)
    response = client.get("/health/")

    assert response.status_code == 503
    assert response.json()["status"] == "down"
    assert "secret" not in response.content.decode()  # the error's kind, never its message


def test_an_unreachable_broker_is_degraded_not_down(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there

    body = client.get("/health/").json()

    assert body["status"] == "degraded"
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.redis
def test_a_real_broker_answers(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = REDIS_URL
    assert client.get("/health/").json()["checks"]["broker"]["ok"] is True


def test_the_llm_is_probed_by_its_model_list_and_reported_when_down(client, settings):
    settings.COACH_LLM_PROVIDER = "openai"
    settings.OPENAI_API_KEY = "test-key"
    settings.OPENAI_MODEL = "gpt-4o-mini"
    with FakeOpenAIServer() as server:
        settings.OPENAI_BASE_URL = server.base_url
        up = client.get("/health/").json()
    assert up["checks"]["llm"] == {
        "ok": True,
        "detail": "answering; model gpt-4o-mini listed",
        "ms": up["checks"]["llm"]["ms"],
    }
    assert server.requests == []  # no completion: the probe costs no tokens

    cache.delete("health:llm")
    down = client.get("/health/").json()  # the server has stopped
    assert down["status"] == "degraded" and down["checks"]["llm"]["ok"] is False
