"""Self-test of the fake OpenAI server, driven through the real ``openai`` SDK."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import openai
import pytest

from .openai_server import (
    MALFORMED_CONTENT,
    FakeOpenAIServer,
    broken_body,
    choose,
    drop_connection,
    error,
    malformed,
    ok,
    openai_token_rule,
    refusal,
    response_schema,
    runaway,
    slow,
    token_caps,
    truncated,
    unsupported_formats,
)

MESSAGES = [{"role": "user", "content": "Give me three coaching tips."}]


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as srv:
        yield srv


def make_client(server: FakeOpenAIServer, timeout: float = 5.0) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key="test", max_retries=0, timeout=timeout)


@pytest.fixture
def client(server: FakeOpenAIServer) -> Iterator[openai.OpenAI]:
    with make_client(server) as c:
        yield c


def chat(client: openai.OpenAI, **kwargs: object):
    return client.chat.completions.create(model="gpt-test", messages=MESSAGES, **kwargs)


def test_lifecycle_binds_ephemeral_port_and_stop_is_idempotent() -> None:
    srv = FakeOpenAIServer().start()
    try:
        assert srv.base_url.startswith("http://127.0.0.1:")
        assert srv.base_url.endswith("/v1")
        assert int(srv.base_url.rsplit(":", 1)[1].removesuffix("/v1")) > 0
    finally:
        srv.stop()
    srv.stop()
    with pytest.raises(RuntimeError):
        _ = srv.base_url


def test_ok_with_string_content_and_request_recorded(server, client) -> None:
    server.enqueue(ok("hello coach"))

    resp = chat(client)

    assert resp.object == "chat.completion"
    assert resp.model == "gpt-test"
    choice = resp.choices[0]
    assert choice.index == 0
    assert choice.message.role == "assistant"
    assert choice.message.content == "hello coach"
    assert choice.message.refusal is None
    assert choice.finish_reason == "stop"
    assert resp.usage.completion_tokens >= 1
    assert resp.usage.total_tokens == resp.usage.prompt_tokens + resp.usage.completion_tokens
    assert server.request_count == 1
    assert server.requests[0]["messages"] == MESSAGES
    assert server.request_headers[0]["authorization"] == "Bearer test"


def test_ok_with_callable_sees_body_and_response_format_recorded(server, client) -> None:
    seen: list[dict] = []

    def responder(body: dict) -> dict:
        seen.append(body)
        return {"echo": body["messages"][-1]["content"], "n": len(body["messages"])}

    server.enqueue(ok(responder))
    fmt = {"type": "json_object"}

    resp = chat(client, response_format=fmt)

    assert json.loads(resp.choices[0].message.content) == {"echo": MESSAGES[0]["content"], "n": 1}
    assert seen[0]["model"] == "gpt-test"
    assert server.requests[0]["response_format"] == fmt


def test_queue_is_fifo_then_falls_back_to_settable_default(server, client) -> None:
    server.enqueue(ok("first"), ok("second"))
    assert server.pending == 2

    contents = [chat(client).choices[0].message.content for _ in range(3)]
    server.default = ok("new default")
    contents.append(chat(client).choices[0].message.content)

    assert contents == ["first", "second", "{}", "new default"]
    assert server.pending == 0
    assert server.request_count == 4


def test_429_with_retry_after_is_rate_limit_error(server, client) -> None:
    server.enqueue(error(429, "slow down", retry_after=7))

    with pytest.raises(openai.RateLimitError) as excinfo:
        chat(client)

    exc = excinfo.value
    assert exc.status_code == 429
    assert exc.response.headers["retry-after"] == "7"
    assert exc.code == "rate_limit_exceeded"
    assert "slow down" in str(exc)
    assert server.request_count == 1  # max_retries=0: no silent retry


def test_500_is_internal_server_error_without_retry_after(server, client) -> None:
    server.enqueue(error(500))

    with pytest.raises(openai.InternalServerError) as excinfo:
        chat(client)

    assert excinfo.value.status_code == 500
    assert excinfo.value.type == "server_error"
    assert "retry-after" not in excinfo.value.response.headers


def test_slow_completes_when_client_waits(server, client) -> None:
    server.enqueue(slow(0.3, ok("late but fine")))

    started = time.monotonic()
    resp = chat(client)

    assert resp.choices[0].message.content == "late but fine"
    assert time.monotonic() - started >= 0.3


def test_slow_beyond_client_timeout_times_out_and_stop_is_prompt() -> None:
    srv = FakeOpenAIServer().start()
    try:
        srv.enqueue(slow(2, ok("too late")), slow(30, ok("never")))
        with make_client(srv, timeout=0.5) as client:
            started = time.monotonic()
            with pytest.raises(openai.APITimeoutError):
                chat(client)
            assert time.monotonic() - started < 1.5
            # A second request keeps a handler asleep for 30 s while we stop the server.
            with pytest.raises(openai.APITimeoutError):
                chat(client)
    finally:
        started = time.monotonic()
        srv.stop()
        stop_took = time.monotonic() - started
    assert stop_took < 1.0


def test_refusal_shape(server, client) -> None:
    server.enqueue(refusal("I can't help with that."))

    choice = chat(client).choices[0]

    assert choice.message.content is None
    assert choice.message.refusal == "I can't help with that."
    assert choice.finish_reason == "stop"


def test_truncated_cuts_content_in_half_with_length_finish_reason(server, client) -> None:
    server.enqueue(truncated(lambda body: {"tips": ["a", "b", "c"]}))
    full = json.dumps({"tips": ["a", "b", "c"]})

    choice = chat(client).choices[0]

    assert choice.finish_reason == "length"
    assert choice.message.content == full[: len(full) // 2]
    server.enqueue(truncated("x" * 400))
    assert chat(client, max_completion_tokens=30).usage.completion_tokens == 30
    with pytest.raises(json.JSONDecodeError):
        json.loads(choice.message.content)


def test_runaway_ignores_the_token_cap_and_runs_to_the_context(server, client) -> None:
    server.enqueue(runaway(tokens=4096))

    resp = chat(client, max_tokens=50, max_completion_tokens=50)

    assert resp.choices[0].finish_reason == "length"
    assert resp.usage.completion_tokens == 4096
    assert len(resp.choices[0].message.content) > 4 * 4096
    assert token_caps(server.requests[0]) == {"max_completion_tokens": 50, "max_tokens": 50}


def test_choose_picks_the_behaviour_from_the_request(server, client) -> None:
    server.default = choose(lambda body: ok(str(len(body["messages"]))))

    assert chat(client).choices[0].message.content == "1"


SCHEMA_FORMAT = {"type": "json_schema", "json_schema": {"name": "n", "schema": {"type": "object"}}}


def test_unsupported_formats_refuse_like_llama_cpp_python(server, client) -> None:
    server.default = unsupported_formats({"json_schema"}, then=ok("{}"))

    with pytest.raises(openai.InternalServerError) as excinfo:
        chat(client, response_format=SCHEMA_FORMAT)
    answer = chat(client, response_format={"type": "json_object"})

    assert "Input should be 'text' or 'json_object'" in excinfo.value.body["message"]
    assert "'json_schema'" in excinfo.value.body["message"]
    assert answer.choices[0].message.content == "{}"
    assert response_schema(server.requests[0]) == {"type": "object"}
    assert response_schema(server.requests[1]) is None
    assert token_caps(server.requests[1]) == {}


def test_openai_token_rule_refuses_both_caps_at_once(server, client) -> None:
    server.default = openai_token_rule(then=ok("fine"))

    with pytest.raises(openai.BadRequestError) as excinfo:
        chat(client, max_tokens=10, max_completion_tokens=10)

    assert excinfo.value.code == "invalid_parameter_combination"
    assert "at the same time is not supported" in excinfo.value.body["message"]
    assert chat(client, max_completion_tokens=10).choices[0].message.content == "fine"


def test_malformed_content_is_returned_as_text(server, client) -> None:
    server.enqueue(malformed())

    choice = chat(client).choices[0]

    assert choice.finish_reason == "stop"
    assert choice.message.content == MALFORMED_CONTENT
    with pytest.raises(json.JSONDecodeError):
        json.loads(choice.message.content)


def test_broken_body_surfaces_as_raw_json_decode_error(server, client) -> None:
    # openai 3.54 calls response.json() on an application/json body without wrapping
    # the failure, so callers see json.JSONDecodeError, NOT an openai.APIError.
    server.enqueue(broken_body())

    with pytest.raises(json.JSONDecodeError) as excinfo:
        chat(client)

    assert not isinstance(excinfo.value, openai.APIError)


def test_drop_connection_is_connection_error_and_server_keeps_serving(server, client) -> None:
    server.enqueue(drop_connection(), ok("still alive"))

    with pytest.raises(openai.APIConnectionError) as excinfo:
        chat(client)

    assert not isinstance(excinfo.value, openai.APITimeoutError)
    assert chat(client).choices[0].message.content == "still alive"
    assert server.request_count == 2


def test_stream_request_is_rejected_with_400(server, client) -> None:
    with pytest.raises(openai.BadRequestError) as excinfo:
        chat(client, stream=True)

    assert excinfo.value.status_code == 400
    assert server.requests[0]["stream"] is True


def test_models_endpoint_and_unknown_path_404(server, client) -> None:
    assert [m.id for m in client.models.list()] == ["gpt-4o-mini"]

    with pytest.raises(openai.NotFoundError) as excinfo:
        client.embeddings.create(model="text-embedding-3-small", input="hi")

    assert excinfo.value.body == {
        "message": "Invalid URL (POST /v1/embeddings)",
        "type": "invalid_request_error",
        "param": None,
        "code": "not_found",
    }
    assert server.request_count == 0  # only chat requests are recorded


def test_32_concurrent_requests_all_succeed(server, client) -> None:
    def echo(body: dict) -> str:
        return body["messages"][0]["content"]

    # Each answer takes 0.3 s, so 32 of them only finish fast if they run in parallel.
    server.default = slow(0.3, ok(echo))

    def call(i: int) -> str:
        resp = client.chat.completions.create(
            model="gpt-test", messages=[{"role": "user", "content": f"req-{i}"}]
        )
        return resp.choices[0].message.content

    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(call, range(32)))

    assert results == [f"req-{i}" for i in range(32)]
    assert server.request_count == 32
    assert server.max_in_flight > 1  # slow answers overlap: one client does not block another
