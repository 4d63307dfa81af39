"""Writes of the manager-lead loop: a lead's reply or recognition on a plan (optionally about one
of its tips), the manager's first reading of it, and the email telling them."""

import logging
from collections.abc import Sequence
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from scoring.languages import manager_language

from ..models import PlanReply, WeeklyPlan
from .access import plans_to_reply_to

log = logging.getLogger(__name__)
BODY_MAX = 2000


@transaction.atomic
def post_reply(
    *, author, plan: WeeklyPlan, body: str, kind: str = PlanReply.Kind.REPLY, tip_id=None
) -> PlanReply:
    """A lead's reply (or recognition) on a plan of their region; an admin's on any plan. The
    manager is told by email once the reply is stored."""
    if not plans_to_reply_to(author).filter(pk=plan.pk).exists():
        raise PermissionDenied(_("only the store's regional lead replies on its coaching"))
    body = (body or "").strip()
    if not body:
        raise ValidationError(_("Write a reply first."))
    if len(body) > BODY_MAX:
        raise ValidationError(
            _("A reply holds at most %(count)d characters.") % {"count": BODY_MAX}
        )
    if kind not in PlanReply.Kind.values:
        raise ValidationError(_("Unknown kind of reply."))
    tip = None
    if tip_id not in (None, ""):
        tip = plan.tips.filter(pk=_int(tip_id)).first()
        if tip is None:
            raise ValidationError(_("That tip is not part of this plan."))
    reply = PlanReply.objects.create(plan=plan, tip=tip, author=author, kind=kind, body=body)
    transaction.on_commit(lambda: notify(reply.pk))
    return reply


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def mark_seen(reader, replies: Sequence[PlanReply]) -> None:
    """The plan's manager has read these replies: the first reading is kept, and nobody else's
    reading counts. One query, none when all were seen."""
    unseen = [r.pk for r in replies if r.seen_at is None]
    if unseen:
        PlanReply.objects.filter(pk__in=unseen, plan__manager=reader, seen_at__isnull=True).update(
            seen_at=timezone.now()
        )


def notify(reply_id: int) -> bool:
    """Email the plan's manager about a reply, in their language. A mail error is logged: the
    reply waits on their week page anyway."""
    reply = (
        PlanReply.objects.select_related("author", "plan__manager__profile", "plan__store")
        .filter(pk=reply_id)
        .first()
    )
    if reply is None or not reply.plan.manager.email:
        return False
    manager, store = reply.plan.manager, reply.plan.store
    author = (reply.author.get_full_name() or reply.author.username) if reply.author else ""
    site = settings.SITE_URL.rstrip("/")
    url = f"{site}{reverse('week')}?{urlencode({'store': store.code})}"
    with translation.override(manager_language(manager, store)):
        if reply.kind == PlanReply.Kind.RECOGNITION:
            subject = _("%(lead)s recognised your work at %(store)s")
        else:
            subject = _("%(lead)s replied on your coaching for %(store)s")
        subject = subject % {"lead": author, "store": store.name}
        greeting = (
            _("Hi %(name)s,") % {"name": manager.first_name}
            if manager.first_name
            else _("Hi there,")
        )
        link = _("Read it on your week page: %(url)s") % {"url": url}
    try:
        send_mail(subject, f"{greeting}\n\n{reply.body}\n\n{link}\n", None, [manager.email])
    except Exception:
        log.exception("reply %s: the email to the manager was not sent", reply_id)
        return False
    return True
