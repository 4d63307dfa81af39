"""What stands between the public pulse forms and a flood: rate limits (refused, 429), one answer
a day per device (a signed cookie), and a daily cap per address or kiosk beyond which answers are
kept but not counted, so no script moves a score by more than a few answers' worth.

Addresses are used only as keys in the shared cache, hashed with the site's secret and the day,
and expire with it; nothing here is stored with an answer."""

import datetime as dt
import hashlib
import hmac

from django.conf import settings
from django.core.cache import cache
from django.core.signing import BadSignature
from django_ratelimit.core import is_ratelimited

from config.auth import client_ip

from ..models import Store
from .models import PulseDevice

DAY = 24 * 3600


def _hashed(value: str, day: dt.date) -> str:
    message = f"{value}|{day.isoformat()}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()[:32]


def refused(request, store: Store, device: PulseDevice | None = None) -> bool:
    """Over a rate limit: per kiosk device, or per address and per store for the public link."""
    if device is not None:
        return is_ratelimited(
            request,
            group="pulse-device",
            key=lambda group, request: str(device.pk),
            rate=settings.PULSE_DEVICE_RATE,
            increment=True,
        )
    by_address = is_ratelimited(
        request,
        group="pulse-address",
        key=lambda group, request: _hashed(client_ip(request) or "-", dt.date.today()),
        rate=settings.PULSE_ADDRESS_RATE,
        increment=True,
    )
    by_store = is_ratelimited(
        request,
        group="pulse-store",
        key=lambda group, request: str(store.pk),
        rate=settings.PULSE_STORE_RATE,
        increment=True,
    )
    return by_address or by_store


def counts_today(request, store: Store, day: dt.date, device: PulseDevice | None = None) -> bool:
    """Whether this answer counts: under the day's cap for its address at this store, or for its
    kiosk. Each call is one answer."""
    if device is not None:
        key, cap = f"pulse:cap:d{device.pk}:{day}", settings.PULSE_DEVICE_DAILY_CAP
    else:
        who = _hashed(f"{client_ip(request) or '-'}|{store.pk}", day)
        key, cap = f"pulse:cap:a{who}", settings.PULSE_ADDRESS_DAILY_CAP
    cache.add(key, 0, timeout=DAY)
    try:
        seen = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=DAY)
        seen = 1
    return seen <= cap


def cookie_name(store: Store, audience: str) -> str:
    return f"pulse_{store.pk}_{audience}"


def answered_today(request, store: Store, audience: str, day: dt.date) -> bool:
    """This browser already answered this store's questionnaire today (its signed cookie)."""
    try:
        value = request.get_signed_cookie(cookie_name(store, audience), salt="pulse", max_age=DAY)
    except (KeyError, BadSignature):
        return False
    return value == day.isoformat()


def remember_answer(response, store: Store, audience: str, day: dt.date) -> None:
    response.set_signed_cookie(
        cookie_name(store, audience),
        day.isoformat(),
        salt="pulse",
        max_age=DAY,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
