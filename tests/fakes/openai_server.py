"""A fake OpenAI-compatible HTTP server for the test suite.

Tests never reach the internet. This server stands in for the OpenAI API on
127.0.0.1 so the real ``openai`` SDK can be used unchanged (point it at
``server.base_url``), and it lets a test make the LLM misbehave on purpose:
slow answers, HTTP errors with ``Retry-After``, malformed or truncated JSON
content, refusals, unparseable bodies and dropped connections; and reproduce
what real servers were seen doing: refusing a response format with a 500
(:func:`unsupported_formats`, llama-cpp-python), refusing both token caps at
once (:func:`openai_token_rule`, OpenAI) and running past the token cap
(:func:`runaway`). :func:`choose` picks a behaviour from the request itself.

Usage::

    with FakeOpenAIServer() as server:
        server.enqueue(error(429, retry_after=1), ok('{"tips": []}'))
        client = openai.OpenAI(base_url=server.base_url, api_key="test")
        ...
        assert server.request_count == 2

Only ``POST /v1/chat/completions`` consumes behaviours (one per request, FIFO);
when the queue is empty ``server.default`` is used. ``GET /v1/models`` answers a
fixed list. Any other path gets an OpenAI-style 404. Streaming is not supported.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from typing import Any, TypeAlias

__all__ = [
    "Behaviour",
    "FakeOpenAIServer",
    "broken_body",
    "choose",
    "drop_connection",
    "error",
    "malformed",
    "ok",
    "openai_token_rule",
    "refusal",
    "response_schema",
    "runaway",
    "slow",
    "token_caps",
    "truncated",
    "unsupported_formats",
]

Responder: TypeAlias = str | Callable[[dict[str, Any]], str | dict[str, Any]]

MALFORMED_CONTENT = '{"tips": [ {"title": "unterminated'
BROKEN_BODY = b"<html><body>502 Bad Gateway (not JSON)</body></html>"
# How llama-cpp-python's server answers a response_format it does not know, with HTTP 500.
FORMAT_REFUSED = (
    "1 validation error for CreateChatCompletionRequest\nresponse_format.type\n"
    "  Input should be 'text' or 'json_object' [type=literal_error, input_value={type!r}, "
    "input_type=str]"
)
BOTH_CAPS_REFUSED = (
    "Setting 'max_tokens' and 'max_completion_tokens' at the same time is not supported."
)
TOKEN_CAPS = ("max_completion_tokens", "max_tokens")


# --------------------------------------------------------------------------- behaviours


@dataclass(frozen=True)
class Ok:
    responder: Responder


@dataclass(frozen=True)
class Slow:
    seconds: float
    then: Behaviour


@dataclass(frozen=True)
class Error:
    status: int
    message: str
    retry_after: float | None = None
    code: str | None = None


@dataclass(frozen=True)
class Malformed:
    pass


@dataclass(frozen=True)
class Refusal:
    text: str


@dataclass(frozen=True)
class Truncated:
    responder: Responder


@dataclass(frozen=True)
class Runaway:
    responder: Responder | None
    tokens: int


@dataclass(frozen=True)
class Choose:
    choose: Callable[[dict[str, Any]], Behaviour]


@dataclass(frozen=True)
class BrokenBody:
    pass


@dataclass(frozen=True)
class DropConnection:
    pass


Behaviour: TypeAlias = (
    Ok
    | Slow
    | Error
    | Malformed
    | Refusal
    | Truncated
    | Runaway
    | Choose
    | BrokenBody
    | DropConnection
)


def ok(responder: Responder) -> Ok:
    """Answer a normal chat.completion.

    ``responder`` is the assistant content, or a callable taking the parsed request
    body and returning the content (a ``dict`` result is ``json.dumps``-ed).
    """
    return Ok(responder)


def slow(seconds: float, then: Behaviour) -> Slow:
    """Wait ``seconds`` (cut short when the server stops), then perform ``then``."""
    return Slow(seconds, then)


def error(
    status: int,
    message: str | None = None,
    retry_after: float | None = None,
    *,
    code: str | None = None,
) -> Error:
    """Answer HTTP ``status`` with an OpenAI-style error body.

    ``retry_after`` (seconds) adds a ``Retry-After`` header; ``code`` overrides the
    error code derived from the status (e.g. ``"insufficient_quota"`` for a 429).
    """
    return Error(status, message or f"Fake upstream error (HTTP {status})", retry_after, code)


def malformed() -> Malformed:
    """Answer 200 with assistant content that is not valid JSON."""
    return Malformed()


def refusal(text: str) -> Refusal:
    """Answer 200 with ``message.content = null`` and ``message.refusal = text``."""
    return Refusal(text)


def truncated(responder: Responder) -> Truncated:
    """Like :func:`ok`, but the content is cut in half and finish_reason is "length"; usage
    reports the request's token cap (the smaller of the two, if it sent one) as completion_tokens."""
    return Truncated(responder)


