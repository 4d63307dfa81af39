"""Saving a user's settings. The language is cached per user (`scoring.languages`), so it is
forgotten on save: the next page is in the new language."""

from django.core.exceptions import ValidationError

from scoring.languages import forget_language, supported
from scoring.models import Profile


def save_preferences(profile: Profile, *, language: str, nudges: bool | None = None) -> Profile:
    """Blank `language`: the store's (managers) or the browser's. `nudges` None leaves the
    reminders as they are (a lead's settings have no such box)."""
    if language and supported(language) != language:
        raise ValidationError(f"unsupported language {language!r}")
    profile.language = language
    fields = ["language"]
    if nudges is not None:
        profile.nudges = nudges
        fields.append("nudges")
    profile.save(update_fields=fields)
    forget_language([profile.user_id])
    return profile
