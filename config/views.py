"""The home page sends each role to its own page."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import cache_control

from scoring.access import role_of
from scoring.models import Role

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
