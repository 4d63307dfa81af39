"""The weekly digest email: each manager's plan once, in bulk after the batch."""

import datetime as dt
import logging
from collections.abc import Sequence

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from scoring.languages import manager_language
from scoring.weeks import week_of

from ..models import CoachingTip, WeeklyPlan

log = logging.getLogger(__name__)


def send_digests(week: dt.date, pairs: Sequence[tuple[int, int]]) -> int:
    """Email each manager their plan for the week once, in bulk after the batch.

    Unsent digests (a mail server that was down, a batch that died) go out with the next run for
    the week. A digest is claimed before it is sent, so two deliveries of one task never both send
    it; a send that fails is released for the next run and logged, never failing the batch.
    """
    wanted = set(pairs)
    # Claimed and read in one transaction: a database failure before the commit (a restart, a
    # dropped connection) leaves every digest unclaimed for the task's retry, none marked sent.
    with transaction.atomic():
        candidates = (
            WeeklyPlan.objects.select_for_update(skip_locked=True)
            .filter(
                week=week,
                emailed_at__isnull=True,
                status__in=(WeeklyPlan.Status.READY, WeeklyPlan.Status.FALLBACK),
                manager_id__in={manager for manager, _store in wanted},
                store_id__in={store for _manager, store in wanted},
            )
            .exclude(manager__email="")
            .values_list("id", "manager_id", "store_id")
        )
        claimed = [plan_id for plan_id, m, s in candidates if (m, s) in wanted]
        if not claimed:
            return 0
        plans = list(
            WeeklyPlan.objects.filter(id__in=claimed)
            .select_related("manager__profile", "store")
            .prefetch_related(
                Prefetch("tips", queryset=CoachingTip.objects.select_related("category", "module"))
            )
        )
        WeeklyPlan.objects.filter(id__in=claimed).update(emailed_at=timezone.now())
    failed = []
    for plan in plans:
        try:
            with translation.override(manager_language(plan.manager, plan.store)):
                subject = _("Your coaching, %(week)s") % {"week": week_of(plan.week)}
                send_mail(subject, digest_text(plan), None, [plan.manager.email])
        except Exception:  # the plan is stored; its digest waits for the next run
            log.exception("digest for plan %s not sent", plan.id)
            failed.append(plan.id)
    if failed:
        WeeklyPlan.objects.filter(id__in=failed).update(emailed_at=None)
    return len(claimed) - len(failed)


def digest_text(plan: WeeklyPlan) -> str:
    name = plan.manager.first_name
    lines = [_("Hi %(name)s,") % {"name": name} if name else _("Hi there,"), ""]
    lines.append(
        _("Your coaching for %(store)s, %(week)s:")
        % {"store": plan.store.name, "week": week_of(plan.week)}
    )
    for tip in plan.tips.all():
        lines += ["", f"{tip.order}. {tip.title} ({tip.category.label})", f"   {tip.why}"]
        lines += [f"   - {step}" for step in tip.steps]
        if tip.module:
            lines.append("   " + _("Training: %(module)s") % {"module": tip.module.title})
    url = settings.SITE_URL + reverse("week")
    lines += ["", _("Open your plan: %(url)s") % {"url": url}]
    return "\n".join(lines)