def runaway(responder: Responder | None = None, tokens: int = 4096) -> Runaway:
    """An answer that ignored the token cap: generated until the context (``tokens``) ran out,
    whatever the request's ``max_tokens``/``max_completion_tokens``. The content is the start of
    the responder's (or a plan's JSON) followed by rambling, unterminated; finish_reason is
    "length" and usage.completion_tokens is ``tokens``."""
    return Runaway(responder, tokens)


def choose(pick: Callable[[dict[str, Any]], Behaviour]) -> Choose:
    """Perform whatever ``pick(request body)`` returns: a behaviour that depends on the request."""
    return Choose(pick)


def unsupported_formats(
    types: set[str] | frozenset[str], then: Behaviour, *, status: int = 500
) -> Choose:
    """Refuse a request whose ``response_format.type`` is in ``types`` ("json_schema" for both
    the SDK's parse and a json_schema request, "json_object", "text" for none) as
    llama-cpp-python's server does: HTTP ``status`` (500), "Input should be 'text' or
    'json_object'"; perform ``then`` for any other request."""

    def pick(body: dict[str, Any]) -> Behaviour:
        kind = (body.get("response_format") or {}).get("type", "text")
        return error(status, FORMAT_REFUSED.format(type=kind)) if kind in types else then

    return Choose(pick)


def openai_token_rule(then: Behaviour) -> Choose:
    """Refuse a request carrying both token caps as OpenAI does (HTTP 400,
    invalid_parameter_combination); perform ``then`` for any other request."""

    def pick(body: dict[str, Any]) -> Behaviour:
        if all(cap in body for cap in TOKEN_CAPS):
            return error(400, BOTH_CAPS_REFUSED, code="invalid_parameter_combination")
        return then

    return Choose(pick)


