"""The trainer studio: modules by status, the editor with its quiz, AI drafts and publishing.

Every write goes through `coaching.modules.services`, which owns the rules (permissions, quiz checks,
versions); these views only turn forms into calls and errors back into forms.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from scoring.access import require_role
from scoring.models import Category, Role

from ..models import TrainingModule
from . import services
from .access import module_originals, modules_authored_by
from .markdown import render_markdown
from .selectors import review_note, studio_modules, waiting_for_review_by

trainer_only = require_role(Role.TRAINER, Role.ADMIN)
Status = TrainingModule.Status
PREVIEW_LIMIT = 50_000
GROUPS = [
    (Status.DRAFT, gettext_lazy("Drafts")),
    (Status.IN_REVIEW, gettext_lazy("In review")),
    (Status.PUBLISHED, gettext_lazy("Published")),
    (Status.ARCHIVED, gettext_lazy("Archived")),
]


class ModuleForm(forms.ModelForm):
    class Meta:
        model = TrainingModule
        fields = [
            "title",
            "category",
            "secondary_category",
            "summary",
            "minutes",
            "level",
            "language",
            "translation_of",
            "body",
        ]
        widgets = {"body": forms.Textarea(attrs={"class": "body-editor", "rows": 22})}
        labels = {
            "title": gettext_lazy("Title"),
            "category": gettext_lazy("Category"),
            "secondary_category": gettext_lazy("Secondary category"),
            "summary": gettext_lazy("Summary"),
            "minutes": gettext_lazy("Minutes"),
            "level": gettext_lazy("Level"),
            "language": gettext_lazy("Language"),
            "translation_of": gettext_lazy("Translation of"),
            "body": gettext_lazy("Body"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        active = Category.objects.filter(active=True)
        self.fields["category"].queryset = active
        self.fields["secondary_category"].queryset = active
        # A form that leaves the language out (an older client) writes English, as before.
        self.fields["language"].required = False
        # A language version translates an original, never itself nor another version.
        originals = module_originals()
        if self.instance.pk:
            originals = originals.exclude(pk=self.instance.pk)
        self.fields["translation_of"].queryset = originals
        self.fields["translation_of"].help_text = _(
            "For a version of another module in this language: managers who read this language "
            "get it instead of the original."
        )

    def clean_language(self) -> str:
        return self.cleaned_data.get("language") or "en"


def _choice(number: int) -> str:
    # Translators: one of a quiz question's four choices, by its number.
    return _("Choice %(number)s") % {"number": number}


choice_label = lazy(_choice, str)


class QuestionForm(forms.Form):
    question = forms.CharField(max_length=300, required=False, label=gettext_lazy("Question"))
    choice_1 = forms.CharField(max_length=200, required=False, label=choice_label(1))
    choice_2 = forms.CharField(max_length=200, required=False, label=choice_label(2))
    choice_3 = forms.CharField(max_length=200, required=False, label=choice_label(3))
    choice_4 = forms.CharField(max_length=200, required=False, label=choice_label(4))
    # The right answer: a radio button beside each choice (see `choice_rows`).
    answer = forms.TypedChoiceField(
        choices=[(n, choice_label(n + 1)) for n in range(4)],
        coerce=int,
        initial=0,
        required=False,
        empty_value=-1,  # none chosen: the quiz rules say "the answer must be one of the choices"
        widget=forms.RadioSelect,
        label=gettext_lazy("Right answer"),
    )
    explanation = forms.CharField(
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label=gettext_lazy("Explanation"),
    )

    def choice_rows(self) -> list[tuple[forms.BoundField, object]]:
        """Each choice's text field with the radio button that marks it the right answer."""
        choices = [self[f"choice_{n}"] for n in range(1, 5)]
        return list(zip(choices, self["answer"].subwidgets, strict=True))

    def as_question(self) -> dict | None:
        """The quiz entry, or None for a question left blank."""
        data = self.cleaned_data
        choices = [data.get(f"choice_{n}", "").strip() for n in range(1, 5)]
        text = data.get("question", "").strip()
        if not text and not any(choices) and not data.get("explanation", "").strip():
            return None
        return {
            "question": text,
            "choices": choices,
            "answer": data.get("answer", 0),
            "explanation": data.get("explanation", "").strip(),
        }


QuizFormSet = forms.formset_factory(QuestionForm, extra=0, max_num=5, absolute_max=5)


def _quiz_initial(quiz: list[dict]) -> list[dict]:
    rows = [
        {
            "question": q["question"],
            **{f"choice_{n + 1}": c for n, c in enumerate(q["choices"])},
            "answer": q["answer"],
            "explanation": q.get("explanation", ""),
        }
        for q in quiz
    ]
    room = min(5, max(3, len(rows) + 1))  # three blank for a new module, one more up to five
    return rows + [{}] * (room - len(rows))


def _index(request, draft_form, *, status: int = 200):
    modules = studio_modules(request.user)
    by_status = {status: [] for status, _label in GROUPS}
    for module in modules:
        by_status[module.status].append(module)
    groups = [(label, by_status[status]) for status, label in GROUPS]
    return render(
        request,
        "coaching/studio_index.html",
        {
            "groups": groups,
            "draft_form": draft_form,
            "to_review": waiting_for_review_by(request.user, modules),
            "four_eyes": services.four_eyes(),
        },
        status=status,
    )


@trainer_only
def module_index(request):
    return _index(request, DraftForm())


SAVED = {
    "submit": gettext_lazy("Saved and submitted for review."),
    "publish": gettext_lazy("Saved and published: managers can read it now."),
}


