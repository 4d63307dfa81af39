"""Which goals a user may see and change (the rule is in `coaching.access`)."""

from django.db.models import QuerySet

from ..access import personal_rows, personal_rows_changeable_by
from ..models import Goal


def _goals() -> QuerySet[Goal]:
    return Goal.objects.select_related("store", "category", "manager").order_by("due_date", "id")


def goals_visible_to(user) -> QuerySet[Goal]:
    return personal_rows(_goals(), user)


def goals_changeable_by(user) -> QuerySet[Goal]:
    return personal_rows_changeable_by(_goals(), user)
