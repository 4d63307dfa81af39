"""The one rule for a manager's things: goals, weekly plans and their tips.

- A store manager sees and changes what was made *for them* *at a store they manage now*. A
  manager moved to another store leaves the old store's goals, plans and tips behind: they stay
  with the store (its regional lead still sees them), and the manager no longer reads or answers
  them, on the web or through the API. Their own training completions go with them.
- A regional lead sees those of their region's stores, whoever the manager; they change none.
- An admin sees all of them; trainers see none (they work with chain-wide aggregates).

Every room's `access.py` applies this rule through `personal_rows`, so web pages, API endpoints,
commands and tasks cannot disagree on it.
"""

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import QuerySet

from scoring.access import role_of, stores_visible_to
from scoring.models import Role


def personal_rows(
    queryset: QuerySet, user: AbstractBaseUser, *, manager: str = "manager", store: str = "store"
) -> QuerySet:
    """Rows of `queryset` this user may read; `manager` and `store` name the fields to follow."""
    role = role_of(user)
    if role == Role.ADMIN:
        return queryset
    if role == Role.REGIONAL_LEAD:
        return queryset.filter(**{f"{store}__in": stores_visible_to(user)})
    if role == Role.STORE_MANAGER:
        return queryset.filter(**{manager: user, f"{store}__in": stores_visible_to(user)})
    return queryset.none()


def personal_rows_changeable_by(
    queryset: QuerySet, user: AbstractBaseUser, *, manager: str = "manager", store: str = "store"
) -> QuerySet:
    """Rows this user may change: the manager's own at their current stores, or any for an admin."""
    role = role_of(user)
    if role == Role.ADMIN:
        return queryset
    if role == Role.STORE_MANAGER:
        return personal_rows(queryset, user, manager=manager, store=store)
    return queryset.none()


def requested_store(request):
    """The store a page is about: ?store=CODE among the user's stores, else their first one.
    Returns it with all of the user's stores (for the store switcher); 404 when there is none."""
    from django.http import Http404

    stores = stores_visible_to(request.user).select_related("region").order_by("code")
    code = request.GET.get("store") or request.POST.get("store")
    store = stores.filter(code=code).first() if code else stores.first()
    if store is None:
        raise Http404("no such store of yours")
    return store, stores
