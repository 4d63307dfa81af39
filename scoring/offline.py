"""Analyses too slow for a request (the chain's key drivers, coaching's impact): a Celery task
computes them and keeps them in the shared cache (CACHE_URL), keyed by their inputs; a request
serves what is there. When the inputs have moved on (a new data week, tips marked done), the
request queues one computation and serves the newest result meanwhile, saying from when.

Where tasks run in-process (the embedded mode, no broker) the computation runs in the request,
as before: a laptop has no worker to wait for."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

T = TypeVar("T")

KEEP_SECONDS = 8 * 24 * 3600  # a data week's result, and then some
QUEUED_SECONDS = 10 * 60  # one queued computation per key at a time; a lost one is retried


@dataclass
class Computed(Generic[T]):
    value: T | None
    computed_at: dt.datetime | None
    fresh: bool  # computed for the inputs asked about; else a newer one is being computed

    @property
    def computing(self) -> bool:
        return not self.fresh


def served(
    key: str, *, latest: str, task: str, args: list, compute: Callable[[], T]
) -> Computed[T]:
    """The result for `key`; else, with a broker, the newest under `latest` while `task(*args)`
    computes it; without one, computed now."""
    found = kept(key)
    if found is not None:
        return found
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return keep(key, latest=latest, value=compute())
    if cache.add(f"{key}:queued", 1, QUEUED_SECONDS):
        current_app.send_task(task, args=args)
    newest = cache.get(latest)
    return Computed(newest[1], newest[0], fresh=False) if newest else Computed(None, None, False)


def keep(key: str, *, latest: str, value: T) -> Computed[T]:
    """Store a computed result under its key and as the newest of its kind."""
    now = timezone.now()
    cache.set(key, (now, value), KEEP_SECONDS)
    cache.set(latest, (now, value), KEEP_SECONDS)
    cache.delete(f"{key}:queued")
    return Computed(value, now, fresh=True)


def kept(key: str) -> Computed | None:
    """The result kept under `key`, if any, without queueing anything."""
    found = cache.get(key)
    return Computed(found[1], found[0], fresh=True) if found is not None else None
