"""Writes for goals. Every change of a goal, from the web form or the API, comes through here:
the rules on targets and dates, and the status transitions, live in one place."""

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from scoring.models import Category, Store
from scoring.numbers import decimal
from scoring.selectors import latest_scored_week, store_trends

from ..models import Goal

Status = Goal.Status
MAX_INTENT = Goal._meta.get_field("intent").max_length  # 500: the words a prompt carries


def _intent(text: str) -> str:
    text = text.strip()
    if len(text) > MAX_INTENT:
        raise ValidationError(
            ngettext(
                # Translators: English keeps one form for every count; give each of your language's.
                "the goal's text must be at most %(most)s characters, got %(length)s",
                "the goal's text must be at most %(most)s characters, got %(length)s",
                MAX_INTENT,
            )
            % {"most": MAX_INTENT, "length": len(text)}
        )
    return text


def _room_for_another(manager, store: Store) -> None:
    """A manager keeps at most GOALS_PER_MANAGER active goals per store: each goes into every
    weekly plan's prompt, so an unlimited number would make prompts unlimited too."""
    most = settings.GOALS_PER_MANAGER
    # Locks the manager's active goals there, so two requests at once cannot both pass.
    active = Goal.objects.select_for_update().filter(
        manager=manager, store=store, status=Status.ACTIVE
    )
    if len(active.values_list("pk", flat=True)) >= most:
        raise ValidationError(
            ngettext(
                # Translators: English keeps one form for every count; give each of your language's.
                "at most %(most)s active goals per store; close or drop one before adding another",
                "at most %(most)s active goals per store; close or drop one before adding another",
                most,
            )
            % {"most": most}
        )


HOLD_MARGIN = 2.0  # a hold target may sit this far above the latest score: about a week's noise


def _target(value) -> Decimal:
    if not 0 <= float(value) <= 100:
        raise ValidationError(_("target score must be between 0 and 100"))
    return Decimal(str(value)).quantize(Decimal("0.1"))


def _latest_score(store: Store, category_id: int) -> float | None:
    week = latest_scored_week([store.id])
    if week is None:
        return None
    return next(t.score for t in store_trends(store, week) if t.category.id == category_id)


def _direction(kind: str, target: Decimal, current: float | None) -> tuple[str, str] | None:
    """(field, reason) when the target does not fit the goal's direction: a raise goal aims above
    today's score, a hold goal keeps a level the score has (about) reached already."""
    if kind == Goal.Kind.HOLD and current is None:
        return "kind", _(
            "A hold goal keeps a score the store already has, and this category has no score "
            "yet. Choose “Raise to” instead."
        )
    if current is None:
        return None  # nothing to compare with: any raise target is a start
    if kind == Goal.Kind.RAISE and float(target) <= current:
        return "target_score", _(
            "The score is already %(current)s, at or above this target. Aim above "
            "%(current)s, or choose “Hold at or above” to keep it where it is."
        ) % {"current": decimal(current)}
    if kind == Goal.Kind.HOLD and float(target) > current + HOLD_MARGIN:
        return "target_score", _(
            "The score is %(current)s, so a hold goal can keep it at %(most)s or below. "
            "To lift it higher, choose “Raise to”."
        ) % {"current": decimal(current), "most": decimal(current + HOLD_MARGIN)}
    return None


def check_goal(
    *,
    store: Store | None,
    category: Category | None,
    kind: str | None = None,
    target_score=None,
    due_date: dt.date | None = None,
    intent: str | None = None,
    goal: Goal | None = None,
) -> float | None:
    """The one rule book of a goal's fields, for the web form and the API alike: every problem
    at once, keyed by field, so a person fixes them in one go. A value given as None is missing
    or already refused by its field, and the rules that need it wait. `goal` is the goal being
    edited: its unchanged due date and direction are not judged again (a goal whose score has
    passed its target can still have its words edited). Returns the latest score it judged
    against, which a new goal keeps as its baseline."""
    errors: dict[str, list[str]] = {}
    kind = kind or (goal.kind if goal else Goal.Kind.RAISE)
    if kind not in Goal.Kind.values:
        errors["kind"] = [_("choose “Raise to” or “Hold at or above”")]
    target = None
    if target_score is not None:
        try:
            target = _target(target_score)
        except ValidationError as exc:
            errors["target_score"] = exc.messages
    moved = due_date is not None and (goal is None or due_date != goal.due_date)
    if moved and due_date <= timezone.localdate():
        errors["due_date"] = [_("due date must be in the future")]
    if intent is not None:
        try:
            _intent(intent)
        except ValidationError as exc:
            errors["intent"] = exc.messages
    if goal is not None and target is None and "target_score" not in errors:
        target = goal.target_score
    changed = goal is None or target != goal.target_score or kind != goal.kind
    current = None
    if store is not None and category is not None and changed:
        current = _latest_score(store, category.id)
        if target is not None and "kind" not in errors:
            problem = _direction(kind, target, current)
            if problem is not None:
                errors.setdefault(problem[0], []).append(problem[1])
    if errors:
        raise ValidationError(errors)
    return current


