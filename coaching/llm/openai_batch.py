"""The weekly batch through OpenAI's Batch API (COACH_LLM_BATCH=openai): every plan's first
question in one JSONL file, one batch job, polled until it completes or the deadline passes.

Each answer the batch gives is read and checked exactly as a direct answer is (`OpenAICoach.
read_plan`); a `BatchAnswer` stands in for the coach's first answer, so the policy repairs,
retries (on the live endpoint) and falls back as it always does. A plan the batch did not answer
by the deadline falls back to the playbook at once, and says why. No database here."""

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import openai

from .base import (
    CallRecord,
    PermanentLLMError,
    PlanRequest,
    Repair,
    Reply,
    TransientLLMError,
)
from .openai_adapter import OpenAICoach, error_detail
from .schemas import PlanOut

log = logging.getLogger(__name__)
ENDPOINT = "/v1/chat/completions"
FINISHED = ("completed", "failed", "expired", "cancelled")


class BatchUnavailable(Exception):
    """The provider took no batch (no such endpoint, refused the file): ask the live endpoint."""


@dataclass
class BatchOutcome:
    """What one batch job gave: each request's chat completion body by number, or why not."""

    coach: OpenAICoach
    requests: Sequence[PlanRequest]
    batch_id: str
    status: str
    seconds: float
    answers: dict[int, dict] = field(default_factory=dict)
    errors: dict[int, tuple[int, str]] = field(default_factory=dict)  # (status, message)
    deadline: float = 0.0
    cancelled: bool = False  # still running at the deadline, so cancelled

    def stand_in(self, number: int) -> "BatchAnswer":
        return BatchAnswer(self, number)

    def missing(self) -> str:
        state = f"still {self.status} at the deadline, cancelled" if self.cancelled else self.status
        return f"not answered by the Batch API within {self.deadline:g} s (batch {self.batch_id} {state})"


class BatchAnswer:
    """The coach for one plan whose first answer came from the batch: that answer once, then the
    live coach (a repair, a retry after a transient error)."""

    offline = False

    def __init__(self, outcome: BatchOutcome, number: int) -> None:
        self.outcome, self.number, self.used = outcome, number, False
        live = outcome.coach
        self.live, self.name, self.model = live, live.name, live.model
        self.prompt_version = live.prompt_version

    def weekly_plan(
        self, request: PlanRequest, *, calls: list[CallRecord], repair: Repair | None = None
    ) -> Reply[PlanOut]:
        if self.used or repair is not None:
            return self.live.weekly_plan(request, calls=calls, repair=repair)
        self.used = True
        record = CallRecord(
            self.name, self.model, self.prompt_version, len(calls) + 1, mode="batch"
        )
        record.latency_ms = round(self.outcome.seconds * 1000)
        calls.append(record)
        payload = self.outcome.answers.get(self.number)
        if payload is not None:
            return Reply(self.live.read_plan(record, payload, request))
        status, message = self.outcome.errors.get(self.number, (0, self.outcome.missing()))
        record.error = message[:2000]
        if status == 429 or status >= 500:  # retried on the live endpoint, as any outage is
            record.outcome = "transient"
            raise TransientLLMError(record.error)
        record.outcome = "error"
        raise PermanentLLMError(record.error)

    def draft_module(self, *args, **kwargs):
        return self.live.draft_module(*args, **kwargs)


def submit_batch(
    coach: OpenAICoach,
    requests: Sequence[PlanRequest],
    *,
    deadline: float,
    poll: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> BatchOutcome:
    """Upload the requests, start a batch and wait for it up to `deadline` seconds, looking every
    `poll` seconds; a batch still running then is cancelled (what it finished is still read)."""
    lines = [
        {"custom_id": str(n), "method": "POST", "url": ENDPOINT, "body": coach.plan_body(r)}
        for n, r in enumerate(requests)
    ]
    data = "".join(json.dumps(line) + "\n" for line in lines).encode()
    client, started = coach.client, clock()
    try:
        uploaded = client.files.create(file=("weekly-plans.jsonl", data), purpose="batch")
        batch = client.batches.create(
            input_file_id=uploaded.id, endpoint=ENDPOINT, completion_window="24h"
        )
    except (openai.APIStatusError, openai.APIConnectionError) as exc:
        detail = error_detail(exc) if isinstance(exc, openai.APIStatusError) else str(exc)
        raise BatchUnavailable(detail) from exc
    log.info("Batch API: batch %s of %s plans submitted", batch.id, len(lines))
    status, cancelled = batch.status, False
    while batch.status not in FINISHED:
        left = deadline - (clock() - started)
        if left <= 0:
            status, cancelled, batch = batch.status, True, _cancel(client, batch)
            break
        sleep(min(poll, left))
        try:
            batch = client.batches.retrieve(batch.id)
        except (openai.APIStatusError, openai.APIConnectionError) as exc:  # look again later
            log.warning("Batch API: batch %s not read: %s", batch.id, exc)
    status = status if cancelled else batch.status
    outcome = BatchOutcome(coach, requests, batch.id, status, clock() - started)
    outcome.deadline, outcome.cancelled = deadline, cancelled
    if batch.output_file_id:
        _read_output(client.files.content(batch.output_file_id).text, outcome)
    log.info(
        "Batch API: batch %s %s after %.0f s, %s of %s plans answered",
        batch.id, batch.status, outcome.seconds, len(outcome.answers), len(lines),
    )  # fmt: skip
    return outcome


def _cancel(client: openai.OpenAI, batch):
    """Cancel a batch past the deadline: the provider stops (and stops billing) its remaining
    requests. A failed cancel is only logged; its status stays what it was."""
    try:
        return client.batches.cancel(batch.id)
    except (openai.APIStatusError, openai.APIConnectionError) as exc:
        log.warning("Batch API: batch %s not cancelled: %s", batch.id, exc)
        return batch


def _read_output(text: str, outcome: BatchOutcome) -> None:
    for line in text.splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        number = int(row["custom_id"])
        response = row.get("response") or {}
        status = response.get("status_code") or 0
        if status == 200 and isinstance(response.get("body"), dict):
            outcome.answers[number] = response["body"]
            continue
        body = response.get("body") or row.get("error") or {}
        error = body.get("error", body) if isinstance(body, dict) else {}
        message = error.get("message") if isinstance(error, dict) else None
        outcome.errors[number] = (status, f"Batch API answered {status}: {message or body}")
