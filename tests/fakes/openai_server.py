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

Prompt caching (:meth:`FakeOpenAIServer.cache_prompts`): usage then reports
``prompt_tokens_details.cached_tokens`` as OpenAI does, the longest prefix of the
prompt (the response schema, then the messages) seen before, from ``min_tokens`` on
in steps of ``step`` tokens (4 characters a token).

The Batch API: ``POST /v1/files`` (multipart, purpose "batch"), ``POST /v1/batches``,
``GET /v1/batches/{id}``, ``POST /v1/batches/{id}/cancel`` and
``GET /v1/files/{id}/content``. A batch completes ``batch_seconds`` after it was
created (``None``: it never does), each JSONL line answered by the next behaviour as
a chat request would be; a line whose behaviour drops the connection or sends a
broken body is left out of the output (the batch's ``failed`` count).
"""

from __future__ import annotations

import contextlib
import email.parser
import hashlib
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
        path = self._path()
        if path == "/v1/models":
            self._send_json(200, self.server.fake._models_payload())
        elif path.startswith("/v1/batches/"):
            self._batches(b"")
        elif path.startswith("/v1/files/") and path.endswith("/content"):
            self._file_content()
        else:
            self._not_found()

    def do_POST(self) -> None:
        raw = self._read_body()
        path = self._path()
        if path == "/v1/chat/completions":
            self._chat(raw)
        elif path == "/v1/files":
            self._files(raw)
        elif path == "/v1/batches" or path.startswith("/v1/batches/"):
            self._batches(raw)
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
        status, payload, headers = _answer(self.server.fake, behaviour, body)
        if payload is None:
            self._drop()
        elif isinstance(payload, bytes):
            self._send(status, payload, extra_headers=headers)
        else:
            self._send_json(status, payload, headers)

    # -- files and batches

    def _files(self, raw: bytes) -> None:
        if not self.server.fake.batch_api:
            self._not_found()
            return
        head = f"Content-Type: {self.headers.get('Content-Type', '')}\r\n\r\n".encode()
        form = email.parser.BytesParser().parsebytes(head + raw)
        parts = {p.get_param("name", header="content-disposition"): p for p in form.get_payload()}
        if not form.is_multipart() or "file" not in parts:
            self._send_error(400, "A multipart body with a file is expected.")
            return
        upload = parts["file"]
        purpose = parts["purpose"].get_payload(decode=True).decode() if "purpose" in parts else ""
        self._send_json(200, self.server.fake._store_file(upload.get_payload(decode=True), purpose))

    def _batches(self, raw: bytes) -> None:
        fake, path = self.server.fake, self._path().removeprefix("/v1/batches").strip("/")
        if not fake.batch_api:
            self._not_found()
            return
        if self.command == "POST" and not path:
            body = json.loads(raw or b"{}")
            if body.get("input_file_id") not in fake._files:
                self._send_error(404, f"No such File object: {body.get('input_file_id')}")
                return
            self._send_json(200, fake._create_batch(body))
            return
        batch_id, _, action = path.partition("/")
        if batch_id not in fake._batches or action not in ("", "cancel"):
            self._not_found()
            return
        if action == "cancel":
            fake._cancel_batch(batch_id)
        self._send_json(200, fake._batch_state(batch_id))

    def _file_content(self) -> None:
        file_id = self._path().removeprefix("/v1/files/").removesuffix("/content")
        content = self.server.fake._files.get(file_id)
        if content is None:
            self._send_error(404, f"No such File object: {file_id}")
        else:
            self._send(200, content[0], "application/octet-stream")


def _answer(
    fake: FakeOpenAIServer, behaviour: Behaviour, body: dict[str, Any]
) -> tuple[int, dict[str, Any] | bytes | None, dict[str, str]]:
    """(status, JSON payload or raw bytes, headers) to answer a chat request with; a payload of
    None drops the connection."""
    match behaviour:
        case Ok(responder):
            return _content_answer(fake, body, responder, finish_reason="stop", cut=False)
        case Truncated(responder):
            return _content_answer(fake, body, responder, finish_reason="length", cut=True)
        case Runaway(responder, tokens):
            start = _render(responder, body) if responder else '{"tips": [{"title": "'
            content = start[: len(start) // 2] + "and then, " * tokens
            return 200, _completion(fake, body, content, None, "length", tokens), {}
        case Choose(pick):
            return _answer(fake, pick(body), body)
        case Slow(seconds, then):
            if fake._stopping.wait(seconds):
                return 0, None, {}  # server is stopping: give up without answering
            return _answer(fake, then, body)
        case Error(status, message, retry_after, code):
            headers = {}
            if retry_after is not None:
                seconds = int(retry_after) if retry_after == int(retry_after) else retry_after
                headers["Retry-After"] = str(seconds)
            return status, error_body(status, message, code), headers
        case Malformed():
            return 200, _completion(fake, body, MALFORMED_CONTENT, None, "stop"), {}
        case Refusal(text):
            return 200, _completion(fake, body, None, text, "stop"), {}
        case BrokenBody():
            return 200, BROKEN_BODY, {}
        case DropConnection():
            return 0, None, {}
        case _:
            raise TypeError(f"unknown fake OpenAI behaviour: {behaviour!r}")


def _content_answer(
    fake: FakeOpenAIServer,
    body: dict[str, Any],
    responder: Responder,
    *,
    finish_reason: str,
    cut: bool,
) -> tuple[int, dict[str, Any], dict[str, str]]:
    try:
        content = _render(responder, body)
    except Exception as exc:  # a broken responder is a test bug: make it loud
        return 500, error_body(500, f"fake responder raised {exc!r}"), {}
    used = None
    if cut:  # cut off at the request's token cap, as usage reports it
        content = content[: len(content) // 2]
        used = min(token_caps(body).values(), default=None)
    return 200, _completion(fake, body, content, None, finish_reason, used), {}


_ids = itertools.count(1)


def _completion(
    fake: FakeOpenAIServer,
    body: dict[str, Any],
    content: str | None,
    refusal_text: str | None,
    finish_reason: str,
    completion_tokens: int | None = None,
) -> dict[str, Any]:
    prompt = _prompt_text(body)
    prompt_tokens = _rough_tokens(prompt)
    usage: dict[str, Any] = {}
    if fake._cache is not None:
        usage["prompt_tokens_details"] = {"cached_tokens": fake._cache.look_up(prompt)}
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
            **usage,
        },
    }


def _prompt_text(body: dict[str, Any]) -> str:
    """What a prompt cache sees, in order: the response schema (OpenAI puts it before the system
    message), then the messages."""
    response_format = body.get("response_format")
    head = json.dumps(response_format) if response_format else ""
    return head + json.dumps(body.get("messages", []))


class PromptCache:
    """OpenAI's rule for cached prompt tokens: the longest prefix of at least `min_tokens`, in
    steps of `step` tokens, that an earlier prompt began with; 0 below that."""

    def __init__(self, min_tokens: int, step: int) -> None:
        self.min_tokens, self.step = min_tokens, step
        self._seen: set[bytes] = set()
        self._lock = threading.Lock()

    def look_up(self, prompt: str) -> int:
        ends = range(self.min_tokens, _rough_tokens(prompt) + 1, self.step)
        keys, digest, done = [], hashlib.blake2b(digest_size=16), 0
        for end in ends:  # one pass: each key is the hash of the prompt up to that token
            digest.update(prompt[done : 4 * end].encode())
            done = 4 * end
            keys.append(digest.copy().digest())
        with self._lock:
            cached = max((e for e, k in zip(ends, keys, strict=True) if k in self._seen), default=0)
            self._seen.update(keys)
        return cached


class FakeOpenAIServer:
    """An OpenAI-compatible server on 127.0.0.1:<ephemeral port>, scripted per test.

    Use as a context manager or call :meth:`start` / :meth:`stop`. Behaviours added
    with :meth:`enqueue` answer chat requests in order; afterwards ``default`` is used.
    """

    def __init__(
        self, models: tuple[str, ...] = ("gpt-4o-mini",), *, keep_requests: bool = True
    ) -> None:
        self.default: Behaviour = ok("{}")
        self.models = models
        # False: count requests without keeping their bodies (a benchmark's thousands of them).
        self.keep_requests = keep_requests
        self._count = 0
        self._cache: PromptCache | None = None
        # Seconds from a batch's creation to its completion; None: batches never complete.
        self.batch_seconds: float | None = 0.0
        self.batch_api = True  # False: /v1/files and /v1/batches answer 404, as vLLM's would
        self._files: dict[str, tuple[bytes, str]] = {}
        self._batches: dict[str, dict[str, Any]] = {}
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
            return self._count

    def batch_input(self, batch_id: str) -> list[str]:
        """The JSONL lines a batch was created with."""
        with self._lock:
            file_id = self._batches[batch_id]["input_file_id"]
            return self._files[file_id][0].decode().splitlines()

    def cache_prompts(self, *, min_tokens: int = 1024, step: int = 128) -> None:
        """Report cached prompt tokens from now on (a fresh cache), by OpenAI's rule."""
        self._cache = PromptCache(min_tokens, step)

    @property
    def batches(self) -> list[dict[str, Any]]:
        """The state of every batch created, oldest first."""
        with self._lock:
            return [dict(b) for b in self._batches.values()]

    def reset(self) -> None:
        """Forget recorded requests and queued behaviours (``default`` is kept)."""
        with self._lock:
            self._queue.clear()
            self._requests.clear()
            self._headers.clear()
            self._count = 0

    # -- used by the handler

    def _next_behaviour(self) -> Behaviour:
        with self._lock:
            return self._queue.popleft() if self._queue else self.default

    def _record(self, body: dict[str, Any], headers: dict[str, str]) -> None:
        with self._lock:
            self._count += 1
            if self.keep_requests:
                self._requests.append(body)
                self._headers.append(headers)

    def _store_file(self, content: bytes, purpose: str) -> dict[str, Any]:
        with self._lock:
            file_id = f"file-fake{next(_ids)}"
            self._files[file_id] = (content, purpose)
        return {
            "id": file_id,
            "object": "file",
            "bytes": len(content),
            "created_at": int(time.time()),
            "filename": "upload.jsonl",
            "purpose": purpose,
            "status": "processed",
        }

    def _create_batch(self, body: dict[str, Any]) -> dict[str, Any]:
        lines = self._files[body["input_file_id"]][0].decode().splitlines()
        with self._lock:
            batch_id = f"batch_fake{next(_ids)}"
            self._batches[batch_id] = {
                "id": batch_id,
                "object": "batch",
                "endpoint": body.get("endpoint", ""),
                "input_file_id": body["input_file_id"],
                "completion_window": body.get("completion_window", "24h"),
                "status": "in_progress",
                "created_at": int(time.time()),
                "output_file_id": None,
                "error_file_id": None,
                "request_counts": {"total": len(lines), "completed": 0, "failed": 0},
                "metadata": body.get("metadata"),
                "_started": time.monotonic(),
            }
        return self._batch_state(batch_id)

    def _cancel_batch(self, batch_id: str) -> None:
        with self._lock:
            batch = self._batches[batch_id]
            if batch["status"] in ("validating", "in_progress"):
                batch["status"] = "cancelled"

    def _batch_state(self, batch_id: str) -> dict[str, Any]:
        """The batch as GET /v1/batches/{id} shows it; it completes (each line answered in turn)
        on the first look once `batch_seconds` have passed."""
        with self._lock:
            batch = self._batches[batch_id]
            due = self.batch_seconds is not None and (
                time.monotonic() - batch["_started"] >= self.batch_seconds
            )
            run = due and batch["status"] == "in_progress"
            if run:
                batch["status"] = "finalizing"
        if run:
            self._run_batch(batch)
        with self._lock:
            return {k: v for k, v in batch.items() if not k.startswith("_")}

    def _run_batch(self, batch: dict[str, Any]) -> None:
        output, failed = [], 0
        for line in self._files[batch["input_file_id"]][0].decode().splitlines():
            task = json.loads(line)
            self._record(task["body"], {})
            status, payload, _ = _answer(self, self._next_behaviour(), task["body"])
            if not isinstance(payload, dict):  # dropped, or not JSON: no answer for this line
                failed += 1
                continue
            number = next(_ids)
            answer = {"status_code": status, "request_id": f"req_fake{number}", "body": payload}
            output.append({"id": f"batch_req_fake{number}", "custom_id": task["custom_id"],
                           "response": answer, "error": None})  # fmt: skip
        content = "".join(json.dumps(row) + "\n" for row in output).encode()
        stored = self._store_file(content, "batch_output")
        with self._lock:
            batch.update(status="completed", output_file_id=stored["id"])
            batch["request_counts"].update(completed=len(output), failed=failed)

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