@transaction.atomic
def create_goal(
    *,
    manager,
    store: Store,
    category: Category,
    target_score: float,
    due_date: dt.date,
    kind: str = Goal.Kind.RAISE,
    intent: str = "",
) -> Goal:
    """A new active goal; the baseline is the store's latest score in the category."""
    kind = kind or Goal.Kind.RAISE
    baseline = check_goal(
        store=store,
        category=category,
        kind=kind,
        target_score=target_score,
        due_date=due_date,
        intent=intent,
    )
    _room_for_another(manager, store)
    return Goal.objects.create(
        manager=manager,
        store=store,
        category=category,
        kind=kind,
        target_score=_target(target_score),
        due_date=due_date,
        intent=_intent(intent),
        baseline_score=None if baseline is None else Decimal(str(baseline)),
    )


@transaction.atomic
def edit_goal(
    goal: Goal,
    *,
    target_score: float | None = None,
    due_date: dt.date | None = None,
    kind: str | None = None,
    intent: str | None = None,
) -> Goal:
    """What an active goal aims at, which way, and by when; what is not given stays. Its store,
    category, baseline and status are not edited here."""
    if goal.status != Status.ACTIVE:
        raise ValidationError(_("only an active goal can be edited"))
    check_goal(
        store=goal.store,
        category=goal.category,
        kind=kind,
        target_score=target_score,
        due_date=due_date,
        intent=intent,
        goal=goal,
    )
    if target_score is not None:
        goal.target_score = _target(target_score)
    if due_date is not None:
        goal.due_date = due_date
    if kind:
        goal.kind = kind
    if intent is not None:
        goal.intent = _intent(intent)
    goal.save(update_fields=["target_score", "due_date", "kind", "intent"])
    return goal


def drop_goal(goal: Goal) -> Goal:
    """Dropped goals stay on record but leave coaching."""
    return close_goal(goal, status=Status.DROPPED)


@transaction.atomic
def close_goal(goal: Goal, *, status: str) -> Goal:
    """An active goal ends: achieved once the latest score reaches the target, missed once its
    due date has passed, or dropped at any time. Closed goals are final."""
    goal = Goal.objects.select_for_update().select_related("store", "category").get(pk=goal.pk)
    if goal.status == status == Status.DROPPED:
        return goal  # dropping twice is harmless (a double click, a retried request)
    if goal.status != Status.ACTIVE:
        raise ValidationError(
            # Translators: the goal's status, such as "achieved" or "dropped".
            _("this goal is already %(status)s") % {"status": goal.get_status_display().lower()}
        )
    if status == Status.ACHIEVED:
        if goal.kind == Goal.Kind.HOLD and goal.due_date > timezone.localdate():
            # Holding a score is done only when the time is up, not on the first good week.
            raise ValidationError(
                _("a hold goal is achieved once its due date comes with the score still held")
            )
        score = _latest_score(goal.store, goal.category_id)
        if score is None or score < float(goal.target_score):
            if score is None:
                message = _("a goal is achieved when the score reaches %(target)s; no score yet")
            else:
                message = _(
                    "a goal is achieved when the score reaches %(target)s; "
                    "the latest score is %(score)s"
                )
            target = number_format(goal.target_score)
            latest = None if score is None else decimal(score)
            raise ValidationError(message % {"target": target, "score": latest})
    elif status == Status.MISSED:
        if goal.due_date >= timezone.localdate():
            raise ValidationError(_("a goal is missed only after its due date"))
    elif status != Status.DROPPED:
        raise ValidationError(
            _("a goal can be closed as achieved, missed or dropped, not %(status)s")
            % {"status": repr(status)}
        )
    goal.status = status
    goal.save(update_fields=["status"])
    return goal
