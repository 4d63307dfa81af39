"""The manager's goal pages: the list with progress, the form to add one, edit and drop."""

import datetime as dt

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from scoring.access import require_role
from scoring.models import Category, Role

from ..access import requested_store
from ..models import Goal
from . import services
from .access import goals_changeable_by, goals_visible_to
from .selectors import SUGGEST_WEEKS, WEEKLY_GAIN, goals_with_progress, suggested_targets

manager_only = require_role(Role.STORE_MANAGER)


class GoalForm(forms.Form):
    category = forms.ModelChoiceField(
        Category.objects.filter(active=True), empty_label=None, label=gettext_lazy("Category")
    )
    kind = forms.ChoiceField(
        choices=Goal.Kind.choices,
        initial=Goal.Kind.RAISE,
        required=False,  # left out, a new goal raises and an edited one keeps its direction
        widget=forms.RadioSelect,
        label=gettext_lazy("Goal"),
    )
    target_score = forms.DecimalField(
        min_value=0, max_value=100, decimal_places=1, label=gettext_lazy("Target score")
    )
    # A date input only takes ISO dates; the locale's 28/12/2026 would show as an empty field.
    due_date = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        label=gettext_lazy("Due date"),
    )
    intent = forms.CharField(
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        label=gettext_lazy("Intent"),
        help_text=gettext_lazy("In your words: what you want to change and why."),
    )

    def __init__(self, *args, store, goal: Goal | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.store, self.goal = store, goal

    def clean(self) -> dict:
        """The goal's rules (`services.check_goal`) on every field that parsed, so a person sees
        all that is wrong at once, each reason next to its field."""
        data = super().clean()
        try:
            services.check_goal(
                store=self.store,
                category=self.goal.category if self.goal else data.get("category"),
                kind=data.get("kind"),
                # A direction refused by its field is not judged against the target.
                target_score=None if self.has_error("kind") else data.get("target_score"),
                due_date=data.get("due_date"),
                intent=data.get("intent"),
                goal=self.goal,
            )
        except ValidationError as exc:
            self.add_error(None, exc)
        return data


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
    store, stores = requested_store(request)
    initial = {"due_date": timezone.localdate() + dt.timedelta(weeks=SUGGEST_WEEKS)}
    # A suggestion's "Use" link fills the form in, no script needed; the POST is checked as ever.
    initial |= {k: v for k, v in request.GET.items() if k in ("category", "kind", "target_score")}
    form = GoalForm(request.POST or None, initial=initial, store=store)
    if request.method == "POST" and _save_goal(request, form, store, None):
        messages.success(request, _("Goal added."))
        return redirect(f"{reverse('goals')}?store={store.code}")
    goals = goals_visible_to(request.user).filter(store=store)
    return render(
        request,
        "coaching/goals.html",
        {
            "form": form,
            "store": store,
            "stores": stores,
            "progress": goals_with_progress(goals.filter(status=Goal.Status.ACTIVE)),
            "others": goals.exclude(status=Goal.Status.ACTIVE).order_by("-due_date"),
            "suggestions": suggested_targets(store),
            "suggest_weeks": SUGGEST_WEEKS,
            "weekly_gain": WEEKLY_GAIN,
        },
        status=400 if form.errors else 200,
    )


def _own_goal(request, pk: int) -> Goal:
    return get_object_or_404(goals_changeable_by(request.user), pk=pk)


def _active_goal(request, pk: int) -> Goal:
    goal = _own_goal(request, pk)
    if goal.status != Goal.Status.ACTIVE:
        raise PermissionDenied(_("only an active goal can be edited"))
    return goal


@manager_only
def goal_edit(request, pk: int):
    goal = _active_goal(request, pk)
    initial = {
        "category": goal.category,
        "kind": goal.kind,
        "target_score": goal.target_score,
        "due_date": goal.due_date,
        "intent": goal.intent,
    }
    form = GoalForm(request.POST or None, initial=initial, store=goal.store, goal=goal)
    form.fields["category"].disabled = True
    if request.method == "POST" and _save_goal(request, form, goal.store, goal):
        messages.success(request, _("Goal saved."))
        return redirect(f"{reverse('goals')}?store={goal.store.code}")
    return render(
        request,
        "coaching/goal_edit.html",
        {"form": form, "goal": goal},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@manager_only
def goal_drop(request, pk: int):
    """GET asks "drop this goal?" on a page of its own; only the POST from it drops the goal, so
    a slip of the finger on the edit page never loses one."""
    if request.method == "GET":
        goal = _active_goal(request, pk)
        return render(request, "coaching/goal_edit.html", {"goal": goal, "confirm_drop": True})
    try:
        goal = services.drop_goal(_own_goal(request, pk))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("goals")
    messages.success(request, _("Goal dropped: %(category)s.") % {"category": goal.category.label})
    return redirect(f"{reverse('goals')}?store={goal.store.code}")
