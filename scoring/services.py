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
from django.db.models import Avg, Case, Count, Max, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from rest_framework.authtoken.models import Token

from . import maths
from .import_results import ImportResult, dating_window, too_far_back
from .imports import import_scores
from .metrics import METRICS
from .models import (
    Answer,
    Audience,
    Category,
    CategoryScore,
    ChangeKind,
    MetricReading,
    Profile,
    Question,
    Region,
    Role,
    ScoreChange,
    Source,
    Store,
    Submission,
)
from .weeks import week_label, week_start

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
    """Give a user their role and patch of the chain: the matching role group only, and the flags
    of the role (`is_staff` for admins only; `is_superuser` cleared for any other role).

    Every role change goes through here, the Django admin's included, so a demoted admin or lead
    keeps no group or flag of the old role."""
    profile, _created = Profile.objects.update_or_create(user=user, defaults={"role": role})
    user.profile = profile  # refresh the instance's cached profile
    profile.stores.set(stores)
    profile.regions.set(regions)
    groups = Group.objects.filter(name__in=ROLE_GROUPS.values())
    user.groups.remove(*groups)
    user.groups.add(Group.objects.get(name=ROLE_GROUPS[Role(role)]))
    flags = {"is_staff": role == Role.ADMIN}
    if role != Role.ADMIN:
        flags["is_superuser"] = False
    changed = [name for name, value in flags.items() if getattr(user, name) != value]
    for name in changed:
        setattr(user, name, flags[name])
    if changed:
        user.save(update_fields=changed)
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(cache, None)
    return profile


@transaction.atomic
def api_token(user, *, rotate: bool = False) -> str:
    """The user's API token, created if needed; `rotate` revokes the old one first."""
    if rotate:
        Token.objects.filter(user=user).delete()
    token, _created = Token.objects.get_or_create(user=user)
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


def _check_week(week: dt.date, *, by, backdate_weeks: int | None) -> None:
    """Refuse a week that is not a Monday, or outside the `dating_window`."""
    if week.weekday() != 0:
        raise ValidationError(_("week must be the Monday of an ISO week"))
    window = dating_window(week_start(timezone.localdate()), by=by, backdate_weeks=backdate_weeks)
    if week > window.current_week:
        raise ValidationError(
            {"week": _("week %(week)s is in the future") % {"week": week_label(week)}}
        )
    if window.oldest is not None and week < window.oldest:
        raise ValidationError({"week": too_far_back(week, window.weeks_back)})


@transaction.atomic
def submit_responses(
    *,
    store: Store,
    week: dt.date,
    responses: Sequence[Mapping[int, int]],
    by=None,
    via: str = "command",
    backdate_weeks: int | None = None,
) -> int:
    """Save questionnaire responses (one mapping question id -> 1..5 per respondent) and
    refresh the store's questionnaire scores for that week. Returns how many were saved.

    `by` is who submits (an admin or an integration account; None for a system write): kept on
    each submission and in a `ScoreChange`. At most `SCORE_MAX_RESPONDENTS` respondents a call;
    a person may not date them further back than `SCORE_BACKDATE_WEEKS` (see `dating_window`)."""
    if len(responses) > settings.SCORE_MAX_RESPONDENTS:
        most = settings.SCORE_MAX_RESPONDENTS
        message = ngettext(
            # Translators: English keeps one form for every count; give each of your language's.
            "at most %(most)s respondents a call",
            "at most %(most)s respondents a call",
            most,
        )
        raise ValidationError({"responses": message % {"most": most}})
    _check_week(week, by=by, backdate_weeks=backdate_weeks)
    questions = {q.id: q for q in Question.objects.filter(active=True)}
    for number, response in enumerate(responses, start=1):
        if not response:
            raise ValidationError(_("response %(number)s: no answers") % {"number": number})
        for question_id, value in response.items():
            if question_id not in questions:
                raise ValidationError(
                    _("response %(number)s: unknown question %(question)s")
                    % {"number": number, "question": question_id}
                )
            lowest = questions[question_id].lowest
            highest = questions[question_id].scale
            if not isinstance(value, int) or not lowest <= value <= highest:
                raise ValidationError(
                    _(
                        "response %(number)s: question %(question)s takes a whole number "
                        "%(lowest)s to %(highest)s"
                    )
                    % {
                        "number": number,
                        "question": question_id,
                        "lowest": lowest,
                        "highest": highest,
                    }
                )
    submissions = Submission.objects.bulk_create(
        [Submission(store=store, week=week, submitted_by=by) for _ in responses]
    )
    Answer.objects.bulk_create(
        [
            Answer(submission=submission, question_id=question_id, value=value)
            for submission, response in zip(submissions, responses, strict=True)
            for question_id, value in response.items()
        ],
        batch_size=settings.SCORING_IMPORT_BATCH,
    )
    changed = recompute_questionnaire_scores(store_ids=[store.id], weeks=[week])
    ScoreChange.record(
        kind=ChangeKind.QUESTIONNAIRE,
        by=by,
        via=via,
        store_ids=[store.id],
        weeks=[week],
        rows=len(submissions),
        summary=f"{len(submissions)} respondents for {store.code} in {week_label(week)}; "
        f"{changed} category scores recomputed.",
    )
    return len(submissions)


def recompute_questionnaire_scores(*, store_ids: Sequence[int], weeks: Sequence[dt.date]) -> int:
    """Rebuild questionnaire scores from the counted answers of these stores and weeks, in one
    query: the mean of each answer's 0-100 points (`maths.answer_points`) per category, and
    responses = respondents who answered it.

    A team category's score is written only once PULSE_MIN_STAFF_ANSWERS people answered it: a
    manager must not be able to read three colleagues' mood off a number."""
    aggregates = (
        Answer.objects.filter(
            submission__store_id__in=store_ids, submission__week__in=weeks, submission__counted=True
        )
        .values("submission__store_id", "submission__week", "question__category_id")
        .annotate(
            mean=Avg(Answer.points()),
            respondents=Count("submission_id", distinct=True),
            team=Max(Case(When(question__audience=Audience.STAFF, then=1), default=0)),
        )
    )
    rows = [
        CategoryScore(
            store_id=row["submission__store_id"],
            category_id=row["question__category_id"],
            week=row["submission__week"],
            score=to_score(row["mean"]),
            responses=row["respondents"],
            source=Source.QUESTIONNAIRE,
        )
        for row in aggregates
        if not row["team"] or row["respondents"] >= settings.PULSE_MIN_STAFF_ANSWERS
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
def record_metrics(readings: Sequence[MetricInput], *, by=None, via: str = "command") -> int:
    """Keep raw metric readings and turn them into `metric` category scores.

    Several metrics of one category in one week (NPS and review rating, say) are combined by the
    same response-weighted mean as sources are. `by` and `via` are recorded in a `ScoreChange`.
    """
    for reading in readings:
        if reading.metric not in METRICS:
            raise ValidationError(_("unknown metric %(metric)s") % {"metric": repr(reading.metric)})
        if reading.week.weekday() != 0:
            raise ValidationError(_("week must be the Monday of an ISO week"))
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
    ScoreChange.record(
        kind=ChangeKind.METRICS,
        by=by,
        via=via,
        store_ids=store_ids,
        weeks=weeks,
        rows=len(readings),
        summary=f"{len(readings)} metric readings; {len(rows)} category scores recomputed.",
    )
    return len(rows)
