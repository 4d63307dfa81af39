"""Which stores a user's tracking reads cover.

Aggregates (impact, progress, engagement) start from the stores a user may see
(`scoring.access`); trainers, who see no store, see the chain's aggregates so they can tell
which training works. Nothing personal reaches them: engagement is per manager only for leads
and admins, and trainers' engagement and progress lists stay empty.
"""

from django.db.models import QuerySet

from scoring.access import role_of, stores_visible_to
from scoring.models import Role, Store


def stores_for_aggregates(user) -> QuerySet[Store]:
    if role_of(user) == Role.TRAINER:
        return Store.objects.all()
    return stores_visible_to(user)


def no_stores() -> QuerySet[Store]:
    """For endpoints whose rows come from a selector: names the model, lists nothing."""
    return Store.objects.none()