def _editor(request, module: TrainingModule | None):
    quiz = module.quiz if module else []
    form = ModuleForm(request.POST or None, instance=module, prefix="m")
    quiz_forms = QuizFormSet(request.POST or None, initial=_quiz_initial(quiz), prefix="quiz")
    # The publish and submit buttons belong to this form: what is in it is saved first, and on
    # any error nothing is saved or published and the form keeps what was typed.
    action = request.POST.get("action", "save")
    if request.method == "POST" and form.is_valid() and quiz_forms.is_valid():
        questions = [q for f in quiz_forms if (q := f.as_question()) is not None]
        fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
        try:
            saved = _save(request.user, module, action, quiz=questions, **fields)
        except (ValidationError, PermissionDenied) as exc:
            form.add_error(None, getattr(exc, "messages", None) or str(exc))
        else:
            messages.success(request, _saved_message(module, saved, action))
            return redirect("studio-edit", pk=saved.pk)
    body = form["body"].value() or ""
    return render(
        request,
        "coaching/studio_edit.html",
        {
            "module": module,
            "form": form,
            "quiz_forms": quiz_forms,
            "preview": render_markdown(body[:PREVIEW_LIMIT]),
            "can_publish": request.user.has_perm("coaching.publish_trainingmodule"),
            **_review_state(request.user, module),
        },
        status=400 if request.method == "POST" else 200,
    )


def _save(user, module: TrainingModule | None, action: str, **fields) -> TrainingModule:
    with transaction.atomic():
        if module is None:
            saved = services.create_module(user, **fields)
        else:
            saved = services.edit_module(user, module, **fields)
        if action == "submit":
            saved = services.submit_module(user, saved)
        elif action == "publish":
            saved = services.publish_module(user, saved)
    return saved


def _saved_message(module: TrainingModule | None, saved: TrainingModule, action: str) -> str:
    if action in SAVED:
        return str(SAVED[action])
    if module is None:
        return _("Module created as a draft.")
    if saved.status == Status.PUBLISHED and services.has_unpublished_changes(saved):
        return _(
            "Saved. Four-eyes review is on: managers keep reading the published version until "
            "another trainer or admin publishes these changes."
        )
    return _("Saved (version %(version)s).") % {"version": saved.version}


def _review_state(user, module: TrainingModule | None) -> dict:
    """Which of the editor's buttons apply: submit, publish (after saving), send back."""
    four_eyes = services.four_eyes()
    may_publish = user.has_perm("coaching.publish_trainingmodule")
    status = module.status if module else Status.DRAFT
    held = module is not None and services.has_unpublished_changes(module)
    mine = module is None or module.edited_by_id == user.pk
    reviewable = status == Status.IN_REVIEW or held
    if four_eyes:
        publish = may_publish and reviewable and not mine
    else:
        publish = may_publish and (status in (Status.DRAFT, Status.IN_REVIEW) or held)
    return {
        "four_eyes": four_eyes,
        "held": held,
        "can_submit": status == Status.DRAFT,
        "can_publish_form": publish,
        "can_send_back": may_publish and reviewable and not (four_eyes and mine),
        "waits_for_other": four_eyes and reviewable and mine,
        "review_note": review_note(module) if module and status != Status.ARCHIVED else None,
    }


@trainer_only
def module_create(request):
    return _editor(request, None)


@trainer_only
def module_edit(request, pk: int):
    return _editor(request, get_object_or_404(modules_authored_by(request.user), pk=pk))


class DraftForm(forms.Form):
    category = forms.ModelChoiceField(
        Category.objects.filter(active=True), empty_label=None, label=gettext_lazy("Category")
    )
    objective = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        label=gettext_lazy("Learning objective"),
        help_text=gettext_lazy("What a manager should be able to do after it."),
    )
    minutes = forms.IntegerField(
        min_value=5, max_value=60, initial=15, label=gettext_lazy("Minutes")
    )


@require_POST
@trainer_only
def module_draft(request):
    form = DraftForm(request.POST)
    if form.is_valid():
        try:
            module, reason = services.draft_with_ai(request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if reason:
                messages.warning(request, reason)
            else:
                messages.success(
                    request, _("Draft written by the AI: read and edit before publishing.")
                )
            return redirect("studio-edit", pk=module.pk)
    return _index(request, form, status=400)


@require_POST
@trainer_only
def preview(request):
    """The editor's live preview: the same sanitised HTML managers will read."""
    body = request.POST.get("body", "")
    if len(body) > PREVIEW_LIMIT:
        return HttpResponseBadRequest(_("the body is too long to preview"))
    return HttpResponse(render_markdown(body), content_type="text/html; charset=utf-8")


TRANSITIONS = {
    "submit": (services.submit_module, gettext_lazy("Submitted for review.")),
    "publish": (services.publish_module, gettext_lazy("Published: managers can read it now.")),
    "archive": (services.archive_module, gettext_lazy("Archived: managers no longer see it.")),
}


def _send_back(request):
    def send(user, module):
        return services.send_back(user, module, note=request.POST.get("note", ""))

    return send, gettext_lazy("Sent back to its author with your note.")


@require_POST
@trainer_only
def module_transition(request, pk: int, action: str):
    if action not in TRANSITIONS and action != "send-back":
        raise Http404("no such action")
    module = get_object_or_404(modules_authored_by(request.user), pk=pk)
    change, done = _send_back(request) if action == "send-back" else TRANSITIONS[action]
    try:
        change(request.user, module)
        messages.success(request, done)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    return redirect("studio-edit", pk=module.pk)
