"""The questionnaire as a plain HTML form: radio buttons, an optional comment, no JavaScript."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..models import Question, Scale

AGREE = [
    (1, gettext_lazy("Strongly disagree")),
    (2, gettext_lazy("Disagree")),
    # Translators: neither agree nor disagree, the middle of a five-point scale.
    (3, gettext_lazy("Neither")),
    (4, gettext_lazy("Agree")),
    (5, gettext_lazy("Strongly agree")),
]
LIKELY = [(n, str(n)) for n in range(11)]


class PulseForm(forms.Form):
    """One field per question shown (`q<id>`); `website` is a honeypot no person fills in (it
    is hidden from sight and from screen readers)."""

    comment = forms.CharField(
        required=False,
        max_length=settings.PULSE_COMMENT_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        label=gettext_lazy("Anything to add? (optional)"),
        help_text=gettext_lazy("Please don't write names, phone numbers or e-mail addresses."),
    )
    website = forms.CharField(required=False)

    def __init__(self, *args, questions: list[Question], **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = questions
        for question in questions:
            self.fields[f"q{question.id}"] = forms.TypedChoiceField(
                label=question.label,
                choices=LIKELY if question.scale == Scale.LIKELY else AGREE,
                coerce=int,
                required=False,
                widget=forms.RadioSelect,
            )
        self.order_fields([f"q{q.id}" for q in questions] + ["comment", "website"])

    @property
    def question_fields(self):
        return [(q, self[f"q{q.id}"]) for q in self.questions]

    def clean(self):
        data = super().clean()
        if not self.answers():
            raise forms.ValidationError(_("Please answer at least one question."))
        return data

    def answers(self) -> dict[int, int]:
        data = self.cleaned_data
        return {
            q.id: data[f"q{q.id}"] for q in self.questions if data.get(f"q{q.id}") not in (None, "")
        }

    @property
    def is_bot(self) -> bool:
        return bool(self.cleaned_data.get("website"))
