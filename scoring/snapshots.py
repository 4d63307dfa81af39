"""What pages derive from the scores, kept until the scores change.

Every write of scores or KPIs adds a row to the audit trail (`ScoreChange`) in its own transaction,
so the trail's newest id names the data a page saw. A page reads that id (one query on the primary
key) and recomputes its figures only after an import, a questionnaire or pulse roll or a KPI
write, not on every view: at 5,000 stores, reading a region's history takes seconds.

With a broker, a write queues `coaching.tasks.warm_overviews` (once a minute at most), which
computes the overviews again before anyone asks; until it has, a page shows the figures it last
had for the same stores, saying from when. Without one (the embedded mode), the first view after a
write computes them.
"""

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db.models import Max
from django.utils import timezone

from .models import Category, ScoreChange

T = TypeVar("T")

KEEP_SECONDS = 8 * 24 * 3600  # a data week, and then some
WARM_EVERY_SECONDS = 60  # at most one queued warm-up a minute, however busy the pulse is
WARM_TASK = "coaching.tasks.warm_overviews"


@dataclass
class Snapshot(Generic[T]):
    value: T
    at: dt.datetime
    current: bool  # False: the scores have changed since, newer figures are being computed


def scores_version() -> int:
    return ScoreChange.objects.aggregate(last=Max("id"))["last"] or 0


def digest(parts: Iterable) -> str:
    return hashlib.blake2b(repr(list(parts)).encode(), digest_size=12).hexdigest()


def kept_for_scores(
    name: str, parts: Iterable, compute: Callable[[], T], *, wait: bool = False
) -> Snapshot[T]:
    """`compute()` once per version of the scores, of the categories' weights and of `parts`
    (the stores and whatever else the figures depend on); with a broker and without `wait`, the
    figures last kept for the same parts while the warm-up computes the new ones."""
    weights = Category.objects.filter(active=True).values_list("id", "weight")
    which = digest([*parts, *weights])
    key, newest = f"scores:{name}:{scores_version()}:{which}", f"scores:{name}:newest:{which}"
    found = cache.get(key)
    if found is not None:
        return Snapshot(found[1], found[0], current=True)
    if not (wait or settings.CELERY_TASK_ALWAYS_EAGER) and (older := cache.get(newest)) is not None:
        queue_warm_up()
        return Snapshot(older[1], older[0], current=False)
    now = timezone.now()
    value = compute()
    cache.set_many({key: (now, value), newest: (now, value)}, KEEP_SECONDS)
    return Snapshot(value, now, current=True)


def queue_warm_up() -> None:
    """With a broker, recompute the overviews soon; at most once per WARM_EVERY_SECONDS."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return
    if cache.add("scores:warm-queued", 1, WARM_EVERY_SECONDS):
        current_app.send_task(WARM_TASK)
