"""Whose settings a user may change: their own, and nobody else's."""

from scoring.models import Profile


def own_profile(user) -> Profile | None:
    """The signed-in user's profile, or None (an account made by createsuperuser has none)."""
    if not user.is_authenticated:
        return None
    return Profile.objects.filter(user=user).first()
