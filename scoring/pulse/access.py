"""The pulse room's querysets: the only ones its faces read."""

import datetime as dt
from collections.abc import Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from ..access import role_of, stores_visible_to
from ..models import Answer, Question, Role, Store, Submission
from .models import PulseDevice, PulseLink, digest


def link_by_token(token: str) -> PulseLink | None:
    """The link a QR code or URL carries, live or retired, with its store; None if unknown."""
    return PulseLink.objects.select_related("store").filter(token=token).first()


def device_by_key(key: str) -> PulseDevice | None:
    """The live device holding this key."""
    return (
        PulseDevice.objects.select_related("store")
        .filter(key_digest=digest(key), retired_at__isnull=True)
        .first()
    )


def stores_run_by(user: AbstractBaseUser) -> QuerySet[Store]:
    """Stores whose pulse links and devices the user manages: a manager's own, or any (admins).
    Leads see their region's pulse but do not hand out a store's links."""
    if role_of(user) in (Role.STORE_MANAGER, Role.ADMIN):
        return stores_visible_to(user)
    return Store.objects.none()


def live_links(store: Store) -> QuerySet[PulseLink]:
    return PulseLink.objects.filter(store=store, retired_at__isnull=True)


def live_devices(store: Store) -> QuerySet[PulseDevice]:
    return PulseDevice.objects.filter(store=store, retired_at__isnull=True).order_by("created_at")


def device_of(store: Store, pk: int) -> PulseDevice | None:
    return live_devices(store).filter(pk=pk).first()


def questions_for(audience: str) -> QuerySet[Question]:
    return Question.objects.filter(active=True, audience=audience, category__active=True)


def pulse_submissions(store_ids: Sequence[int], week: dt.date) -> QuerySet[Submission]:
    """A week's answers from the pulse channels (not imports or the integration API)."""
    return Submission.objects.filter(store_id__in=store_ids, week=week).exclude(audience="")


def answers_of(store_ids: Sequence[int], week: dt.date) -> QuerySet[Answer]:
    """A week's pulse answers at these stores, counted ones only."""
    return Answer.objects.filter(
        submission__store_id__in=store_ids, submission__week=week, submission__counted=True
    ).exclude(submission__audience="")
