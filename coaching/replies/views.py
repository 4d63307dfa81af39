"""A regional lead's reply or recognition on a store's weekly plan (the store page shows the
form). Another region's plan is a 404; a manager or trainer gets a 403."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from scoring.access import require_role
from scoring.models import Role

from . import services
from .access import plans_to_reply_to


@require_POST
@require_role(Role.REGIONAL_LEAD, Role.ADMIN)
def plan_reply(request, pk: int):
    plan = get_object_or_404(plans_to_reply_to(request.user).select_related("store"), pk=pk)
    try:
        services.post_reply(
            author=request.user,
            plan=plan,
            body=request.POST.get("body", ""),
            kind=request.POST.get("kind", "reply"),
            tip_id=request.POST.get("tip") or None,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Your reply was sent to the store's manager."))
    target = reverse("store", args=[plan.store.code])
    return HttpResponseRedirect(f"{target}#plan-{plan.pk}")
