"""The manager's goal pages: the list with progress, the form to add one, edit and drop."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from scoring.access import require_role
from scoring.models import Category, Role

from ..access import requested_store
from ..models import Goal
from . import services
from .access import goals_changeable_by, goals_visible_to
from .selectors import goals_with_progress

manager_only = require_role(Role.STORE_MANAGER)


class GoalForm(forms.Form):
    category = forms.ModelChoiceField(
        Category.objects.filter(active=True), empty_label=None, label=gettext_lazy("Category")
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
    form = GoalForm(request.POST or None)
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
        },
        status=400 if form.errors else 200,
    )


def _own_goal(request, pk: int) -> Goal:
    return get_object_or_404(goals_changeable_by(request.user), pk=pk)


@manager_only
def goal_edit(request, pk: int):
    goal = _own_goal(request, pk)
    if goal.status != Goal.Status.ACTIVE:
        raise PermissionDenied(_("only an active goal can be edited"))
    initial = {
        "category": goal.category,
        "target_score": goal.target_score,
        "due_date": goal.due_date,
        "intent": goal.intent,
    }
    form = GoalForm(request.POST or None, initial=initial)
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


@require_POST
@manager_only
def goal_drop(request, pk: int):
    try:
        goal = services.drop_goal(_own_goal(request, pk))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("goals")
    messages.success(request, _("Goal dropped: %(category)s.") % {"category": goal.category.name})
    return redirect(f"{reverse('goals')}?store={goal.store.code}")
