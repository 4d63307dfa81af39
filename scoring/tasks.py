"""Celery entry points of scoring: thin wrappers over services."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

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
