"""Writes to the scoring data. Each function is one transaction; callers never half-write."""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Avg, Count
from rest_framework.authtoken.models import Token

from . import maths
from .imports import ImportResult, import_scores
from .metrics import METRICS
from .models import (
    Answer,
    Category,
    CategoryScore,
    MetricReading,
    Profile,
    Question,
    Region,
    Role,
    Source,
    Store,
    Submission,
)

__all__ = [
    "ImportResult",
    "MetricInput",
    "api_token",
    "assign_role",
    "import_scores",
    "recompute_questionnaire_scores",
    "record_metrics",
    "submit_responses",
    "upsert_scores",
]

ONE_PLACE = Decimal("0.1")

# Django group that carries each role's model permissions (created by a data migration).
ROLE_GROUPS = {
    Role.STORE_MANAGER: "Store managers",
    Role.REGIONAL_LEAD: "Regional leads",
    Role.TRAINER: "Trainers",
    Role.ADMIN: "Administrators",
}


def to_score(value: float) -> Decimal:
    return Decimal(str(value)).quantize(ONE_PLACE, rounding=ROUND_HALF_UP)


@transaction.atomic
def assign_role(
    user,
    role: str,
    *,
    stores: Iterable[Store] = (),
    regions: Iterable[Region] = (),
) -> Profile:
    """Give a user their role and patch of the chain, and put them in the matching group only."""
    profile, _ = Profile.objects.update_or_create(user=user, defaults={"role": role})
    user.profile = profile  # refresh the instance's cached profile
    profile.stores.set(stores)
    profile.regions.set(regions)
    groups = Group.objects.filter(name__in=ROLE_GROUPS.values())
    user.groups.remove(*groups)
    user.groups.add(Group.objects.get(name=ROLE_GROUPS[Role(role)]))
    if role == Role.ADMIN and not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    return profile


@transaction.atomic
def api_token(user, *, rotate: bool = False) -> str:
    """The user's API token, created if needed; `rotate` revokes the old one first."""
    if rotate:
        Token.objects.filter(user=user).delete()
    token, _ = Token.objects.get_or_create(user=user)
    return token.key


def upsert_scores(rows: Sequence[CategoryScore]) -> None:
    """Insert or overwrite scores by (store, category, week, source) in bulk."""
    CategoryScore.objects.bulk_create(
        rows,
        batch_size=settings.SCORING_IMPORT_BATCH,
        update_conflicts=True,
        unique_fields=["store", "category", "week", "source"],
        update_fields=["score", "responses", "updated_at"],
    )


@transaction.atomic
def submit_responses(*, store: Store, week: dt.date, responses: Sequence[Mapping[int, int]]) -> int:
    """Save questionnaire responses (one mapping question id -> 1..5 per respondent) and
    refresh the store's questionnaire scores for that week. Returns how many were saved."""
    if week.weekday() != 0:
        raise ValidationError("week must be the Monday of an ISO week")
    questions = {q.id: q for q in Question.objects.filter(active=True)}
    for number, response in enumerate(responses, start=1):
        if not response:
            raise ValidationError(f"response {number}: no answers")
        for question_id, value in response.items():
            if question_id not in questions:
                raise ValidationError(f"response {number}: unknown question {question_id}")
            if not isinstance(value, int) or not 1 <= value <= 5:
                raise ValidationError(f"response {number}: answers are whole numbers 1 to 5")
    submissions = Submission.objects.bulk_create(
        [Submission(store=store, week=week) for _ in responses]
    )
    Answer.objects.bulk_create(
        [
            Answer(submission=submission, question_id=question_id, value=value)
            for submission, response in zip(submissions, responses, strict=True)
            for question_id, value in response.items()
        ],
        batch_size=settings.SCORING_IMPORT_BATCH,
    )
    recompute_questionnaire_scores(store_ids=[store.id], weeks=[week])
    return len(submissions)


def recompute_questionnaire_scores(*, store_ids: Sequence[int], weeks: Sequence[dt.date]) -> int:
    """Rebuild questionnaire scores from all answers of these stores and weeks, in one query.

    Score = (mean answer - 1) / 4 * 100 per category; responses = respondents who answered it.
    """
    aggregates = (
        Answer.objects.filter(submission__store_id__in=store_ids, submission__week__in=weeks)
        .values("submission__store_id", "submission__week", "question__category_id")
        .annotate(mean=Avg("value"), respondents=Count("submission_id", distinct=True))
    )
    rows = [
        CategoryScore(
            store_id=row["submission__store_id"],
            category_id=row["question__category_id"],
            week=row["submission__week"],
            score=to_score(maths.questionnaire_score(float(row["mean"]))),
            responses=row["respondents"],
            source=Source.QUESTIONNAIRE,
        )
        for row in aggregates
    ]
    upsert_scores(rows)
    return len(rows)


@dataclass(frozen=True)
class MetricInput:
    store: Store
    week: dt.date
    metric: str
    value: float
    sample_size: int | None = None


@transaction.atomic
def record_metrics(readings: Sequence[MetricInput]) -> int:
    """Keep raw metric readings and turn them into `metric` category scores.

    Several metrics of one category in one week (NPS and review rating, say) are combined by the
    same response-weighted mean as sources are.
    """
    for reading in readings:
        if reading.metric not in METRICS:
            raise ValidationError(f"unknown metric {reading.metric!r}")
        if reading.week.weekday() != 0:
            raise ValidationError("week must be the Monday of an ISO week")
    MetricReading.objects.bulk_create(
        [
            MetricReading(
                store=r.store,
                week=r.week,
                metric=r.metric,
                value=Decimal(str(r.value)).quantize(Decimal("0.01")),
                sample_size=r.sample_size,
            )
            for r in readings
        ],
        batch_size=settings.SCORING_IMPORT_BATCH,
        update_conflicts=True,
        unique_fields=["store", "week", "metric"],
        update_fields=["value", "sample_size"],
    )
    store_ids = {r.store.id for r in readings}
    weeks = {r.week for r in readings}
    stored = MetricReading.objects.filter(store_id__in=store_ids, week__in=weeks).values_list(
        "store_id", "week", "metric", "value", "sample_size"
    )
    parts = defaultdict(list)
    for store_id, week, metric, value, sample_size in stored:
        spec = METRICS.get(metric)
        if spec is not None:
            parts[(store_id, spec.category, week)].append(
                (spec.to_score(float(value)), sample_size)
            )
    category_ids = dict(Category.objects.values_list("code", "id"))
    rows = []
    for (store_id, category, week), scores in parts.items():
        known = [n for _, n in scores if n is not None]
        rows.append(
            CategoryScore(
                store_id=store_id,
                category_id=category_ids[category],
                week=week,
                score=to_score(
                    maths.combine_sources(scores, unknown_weight=settings.SCORING_MIN_RESPONSES)
                ),
                responses=sum(known) if len(known) == len(scores) else None,
                source=Source.METRIC,
            )
        )
    upsert_scores(rows)
    return len(rows)
