"""Who may see which stores: the one place where scoping by role and hierarchy is decided.

Every view, endpoint and command that lists stores or their data starts from these querysets.
"""

from functools import wraps

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from .models import Profile, Region, Role, Store


def role_of(user: AbstractBaseUser) -> str | None:
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return Role.ADMIN
    try:
        return user.profile.role
    except Profile.DoesNotExist:
        return None


def stores_visible_to(user: AbstractBaseUser) -> QuerySet[Store]:
    """Admins: all stores. Leads: the stores of their regions. Managers: their own stores.
    Trainers and anyone else: none (trainers work with chain-wide aggregates only)."""
    role = role_of(user)
    if role == Role.ADMIN:
        return Store.objects.all()
    if role == Role.REGIONAL_LEAD:
        return Store.objects.filter(region__leads__user=user)
    if role == Role.STORE_MANAGER:
        return Store.objects.filter(managers__user=user)
    return Store.objects.none()


def regions_visible_to(user: AbstractBaseUser) -> QuerySet[Region]:
    role = role_of(user)
    if role == Role.ADMIN:
        return Region.objects.all()
    if role == Role.REGIONAL_LEAD:
        return Region.objects.filter(leads__user=user)
    if role == Role.STORE_MANAGER:
        return Region.objects.filter(stores__managers__user=user).distinct()
    return Region.objects.none()


def require_role(*roles: str):
    """View decorator: a signed-in user of one of these roles, else 403 (anonymous: login)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if role_of(request.user) not in roles:
                raise PermissionDenied("this page is not for your role")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
