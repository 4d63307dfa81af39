"""A regional lead's "nudge this manager" button on the store page: a POST that answers with a
redirect back to the store and a message saying whether the email went or why not."""

import logging

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from scoring.access import require_role, stores_visible_to
from scoring.models import Role

from . import services
from .access import managers_of

log = logging.getLogger(__name__)
lead_or_admin = require_role(Role.REGIONAL_LEAD, Role.ADMIN)


@require_POST
@lead_or_admin
def store_nudge(request, code: str):
    # Another region's store, or someone who does not manage this one: 404, as for its page.
    store = get_object_or_404(stores_visible_to(request.user), code=code)
    manager_id = request.POST.get("manager", "")
    if not manager_id.isdigit():
        raise Http404("no such manager")
    manager = get_object_or_404(managers_of(store), pk=int(manager_id))
    try:
        services.nudge_by_lead(request.user, store, manager)
    except services.NudgeRefused as refused:
        messages.error(request, str(refused))
    except services.MAIL_ERRORS:
        log.exception("lead nudge to manager %s not sent", manager.pk)
        messages.error(request, _("The email could not be sent. Please try again later."))
    else:
        name = manager.get_full_name() or manager.username
        messages.success(request, _("%(name)s has been sent a reminder.") % {"name": name})
    return redirect("store", code=store.code)
