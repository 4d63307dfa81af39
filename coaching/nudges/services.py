"""Sending nudges: the scheduled one goes out once per manager, store and week however often its
task is delivered, and a regional lead's within NUDGE_LEAD_PER_DAY. A mail error propagates, so
the Celery task retries it; the row counts the attempts and is marked sent only once it went."""

import datetime as dt
import logging
from collections.abc import Callable
from smtplib import SMTPException
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from scoring.access import role_of, stores_visible_to
from scoring.languages import manager_language
from scoring.models import Role
from scoring.weeks import week_start

from ..models import Nudge, WeeklyPlan
from .access import lead_nudges_sent_since, managers_of, plan_to_nudge, profile_to_lock
from .selectors import due_nudges, in_quiet_hours, local_time

log = logging.getLogger(__name__)
MAIL_ERRORS = (SMTPException, OSError)


class NudgeRefused(Exception):
    """A lead's nudge that may not go out now; the message (translated) tells the lead why."""


def _name(user) -> str:
    return user.get_full_name() or user.username


def compose(plan: WeeklyPlan, *, lead=None) -> tuple[str, str]:
    """Subject and body in the manager's language: the open tips (`plan.open_list`) and a link to
    the week page; a lead's nudge says who asked."""
    manager, store = plan.manager, plan.store
    count = len(plan.open_list)
    site = settings.SITE_URL.rstrip("/")
    with translation.override(manager_language(manager, store)):
        if lead is not None:
            subject = _("%(lead)s asked you to look at your coaching for %(store)s") % {
                "lead": _name(lead),
                "store": store.name,
            }
        elif count:
            subject = ngettext(
                "Reminder: %(count)d open tip this week at %(store)s",
                "Reminder: %(count)d open tips this week at %(store)s",
                count,
            ) % {"count": count, "store": store.name}
        else:
            subject = _("Reminder: your coaching plan for %(store)s is waiting") % {
                "store": store.name
            }
        body = render_to_string(
            "coaching/email/nudge.txt",
            {
                "name": manager.first_name,
                "store": store.name,
                "lead": _name(lead) if lead is not None else "",
                "open_tips": count,
                "titles": [tip.title for tip in plan.open_list],
                "week_url": f"{site}{reverse('week')}?{urlencode({'store': store.code})}",
                "settings_url": f"{site}{reverse('settings')}",
            },
        )
    return " ".join(subject.split()), body.strip() + "\n"


def _mail(plan: WeeklyPlan, *, lead=None) -> None:
    subject, body = compose(plan, lead=lead)
    send_mail(subject, body, None, [plan.manager.email])


def send_nudge(manager_id: int, store_id: int, week: dt.date, *, now=None) -> bool:
    """The pair's scheduled nudge for the week, unless it went out already (a redelivered task):
    True when this call sent it. The row is created, under its unique constraint, and locked
    before the mail goes out, so two deliveries never both send; a failed send leaves it unsent,
    with its attempt counted, and raises for the task to retry."""
    now = now or timezone.now()
    plan = plan_to_nudge(manager_id, store_id, week)
    if plan is None or not plan.manager.profile.nudges:
        return False  # done, read or opted out since it was found due
    if in_quiet_hours(local_time(plan.store.timezone, now)):
        return False  # a retry that ran into the evening does not wake anyone
    failure = None
    with transaction.atomic():
        row, _created = Nudge.objects.get_or_create(
            manager_id=manager_id, store_id=store_id, week=week, kind=Nudge.Kind.SCHEDULED
        )
        nudge = Nudge.objects.select_for_update().get(pk=row.pk)
        if nudge.sent_at is not None:
            return False
        nudge.attempts += 1
        nudge.open_tips = len(plan.open_list)
        try:
            _mail(plan)
        except MAIL_ERRORS as exc:
            failure = exc  # the attempt is recorded; the task retries
        else:
            nudge.sent_at = now
        nudge.save(update_fields=["attempts", "open_tips", "sent_at"])
    if failure is not None:
        log.warning("nudge %s not sent (attempt %s): %s", nudge.pk, nudge.attempts, failure)
        raise failure
    return True


def send_due_nudges(now: dt.datetime, deliver: Callable[[int, int, dt.date], object]) -> int:
    """Hands each nudge due now to `deliver` (the task: one Celery task each, retried on its
    own). One that fails is logged and never stops the others. Returns how many were handed on."""
    handed = 0
    for manager_id, store_id, week in due_nudges(now):
        try:
            deliver(manager_id, store_id, week)
        except Exception:  # eager mode runs the task inline; its failure is that nudge's alone
            log.exception("nudge to manager %s at store %s failed", manager_id, store_id)
        else:
            handed += 1
    return handed


def _check_lead(lead, store, manager, local: dt.datetime) -> None:
    if role_of(lead) not in (Role.REGIONAL_LEAD, Role.ADMIN):
        raise PermissionDenied("only regional leads and admins nudge managers")
    if not stores_visible_to(lead).filter(pk=store.pk).exists():
        raise PermissionDenied("not a store of your region")
    if not managers_of(store).filter(pk=manager.pk).exists():
        raise NudgeRefused(
            _("%(name)s does not manage %(store)s.") % {"name": _name(manager), "store": store}
        )
    if not manager.email:
        raise NudgeRefused(_("%(name)s has no email address.") % {"name": _name(manager)})
    if in_quiet_hours(local):
        raise NudgeRefused(
            _("It is %(time)s at %(store)s, in the quiet hours: try again in the morning.")
            % {"time": local.strftime("%H:%M"), "store": store.name}
        )


def nudge_by_lead(lead, store, manager, *, now=None) -> Nudge:
    """A lead's nudge to one of their store's managers about this week's open coaching. Refused
    (NudgeRefused, with the reason) in the store's quiet hours, when nothing is open, or beyond
    NUDGE_LEAD_PER_DAY in the last 24 hours; PermissionDenied for someone else's store. A mail
    error propagates and leaves no row, so it does not count against the limit."""
    now = now or timezone.now()
    local = local_time(store.timezone, now)
    _check_lead(lead, store, manager, local)
    plan = plan_to_nudge(manager.pk, store.pk, week_start(local.date()))
    if plan is None:
        raise NudgeRefused(
            _("Nothing is open for %(name)s this week: no tip left to do and no unread plan.")
            % {"name": _name(manager)}
        )
    limit = settings.NUDGE_LEAD_PER_DAY
    with transaction.atomic():
        list(profile_to_lock(manager))  # two leads at once: the second waits, then counts
        if lead_nudges_sent_since(manager, store, now - dt.timedelta(hours=24)).count() >= limit:
            raise NudgeRefused(
                ngettext(
                    "%(name)s was already nudged in the last 24 hours: once a day at most.",
                    "%(name)s was already nudged %(count)d times in the last 24 hours, the most "
                    "a day allows.",
                    limit,
                )
                % {"name": _name(manager), "count": limit}
            )
        nudge = Nudge.objects.create(
            manager=manager,
            store=store,
            week=plan.week,
            kind=Nudge.Kind.LEAD,
            sent_by=lead,
            open_tips=len(plan.open_list),
            attempts=1,
            sent_at=now,
        )
        _mail(plan, lead=lead)  # an error rolls the row back
    return nudge
