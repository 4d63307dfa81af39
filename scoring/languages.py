"""Which language a person reads: their own choice, else their store's, else (on a page) the
browser's. Emails and coaching, which have no browser, fall back to the site's language."""

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.cache import cache
from django.utils.translation.trans_real import parse_accept_lang_header

from .access import stores_visible_to
from .models import Profile, Role

SUPPORTED = frozenset(code for code, _ in settings.LANGUAGES)
DEFAULT = settings.LANGUAGE_CODE[:2]
_KEY = "language:user:{}"
_TTL = 600


def supported(code: str | None) -> str | None:
    """The supported language for a code such as "fr-CA", or None."""
    code = (code or "").lower()[:2]
    return code if code in SUPPORTED else None


def chosen_language(user: AbstractBaseUser) -> str | None:
    """The user's own choice, else the language of the store they manage; None when neither says
    (a lead or trainer who never chose). Cached so a page costs no query for it."""
    if not user.is_authenticated:
        return None
    try:
        profile = user.profile
    except Profile.DoesNotExist:
        return None
    if profile.language:
        return supported(profile.language)
    if profile.role != Role.STORE_MANAGER:
        return None
    key = _KEY.format(user.pk)
    found = cache.get(key)
    if found is None:
        stores = stores_visible_to(user).order_by("code")
        found = stores.values_list("language", flat=True).first() or ""
        cache.set(key, found, _TTL)
    return supported(found)


def manager_language(manager: AbstractBaseUser, store) -> str:
    """What to write to a manager about one store (a digest, a nudge): their choice, else that
    store's language. Reads `manager.profile`, so select it with the manager."""
    try:
        chosen = manager.profile.language
    except Profile.DoesNotExist:
        chosen = ""
    return language_of(chosen, store.language)


def language_of(chosen: str, store_language: str) -> str:
    """A manager's own choice, else their store's language, else the site's."""
    return supported(chosen) or supported(store_language) or DEFAULT


def language_for(user: AbstractBaseUser) -> str:
    """What to write to this user in when no browser is asking (emails, coaching)."""
    return chosen_language(user) or DEFAULT


def forget_language(user_ids) -> None:
    """After a store's or a profile's language changed."""
    cache.delete_many([_KEY.format(pk) for pk in user_ids])


def visitor_language(request, store) -> str:
    """For someone answering a store's pulse without signing in: the page's own switch
    (`?lang=`), else the first of the browser's languages we have, else the store's."""
    asked = supported(request.GET.get("lang"))
    if asked:
        return asked
    header = request.headers.get("Accept-Language", "")
    browser = (supported(code) for code, _ in parse_accept_lang_header(header))
    return next((code for code in browser if code), None) or store.language
