"""The "Your settings" page, open to every signed-in user with a profile."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _

from scoring.languages import chosen_language
from scoring.models import Role

from . import services
from .access import own_profile
from .forms import PreferencesForm


@login_required
def settings_page(request):
    profile = own_profile(request.user)
    if profile is None:
        raise PermissionDenied("this account has no profile yet: ask an administrator")
    manager = profile.role == Role.STORE_MANAGER
    initial = {"language": profile.language, "nudges": profile.nudges}
    form = PreferencesForm(request.POST or None, initial=initial, manager=manager)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_preferences(
                profile,
                language=form.cleaned_data["language"],
                nudges=form.cleaned_data["nudges"] if manager else None,
            )
        except ValidationError as exc:
            form.add_error("language", exc)
        else:
            request.user.profile = profile
            # Said in the language chosen: the page it lands on will be in it too.
            language = chosen_language(request.user) or translation.get_language_from_request(
                request
            )
            with translation.override(language):
                messages.success(request, _("Your settings are saved."))
            return redirect("settings")
    return render(
        request, "coaching/settings.html", {"form": form}, status=400 if form.errors else 200
    )
