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


def _target(value) -> Decimal:
    if not 0 <= float(value) <= 100:
        raise ValidationError(_("target score must be between 0 and 100"))
    return Decimal(str(value)).quantize(Decimal("0.1"))


def _latest_score(store: Store, category_id: int) -> float | None:
    week = latest_scored_week([store.id])
    if week is None:
        return None
    return next(t.score for t in store_trends(store, week) if t.category.id == category_id)


@transaction.atomic
def create_goal(
    *,
    manager,
    store: Store,
    category: Category,
    target_score: float,
    due_date: dt.date,
    intent: str = "",
) -> Goal:
    """A new active goal; the baseline is the store's latest score in the category."""
    target = _target(target_score)
    if due_date <= timezone.localdate():
        raise ValidationError(_("due date must be in the future"))
    intent = _intent(intent)
    _room_for_another(manager, store)
    baseline = _latest_score(store, category.id)
    return Goal.objects.create(
        manager=manager,
        store=store,
        category=category,
        target_score=target,
        due_date=due_date,
        intent=intent,
        baseline_score=None if baseline is None else Decimal(str(baseline)),
    )


@transaction.atomic
def edit_goal(
    goal: Goal,
    *,
    target_score: float | None = None,
    due_date: dt.date | None = None,
    intent: str | None = None,
) -> Goal:
    """What an active goal aims at and by when; what is not given stays. Its store, category,
    baseline and status are not edited here."""
    if goal.status != Status.ACTIVE:
        raise ValidationError(_("only an active goal can be edited"))
    if target_score is not None:
        goal.target_score = _target(target_score)
    if due_date is not None:
        if due_date != goal.due_date and due_date <= timezone.localdate():
            raise ValidationError(_("due date must be in the future"))
        goal.due_date = due_date
    if intent is not None:
        goal.intent = _intent(intent)
    goal.save(update_fields=["target_score", "due_date", "intent"])
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
