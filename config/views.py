"""The home page sends each role to its own page; the about page and the password reset's last
step are here too."""

import hashlib

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import cache_control

from coaching.plans.focus import CEILING, FOCUS_SIZE
from coaching.tracking.risk import RISK_WEEKS
from scoring.about import score_guide
from scoring.access import role_of
from scoring.models import Role

RESET_MAILS_PER_HOUR = 3  # reset emails to one address an hour

HOME_OF = {
    Role.STORE_MANAGER: "week",
    Role.REGIONAL_LEAD: "regions",
    Role.TRAINER: "studio",
    Role.ADMIN: "regions",
}


@login_required
def home(request):
    page = HOME_OF.get(role_of(request.user))
    if page is None:
        return render(request, "no_role.html", status=403)
    return redirect(page)


@cache_control(max_age=86400)
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says (the admin's pages say nothing)."""
    return redirect(static("ror/favicon.svg"))


@login_required
def about(request):
    """What the numbers mean, for every role: read from the data and the charts' constants."""
    context = {
        "guide": score_guide(),
        "focus_size": FOCUS_SIZE,
        "ceiling": int(CEILING),
        "risk_weeks": RISK_WEEKS,
    }
    return render(request, "about.html", context)


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset form, with at most RESET_MAILS_PER_HOUR emails to one address an hour, so
    nobody can flood an inbox. Capped or not, the answer is the same page: it tells nothing about
    whether the address has an account."""

    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"

    def form_valid(self, form):
        address = form.cleaned_data["email"].strip().lower()
        key = "password-reset:" + hashlib.sha256(address.encode()).hexdigest()
        cache.add(key, 0, timeout=3600)
        if cache.incr(key) > RESET_MAILS_PER_HOUR:
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's last step of a password reset, which also lifts a login lockout (django-axes)
    for that username: whoever set a new password through the emailed link may try it now."""

    def form_valid(self, form):
        response = super().form_valid(form)
        AxesProxyHandler.reset_attempts(username=form.user.get_username())
        return response
