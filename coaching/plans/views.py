"""The store manager's coaching pages: this week, past weeks, one plan, and feedback on a tip."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from scoring.access import require_role
from scoring.models import Role
from scoring.pulse import selectors as pulse_selectors
from scoring.weeks import week_start

from ..access import requested_store
from ..nudges import selectors as nudge_selectors
from ..replies import selectors as reply_selectors
from ..replies import services as reply_services
from . import selectors, services
from .access import own_plans, own_tips

manager_only = require_role(Role.STORE_MANAGER)


@manager_only
def this_week(request):
    store, stores = requested_store(request)
    plan = selectors.current_plan(request.user, store, timezone.localdate())
    if plan is not None:
        services.touch_read(plan)
    # Read before they are marked seen: the page shows which are new.
    replies = reply_selectors.replies_for_week(request.user, store, plan)
    reply_services.mark_seen(request.user, replies)
    return render(
        request,
        "coaching/week.html",
        {
            "page": selectors.manager_week(request.user, store, plan),
            "stores": stores,
            "followups": selectors.tips_due_for_followup(request.user),
            "pulse": pulse_so_far(store),
            "nudge_open_tips": nudge_selectors.banner_for(
                request.user, store, plan.week if plan else None
            ),
            "replies": replies,
            "new_replies": sum(1 for reply in replies if reply.seen_at is None),
        },
    )


def pulse_so_far(store) -> dict[str, int]:
    """This week's pulse answer counts at the store (the details are on its pulse page)."""
    week = week_start(pulse_selectors.local_day(store))
    return pulse_selectors.volumes_by_store([store.id], week).get(store.id, {})


@manager_only
def plan_archive(request):
    plans = selectors.plan_archive(request.user)
    return render(request, "coaching/plan_archive.html", {"plans": plans})


@manager_only
def plan_detail(request, pk: int):
    plan = get_object_or_404(own_plans(request.user), pk=pk)
    services.touch_read(plan)
    return render(
        request, "coaching/plan_detail.html", {"plan": plan, "tips": selectors.tips_of(plan)}
    )


FEEDBACK = {
    "done": {"done": True},
    "undo": {"done": False},
    "helpful": {"helpful": True},
    "not_helpful": {"helpful": False},
}


@require_POST
@manager_only
def tip_feedback(request, pk: int):
    tip = get_object_or_404(own_tips(request.user), pk=pk)
    action = request.POST.get("action", "")
    try:
        if action == "followup":
            services.record_feedback(tip, followup_answer=request.POST.get("answer", ""))
        elif action in FEEDBACK:
            services.record_feedback(tip, **FEEDBACK[action])
        elif action == "dismiss":
            post = request.POST
            services.dismiss_tip(tip, reason=post.get("reason", ""), other=post.get("other", ""))
        elif action == "restore":
            services.record_feedback(tip, dismissed_reason="")
        elif action == "comment":
            services.record_feedback(tip, comment=request.POST.get("comment", ""))
        else:
            messages.error(request, _("Unknown action."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = reverse("week")
    return HttpResponseRedirect(f"{target}#tip-{tip.pk}")
