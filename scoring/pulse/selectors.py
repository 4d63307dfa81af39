"""Reads of the pulse room: which questions to ask next, and what a week's answers say so far.

The team's answers are anonymous in what is shown, not only in what is stored: below
PULSE_MIN_STAFF_ANSWERS answers in a week, no team score, category count or comment theme
leaves this module."""

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Avg, Count, F, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext

from ..models import Answer, Audience, Question, Store
from . import access
from .themes import themes_of


def local_day(store: Store) -> dt.date:
    """Today where the store is: answers belong to the store's own day and week."""
    try:
        zone = ZoneInfo(store.timezone)
    except (ValueError, KeyError):
        zone = ZoneInfo("UTC")
    return timezone.now().astimezone(zone).date()


def choose_questions(store: Store, audience: str, week: dt.date) -> list[Question]:
    """PULSE_QUESTIONS questions, one per category, the categories with the fewest answers this
    week first, and in each the question asked least: over a week every category gets its share
    and every question its turn."""
    questions = list(access.questions_for(audience).select_related("category"))
    asked = dict(
        access.answers_of([store.id], week)
        .filter(question__in=questions)
        .values("question_id")
        .annotate(n=Count("id"))
        .values_list("question_id", "n")
    )
    by_category: dict[int, list[Question]] = defaultdict(list)
    for question in questions:
        by_category[question.category_id].append(question)
    categories = sorted(
        by_category.values(),
        key=lambda qs: (sum(asked.get(q.id, 0) for q in qs), qs[0].category.display_order),
    )[: settings.PULSE_QUESTIONS]
    chosen = [min(qs, key=lambda q: (asked.get(q.id, 0), q.display_order)) for qs in categories]
    return sorted(chosen, key=lambda q: (q.category.display_order, q.display_order))


@dataclass
class CategorySoFar:
    name: str
    audience: str
    score: float | None  # None: too few team answers to show
    answers: int

    @property
    def label(self) -> str:
        return gettext(self.name)


@dataclass
class WeekSoFar:
    week: dt.date
    customer_answers: int = 0
    staff_answers: int = 0
    held_back: int = 0
    categories: list[CategorySoFar] = field(default_factory=list)
    customer_comments: list[str] = field(default_factory=list)
    staff_themes: list[tuple[str, int]] = field(default_factory=list)

    @property
    def staff_hidden(self) -> bool:
        return 0 < self.staff_answers < settings.PULSE_MIN_STAFF_ANSWERS

    @property
    def staff_threshold(self) -> int:
        return settings.PULSE_MIN_STAFF_ANSWERS


def week_so_far(store: Store, week: dt.date, *, comments: int = 20) -> WeekSoFar:
    """What the store's pulse says this week: four queries whatever the volume."""
    summary = WeekSoFar(week=week)
    volumes = volumes_by_store([store.id], week).get(store.id, {})
    summary.customer_answers = volumes.get("customer", 0)
    summary.staff_answers = volumes.get("staff", 0)
    summary.held_back = volumes.get("held_back", 0)
    threshold = settings.PULSE_MIN_STAFF_ANSWERS
    rows = (
        access.answers_of([store.id], week)
        .values(
            "question__category__name", "question__audience", "question__category__display_order"
        )
        .annotate(score=Avg(Answer.points()), answers=Count("submission_id", distinct=True))
        .order_by("question__category__display_order")
    )
    for row in rows:
        team = row["question__audience"] == Audience.STAFF
        hidden = team and summary.staff_answers < threshold
        summary.categories.append(
            CategorySoFar(
                name=row["question__category__name"],
                audience=row["question__audience"],
                score=None if hidden else round(row["score"], 1),
                answers=0 if hidden else row["answers"],
            )
        )
    summary.customer_comments = list(
        access.pulse_submissions([store.id], week)
        .filter(audience=Audience.CUSTOMER, counted=True)
        .exclude(comment="")
        .order_by("-id")
        .values_list("comment", flat=True)[:comments]
    )
    if summary.staff_answers >= threshold:
        summary.staff_themes = themes_of(
            access.pulse_submissions([store.id], week)
            .filter(audience=Audience.STAFF, counted=True)
            .exclude(comment="")
            .values_list("comment", flat=True)
            .iterator()
        )
    return summary


def volumes_by_store(store_ids: Sequence[int], week: dt.date) -> dict[int, dict[str, int]]:
    """Per store: counted customer and team answers, and answers held back by a flood cap."""
    rows = (
        access.pulse_submissions(store_ids, week)
        .values("store_id")
        .annotate(
            customer=Count("id", filter=Q(audience=Audience.CUSTOMER, counted=True)),
            staff=Count("id", filter=Q(audience=Audience.STAFF, counted=True)),
            held_back=Count("id", filter=Q(counted=False)),
        )
    )
    return {
        row["store_id"]: {k: row[k] for k in ("customer", "staff", "held_back")} for row in rows
    }


def customer_comments(store_ids: Sequence[int], week: dt.date, *, per_store: int = 8):
    """The week's latest customer comments per store, for the coach (already scrubbed)."""
    found: dict[int, list[str]] = defaultdict(list)
    rows = (
        access.pulse_submissions(store_ids, week)
        .filter(audience=Audience.CUSTOMER, counted=True)
        .exclude(comment="")
        .annotate(rank=Window(RowNumber(), partition_by=F("store_id"), order_by=F("id").desc()))
        .filter(rank__lte=per_store)
        .order_by("store_id", "-id")
        .values_list("store_id", "comment")
    )
    for store_id, comment in rows:
        found[store_id].append(comment)
    return dict(found)
