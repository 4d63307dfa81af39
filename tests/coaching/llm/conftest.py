"""Fixtures for the OpenAI-coach tests: a seeded chain and the fake server behind the coach."""

from collections.abc import Iterator

import pytest

from coaching.demo import load_demo_modules
from coaching.llm.openai_adapter import forget_servers
from scoring.models import Role
from tests.factories import RegionFactory, StoreFactory, user_with_role
from tests.fakes.openai_server import FakeOpenAIServer, ok

from .helpers import Chain, good_answer, seed_coached_store, seed_peer_store


@pytest.fixture(autouse=True)
def fresh_servers() -> Iterator[None]:
    """What the adapter learned about a server (auto mode, token caps) is per process: each test
    starts without it, whatever port its fake server got."""
    forget_servers()
    yield
    forget_servers()


@pytest.fixture
def chain() -> Chain:
    region = RegionFactory()
    store, *peers = [StoreFactory(region=region) for _ in range(3)]
    manager = user_with_role(Role.STORE_MANAGER, stores=[store])
    manager.first_name = "Alex"
    manager.save()
    seed_coached_store(store)
    seed_peer_store(peers[0], 75.0)
    seed_peer_store(peers[1], 78.0)
    assert load_demo_modules() == 48
    return Chain(manager, store, peers)


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as srv:
        srv.default = ok(good_answer)
        yield srv


@pytest.fixture
def llm(settings, server):
    settings.COACH_LLM_PROVIDER = "openai"
    settings.OPENAI_BASE_URL = server.base_url
    settings.OPENAI_API_KEY = "test-key"
    settings.OPENAI_MODEL = "fake-model"
    settings.COACH_PRICES = {"fake-model": (0.15, 0.60)}  # priced like a hosted model
    settings.OPENAI_TIMEOUT = 5.0
    settings.OPENAI_MAX_RETRIES = 0  # the service owns retries
    settings.COACH_LLM_MODE = "parse"
    settings.COACH_LLM_ATTEMPTS = 2
    settings.COACH_LLM_BACKOFF_SECONDS = 0.01
    settings.COACH_LLM_CONCURRENCY = 4
    return server
