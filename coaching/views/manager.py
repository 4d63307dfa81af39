"""The store manager's pages: this week's coaching, past weeks, goals and training modules."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from scoring.access import require_role, stores_visible_to
from scoring.models import Category, Role

from .. import authoring, dashboards, services
from ..markdown import render_markdown
from ..models import CoachingTip, Goal, TrainingModule, WeeklyPlan
from ..selectors import modules_readable_by, readable_version

manager_only = require_role(Role.STORE_MANAGER)


def _store_of(request):
    """The manager's store asked for by ?store=CODE, else their first one."""
    stores = stores_visible_to(request.user).select_related("region").order_by("code")
    code = request.GET.get("store") or request.POST.get("store")
    store = stores.filter(code=code).first() if code else stores.first()
    if store is None:
        raise Http404("no such store of yours")
    return store, stores


@manager_only
def this_week(request):
    store, stores = _store_of(request)
    plan = dashboards.current_plan(request.user, store, timezone.localdate())
    if plan is not None:
        services.touch_read(plan)
    return render(
        request,
        "coaching/week.html",
        {
            "page": dashboards.manager_week(request.user, store, plan),
            "stores": stores,
            "followups": services.tips_due_for_followup(request.user),
        },
    )


@manager_only
def plan_archive(request):
    plans = dashboards.plan_archive(request.user, stores_visible_to(request.user))
    return render(request, "coaching/plan_archive.html", {"plans": plans})


@manager_only
def plan_detail(request, pk: int):
    plan = get_object_or_404(
        WeeklyPlan.objects.select_related("store").filter(
            store__in=stores_visible_to(request.user)
        ),
        pk=pk,
        manager=request.user,
    )
    services.touch_read(plan)
    return render(
        request, "coaching/plan_detail.html", {"plan": plan, "tips": dashboards.tips_of(plan)}
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
    tip = get_object_or_404(CoachingTip, pk=pk, plan__manager=request.user)
    action = request.POST.get("action", "")
    try:
        if action == "followup":
            services.record_feedback(tip, followup_answer=request.POST.get("answer", ""))
        elif action in FEEDBACK:
            services.record_feedback(tip, **FEEDBACK[action])
        else:
            messages.error(request, "Unknown action.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = reverse("week")
    return HttpResponseRedirect(f"{target}#tip-{tip.pk}")


# --- goals ------------------------------------------------------------------------------------


class GoalForm(forms.Form):
    category = forms.ModelChoiceField(Category.objects.filter(active=True), empty_label=None)
    target_score = forms.DecimalField(min_value=0, max_value=100, decimal_places=1)
    # A date input only takes ISO dates; the locale's 28/12/2026 would show as an empty field.
    due_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    intent = forms.CharField(
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="In your words: what you want to change and why.",
    )


def _save_goal(request, form: GoalForm, store, goal: Goal | None) -> Goal | None:
    if not form.is_valid():
        return None
    data = form.cleaned_data
    try:
        if goal is None:
            return services.create_goal(manager=request.user, store=store, **data)
        data.pop("category")
        return services.edit_goal(goal, **data)
    except ValidationError as exc:
        form.add_error(None, exc)
        return None


@manager_only
def goal_list(request):
    store, stores = _store_of(request)
    form = GoalForm(request.POST or None)
    if request.method == "POST" and _save_goal(request, form, store, None):
        messages.success(request, "Goal added.")
        return redirect(f"{reverse('goals')}?store={store.code}")
    goals = Goal.objects.filter(manager=request.user, store=store).select_related("category")
    return render(
        request,
        "coaching/goals.html",
        {
            "form": form,
            "store": store,
            "stores": stores,
            "progress": dashboards.goals_with_progress(goals.filter(status=Goal.Status.ACTIVE)),
            "others": goals.exclude(status=Goal.Status.ACTIVE).order_by("-due_date"),
        },
        status=400 if form.errors else 200,
    )


def _own_goal(request, pk: int) -> Goal:
    return get_object_or_404(
        Goal.objects.select_related("store", "category"),
        pk=pk,
        manager=request.user,
        store__in=stores_visible_to(request.user),
    )


@manager_only
def goal_edit(request, pk: int):
    goal = _own_goal(request, pk)
    if goal.status != Goal.Status.ACTIVE:
        raise PermissionDenied("only an active goal can be edited")
    initial = {
        "category": goal.category,
        "target_score": goal.target_score,
        "due_date": goal.due_date,
        "intent": goal.intent,
    }
    form = GoalForm(request.POST or None, initial=initial)
    form.fields["category"].disabled = True
    if request.method == "POST" and _save_goal(request, form, goal.store, goal):
        messages.success(request, "Goal saved.")
        return redirect(f"{reverse('goals')}?store={goal.store.code}")
    return render(
        request,
        "coaching/goal_edit.html",
        {"form": form, "goal": goal},
        status=400 if form.errors else 200,
    )


@require_POST
@manager_only
def goal_drop(request, pk: int):
    goal = services.drop_goal(_own_goal(request, pk))
    messages.success(request, f"Goal dropped: {goal.category.name}.")
    return redirect(f"{reverse('goals')}?store={goal.store.code}")


# --- training modules, as a reader ---------------------------------------------------------------


@require_role(Role.STORE_MANAGER, Role.REGIONAL_LEAD, Role.TRAINER, Role.ADMIN)
def module_list(request):
    modules = (
        modules_readable_by(request.user)
        .filter(status=TrainingModule.Status.PUBLISHED)
        .select_related("category")
    )
    return render(request, "coaching/module_list.html", {"modules": modules})


@require_role(Role.STORE_MANAGER, Role.REGIONAL_LEAD, Role.TRAINER, Role.ADMIN)
def module_detail(request, slug: str):
    module = get_object_or_404(TrainingModule.objects.select_related("category"), slug=slug)
    version = readable_version(request.user, module)
    if version is None:
        raise Http404("no such module")
    result, chosen, error = None, [], ""
    if request.method == "POST":
        chosen = [request.POST.get(f"q{n}", "") for n in range(len(version.quiz))]
        try:
            answers = [int(a) for a in chosen]
        except ValueError:
            answers = None
            error = "Answer every question."
        if answers is not None:
            try:
                result = authoring.complete_module(request.user, module, answers)
            except (ValidationError, PermissionDenied) as exc:
                error = " ".join(getattr(exc, "messages", [str(exc)]))
    return render(
        request,
        "coaching/module_detail.html",
        {
            "module": module,
            "version": version,
            "body": render_markdown(version.body),
            "questions": [
                {"n": n, "q": q, "chosen": chosen[n] if n < len(chosen) else ""}
                for n, q in enumerate(version.quiz)
            ],
            "result": result,
            "error": error,
            "can_complete": request.user.has_perm("coaching.add_modulecompletion"),
        },
        status=400 if error else 200,
    )
