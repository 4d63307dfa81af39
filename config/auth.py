"""Access hardening that settings point at: the client's address behind a trusted proxy, the
per-address login allowance, API token expiry and who may read the API docs."""

import datetime as dt

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone
from rest_framework import exceptions, permissions
from rest_framework.authentication import TokenAuthentication


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or with TRUSTED_PROXY_COUNT proxies in front, the
    address the outermost of them saw (the same rule as DRF's NUM_PROXIES, so axes and the API
    throttles agree). Entries a client wrote into X-Forwarded-For itself are never read."""
    meta = getattr(request, "META", {})
    remote = meta.get("REMOTE_ADDR")
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
    if proxies <= 0 or not forwarded:
        return remote
    addresses = [part.strip() for part in forwarded.split(",") if part.strip()]
    return addresses[-min(proxies, len(addresses))] if addresses else remote


class AxesHandler(AxesDatabaseHandler):
    """django-axes' database handler with a second, larger allowance per address.

    AXES_LOCKOUT_PARAMETERS keeps the lockout per (username, address), so one attacker cannot lock
    a user out for everyone behind the same proxy; on top of it an address that has failed
    AXES_ADDRESS_FAILURE_LIMIT times within the cool-off, whatever the usernames (password
    spraying), is locked out as a whole. Axes compares one count with AXES_FAILURE_LIMIT, so an
    exhausted address counts as the limit itself."""

    def get_failures(self, request, credentials: dict | None = None) -> int:
        failures = super().get_failures(request, credentials)
        if self.address_failures(request) >= settings.AXES_ADDRESS_FAILURE_LIMIT:
            return max(failures, settings.AXES_FAILURE_LIMIT)
        return failures

    @staticmethod
    def address_failures(request) -> int:
        address = getattr(request, "axes_ip_address", None)
        if not address:
            return 0
        attempts = AccessAttempt.objects.filter(ip_address=address)
        if settings.AXES_COOLOFF_TIME is not None:
            attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))
        return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


def token_expired(token) -> bool:
    """True when API_TOKEN_MAX_AGE_DAYS is set and the token is older than that."""
    days = settings.API_TOKEN_MAX_AGE_DAYS
    return bool(days) and token.created < timezone.now() - dt.timedelta(days=days)


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, refusing tokens older than API_TOKEN_MAX_AGE_DAYS (0: never)."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token_expired(token):
            raise exceptions.AuthenticationFailed(
                "Token has expired; request a new one.", code="token_expired"
            )
        return user, token


class ApiDocsPermission(permissions.BasePermission):
    """The OpenAPI schema and Swagger UI: anyone when API_DOCS_PUBLIC, else signed-in users."""

    def has_permission(self, request, view) -> bool:
        return settings.API_DOCS_PUBLIC or bool(request.user and request.user.is_authenticated)
