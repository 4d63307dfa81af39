"""Who may see which stores: the one place where scoping by role and hierarchy is decided.

Every view, endpoint and command that reads stores, their data or the taxonomy gets its queryset
from here: `*_visible_to(user)` for a person's request; `all_stores` and `active_user` for
commands and chain-wide aggregates only.
"""

from functools import wraps

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from .models import Category, CategoryScore, KpiReading, Profile, Question, Region, Role, Store


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


def regions_listed_for(user: AbstractBaseUser) -> QuerySet[Region]:
    """The user's regions as the API lists them: by code."""
    return regions_visible_to(user).order_by("code")


def stores_listed_for(user: AbstractBaseUser) -> QuerySet[Store]:
    """The user's stores as the API lists them: by code, with their region."""
    return stores_visible_to(user).select_related("region").order_by("code")


def scores_visible_to(user: AbstractBaseUser) -> QuerySet[CategoryScore]:
    """Category scores of the user's stores, newest week first. The store ids are read first
    (one query): behind a subquery PostgreSQL guesses one store and walks a region's million
    scores store by store instead of newest week first."""
    store_ids = list(stores_visible_to(user).values_list("id", flat=True))
    return (
        CategoryScore.objects.filter(store_id__in=store_ids)
        .select_related("store", "category")
        .order_by("-week", "store__code", "category__display_order", "source")
    )


def kpi_readings_visible_to(user: AbstractBaseUser) -> QuerySet[KpiReading]:
    """KPI readings of the user's stores, newest week first."""
    return (
        KpiReading.objects.filter(store__in=stores_visible_to(user))
        .select_related("store")
        .order_by("-week", "store__code", "kpi")
    )


def categories_for(user: AbstractBaseUser) -> QuerySet[Category]:
    """The chain's categories, the same for everyone, in display order."""
    return Category.objects.order_by("display_order")


def questions_for(user: AbstractBaseUser) -> QuerySet[Question]:
    """The chain's active questionnaire questions, the same for everyone."""
    return Question.objects.filter(active=True).select_related("category")


def stores_open_to_submissions_by(user: AbstractBaseUser) -> QuerySet[Store]:
    """Where the user may submit questionnaire responses: every store for holders of
    `scoring.submit_responses` (admins, integration accounts), none for anyone else."""
    if user.is_active and user.has_perm("scoring.submit_responses"):
        return Store.objects.all()
    return Store.objects.none()


def no_stores(user: AbstractBaseUser) -> QuerySet[Store]:
    """No rows: the queryset of an endpoint that answers from aggregates, not from a model."""
    return Store.objects.none()


# --- for commands and the chain-wide aggregates, never a person's request ----------------------


def all_stores(region: str | None = None) -> QuerySet[Store]:
    """Every store of the chain, or of the region with this code."""
    stores = Store.objects.all()
    return stores.filter(region__code=region) if region else stores


def active_user(username: str) -> AbstractBaseUser | None:
    """The active user of this username, or None."""
    return get_user_model().objects.filter(username=username, is_active=True).first()


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
