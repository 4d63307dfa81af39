"""The pulse room's tables: the public links a store hands out and the kiosk devices it runs.

Answers themselves are `Submission` and `Answer` rows like any questionnaire response, so one
roll-up makes the scores whatever the channel; nothing here or there says who answered."""

import hashlib
import secrets

from django.conf import settings
from django.db import models

from ..models import Audience, Store


def new_token() -> str:
    """128 random bits, URL-safe: unguessable, short enough for a QR code."""
    return secrets.token_urlsafe(16)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class PulseLink(models.Model):
    """A store's public pulse link for one audience. Rotating retires it: its QR codes then
    answer "this code is no longer in use" instead of the questionnaire."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="pulse_links")
    audience = models.CharField(max_length=10, choices=Audience.choices)
    token = models.CharField(max_length=32, unique=True, default=new_token)
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["store", "audience"],
                condition=models.Q(retired_at__isnull=True),
                name="one_live_pulse_link",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_audience_display()} pulse link of {self.store_id}"


class PulseDevice(models.Model):
    """A kiosk or an integration that submits a store's answers. Only the key's digest is kept:
    the key is shown once, when the device is added."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="pulse_devices")
    name = models.CharField(max_length=60)
    key_digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    retired_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.store_id})"