def response_schema(body: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON schema a request asked its answer to follow, if any."""
    response_format = body.get("response_format") or {}
    return (response_format.get("json_schema") or {}).get("schema")


def token_caps(body: dict[str, Any]) -> dict[str, Any]:
    """The token caps a request carried: {"max_completion_tokens": n, "max_tokens": n}."""
    return {cap: body[cap] for cap in TOKEN_CAPS if cap in body}


def broken_body() -> BrokenBody:
    """Answer 200 with a body that is not JSON at all, so the SDK cannot parse it."""
    return BrokenBody()


def drop_connection() -> DropConnection:
    """Close the socket without sending any response."""
    return DropConnection()


# --------------------------------------------------------------------------- helpers

_ERROR_KINDS: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("permission_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "not_found"),
    409: ("invalid_request_error", "conflict"),
    422: ("invalid_request_error", None),
    429: ("requests", "rate_limit_exceeded"),
}


def error_body(status: int, message: str, code: str | None = None) -> dict[str, Any]:
    """The JSON body OpenAI sends with an error status."""
    err_type, default_code = _ERROR_KINDS.get(
        status, ("server_error", None) if status >= 500 else ("invalid_request_error", None)
    )
    return {
        "error": {
            "message": message,
            "type": err_type,
            "param": None,
            "code": code if code is not None else default_code,
        }
    }


def _rough_tokens(text: str) -> int:
    return max(1, len(text) // 4)


def _render(responder: Responder, body: dict[str, Any]) -> str:
    if isinstance(responder, str):
        return responder
    result = responder(body)
    if isinstance(result, dict):
        return json.dumps(result)
    if isinstance(result, str):
        return result
    raise TypeError(f"responder must return str or dict, not {type(result).__name__}")


# --------------------------------------------------------------------------- server


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    fake: FakeOpenAIServer

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), which can stall on DNS.
        TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout) or a socket closed by stop() is expected.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without TCP_NODELAY, Nagle's algorithm and the
    # client's delayed ACK hold the body back about 40 ms on a keep-alive connection.
    disable_nagle_algorithm = True
    server: _HTTPServer

    # -- plumbing

    def setup(self) -> None:
        super().setup()
        self.server.fake._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.fake._track(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():  # trailers
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()  # CRLF after each chunk
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        extra_headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra_headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def _send_json(
        self, status: int, payload: dict[str, Any], extra_headers: dict[str, str] | None = None
    ) -> None:
        self._send(status, json.dumps(payload).encode(), extra_headers=extra_headers)

    def _send_error(self, status: int, message: str, code: str | None = None) -> None:
        self._send_json(status, error_body(status, message, code))

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    # -- routing

    def _path(self) -> str:
        return self.path.split("?", 1)[0]

    def do_GET(self) -> None:
        self._read_body()
        if self._path() == "/v1/models":
            self._send_json(200, self.server.fake._models_payload())
        else:
            self._not_found()

    def do_POST(self) -> None:
        raw = self._read_body()
        if self._path() == "/v1/chat/completions":
            self._chat(raw)
        else:
            self._not_found()

    def _not_found(self) -> None:
        self._send_error(404, f"Invalid URL ({self.command} {self._path()})")

    do_PUT = do_PATCH = do_DELETE = do_GET  # no such endpoints: 404 as well

    # -- chat completions

    def _chat(self, raw: bytes) -> None:
        try:
            body = json.loads(raw)
        except ValueError:
            self._send_error(400, "We could not parse the JSON body of your request.")
            return
        if not isinstance(body, dict):
            self._send_error(400, "The request body must be a JSON object.")
            return
        fake = self.server.fake
        fake._record(body, {k.lower(): v for k, v in self.headers.items()})
        if body.get("stream"):
            self._send_error(400, "Streaming is not supported by the fake OpenAI server.")
            return
        with fake._in_flight():
            self._perform(fake._next_behaviour(), body)

    def _perform(self, behaviour: Behaviour, body: dict[str, Any]) -> None:
        match behaviour:
            case Ok(responder):
                self._respond_with(body, responder, finish_reason="stop", cut=False)
            case Truncated(responder):
                self._respond_with(body, responder, finish_reason="length", cut=True)
            case Runaway(responder, tokens):
                start = _render(responder, body) if responder else '{"tips": [{"title": "'
                content = start[: len(start) // 2] + "and then, " * tokens
                self._send_json(200, _completion(body, content, None, "length", tokens))
            case Choose(pick):
                self._perform(pick(body), body)
            case Slow(seconds, then):
                if self.server.fake._stopping.wait(seconds):
                    self._drop()  # server is stopping: give up without answering
                else:
                    self._perform(then, body)
            case Error(status, message, retry_after, code):
                headers = {}
                if retry_after is not None:
                    seconds = int(retry_after) if retry_after == int(retry_after) else retry_after
                    headers["Retry-After"] = str(seconds)
                self._send_json(status, error_body(status, message, code), headers)
            case Malformed():
                self._send_json(200, _completion(body, MALFORMED_CONTENT, None, "stop"))
            case Refusal(text):
                self._send_json(200, _completion(body, None, text, "stop"))
            case BrokenBody():
                self._send(200, BROKEN_BODY)
            case DropConnection():
                self._drop()
            case _:
                raise TypeError(f"unknown fake OpenAI behaviour: {behaviour!r}")

    def _respond_with(
        self, body: dict[str, Any], responder: Responder, *, finish_reason: str, cut: bool
    ) -> None:
        try:
            content = _render(responder, body)
        except Exception as exc:  # a broken responder is a test bug: make it loud
            self._send_error(500, f"fake responder raised {exc!r}")
            return
        used = None
        if cut:  # cut off at the request's token cap, as usage reports it
            content = content[: len(content) // 2]
            used = min(token_caps(body).values(), default=None)
        self._send_json(200, _completion(body, content, None, finish_reason, used))


_ids = itertools.count(1)


def _completion(
    body: dict[str, Any],
    content: str | None,
    refusal_text: str | None,
    finish_reason: str,
    completion_tokens: int | None = None,
) -> dict[str, Any]:
    prompt_tokens = _rough_tokens(json.dumps(body.get("messages", [])))
    if completion_tokens is None:
        completion_tokens = _rough_tokens(content or refusal_text or "")
    return {
        "id": f"chatcmpl-fake{next(_ids)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "fake-model"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": refusal_text},
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


class FakeOpenAIServer:
    """An OpenAI-compatible server on 127.0.0.1:<ephemeral port>, scripted per test.

    Use as a context manager or call :meth:`start` / :meth:`stop`. Behaviours added
    with :meth:`enqueue` answer chat requests in order; afterwards ``default`` is used.
    """

    def __init__(self, models: tuple[str, ...] = ("gpt-4o-mini",)) -> None:
        self.default: Behaviour = ok("{}")
        self.models = models
        self._lock = threading.Lock()
        self._queue: deque[Behaviour] = deque()
        self._requests: list[dict[str, Any]] = []
        self._headers: list[dict[str, str]] = []
        self._connections: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._busy = 0
        self.max_in_flight = 0
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle

    def start(self) -> FakeOpenAIServer:
        if self._httpd is not None:
            raise RuntimeError("FakeOpenAIServer is already running")
        self._stopping.clear()
        httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        httpd.fake = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="FakeOpenAIServer",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; wakes sleeping handlers and closes open keep-alive sockets."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("FakeOpenAIServer is not running")
        return f"http://127.0.0.1:{self._httpd.server_port}/v1"

    # -- scripting and inspection

    def enqueue(self, *behaviours: Behaviour) -> None:
        """Queue behaviours; each chat request consumes the oldest one."""
        with self._lock:
            self._queue.extend(behaviours)

    @property
    def pending(self) -> int:
        """Number of queued behaviours not yet consumed."""
        with self._lock:
            return len(self._queue)

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Snapshot (a copy) of the parsed JSON bodies of all chat requests, in order."""
        with self._lock:
            return list(self._requests)

    @property
    def request_headers(self) -> list[dict[str, str]]:
        """Snapshot of each chat request's headers (lower-cased names), parallel to requests."""
        with self._lock:
            return list(self._headers)

    @contextlib.contextmanager
    def _in_flight(self):
        """Counts chat requests being answered at once: `max_in_flight` proves concurrency
        without timing anything."""
        with self._lock:
            self._busy += 1
            self.max_in_flight = max(self.max_in_flight, self._busy)
        try:
            yield
        finally:
            with self._lock:
                self._busy -= 1

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self._requests)

    def reset(self) -> None:
        """Forget recorded requests and queued behaviours (``default`` is kept)."""
        with self._lock:
            self._queue.clear()
            self._requests.clear()
            self._headers.clear()

    # -- used by the handler

    def _next_behaviour(self) -> Behaviour:
        with self._lock:
            return self._queue.popleft() if self._queue else self.default

    def _record(self, body: dict[str, Any], headers: dict[str, str]) -> None:
        with self._lock:
            self._requests.append(body)
            self._headers.append(headers)

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def _models_payload(self) -> dict[str, Any]:
        return {
            "object": "list",
            "data": [
                {"id": m, "object": "model", "created": 0, "owned_by": "fake-openai-server"}
                for m in self.models
            ],
        }
