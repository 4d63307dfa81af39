"""Celery entry points of scoring: thin wrappers over services."""

import datetime as dt

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import drivers
from .pulse import services as pulse


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=2,
    max_retries=8,
)
def roll_pulse() -> int:
    """Fold the pulse answers that arrived since the last roll into the week's scores. Safe to
    run twice or concurrently: a roll recomputes from all answers of the store-weeks it touches."""
    return pulse.roll_answers()


@shared_task(acks_late=True, autoretry_for=(OperationalError, InterfaceError), max_retries=4)
def compute_chain_drivers(week: str) -> None:
    """The chain's sales drivers for a data week, for pages and the weekly batch."""
    drivers.refresh_chain_drivers(dt.date.fromisoformat(week))


@shared_task(acks_late=True, autoretry_for=(OperationalError, InterfaceError), max_retries=4)
def compute_key_drivers(kpi: str, horizon: int, end: str) -> None:
    """The key drivers the API serves, with their intervals."""
    drivers.refresh_key_drivers(kpi=kpi, horizon=horizon, end=dt.date.fromisoformat(end))
