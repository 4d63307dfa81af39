"""The settings form: the language, and the mid-week reminders box for store managers."""

from django import forms
from django.conf import settings
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


class PreferencesForm(forms.Form):
    language = forms.ChoiceField(required=False, label=gettext_lazy("Language"))
    nudges = forms.BooleanField(required=False, label=gettext_lazy("Mid-week reminders"))

    def __init__(self, *args, manager: bool, **kwargs):
        super().__init__(*args, **kwargs)
        # Blank follows the store for a manager; others have no store, so the browser decides.
        default = _("Your store's language") if manager else _("Your browser's language")
        # Each language in its own name, so anyone can find theirs.
        self.fields["language"].choices = [("", default), *settings.LANGUAGES]
        if not manager:
            del self.fields["nudges"]
            return
        self.fields["nudges"].help_text = _(
            "An email on %(day)s when some of this week's tips are still open. Your regional "
            "lead can still send you a reminder."
        ) % {"day": WEEKDAYS[settings.NUDGE_WEEKDAY]}
