"""The pulse pages. Public: the questionnaire behind a store's link or kiosk, no login, no
JavaScript. Signed in: the store's links, QR poster, kiosks and this week's answers so far
(managers run their store's; leads and admins read), and a region's answer volumes."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ..access import regions_visible_to, require_role, stores_visible_to
from ..languages import visitor_language
from ..models import Audience, Role, Store
from ..weeks import week_start
from . import access, guard, selectors, services
from .forms import PulseForm

MAX_BODY = 16 * 1024  # a full answer with the longest comment is under 4 KB


def _questionnaire(request, *, store, **kwargs):
    """In the respondent's language (`visitor_language`), for this response only."""
    language = visitor_language(request, store)
    with translation.override(language):
        request.LANGUAGE_CODE = language
        response = _questionnaire_in(request, store=store, language=language, **kwargs)
    response.headers.setdefault("Content-Language", language)
    return response


def _questionnaire_in(request, *, store, audience, channel, language, device=None):
    """The form and its answer, shared by the public link and the kiosk."""
    day = selectors.local_day(store)
    week = week_start(day)
    context = {
        "store": store,
        "audience": audience,
        "kiosk": device is not None,
        "threshold": settings.PULSE_MIN_STAFF_ANSWERS,
    }
    if request.method == "POST":
        if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BODY:
            return render(request, "scoring/pulse/refused.html", context, status=413)
        if guard.refused(request, store, device):
            return render(request, "scoring/pulse/refused.html", context, status=429)
    if device is None and guard.answered_today(request, store, audience, day):
        return render(request, "scoring/pulse/thanks.html", {**context, "again": True})
    if request.method == "POST":
        shown = [int(n) for n in request.POST.getlist("shown") if n.isdigit()][:10]
        questions = list(access.questions_for(audience).filter(id__in=shown))
        form = PulseForm(request.POST, questions=questions)
        if form.is_valid():
            thanks = redirect(f"{request.path}?thanks=1&lang={language}")
            if form.is_bot:
                return thanks  # a bot is thanked like anyone, and nothing is kept
            services.submit_pulse(
                store=store,
                audience=audience,
                answers=form.answers(),
                comment=form.cleaned_data["comment"],
                channel=channel,
                counted=guard.counts_today(request, store, day, device),
                week=week,
            )
            if device is None:
                guard.remember_answer(thanks, store, audience, day)
            return thanks
    elif request.GET.get("thanks"):
        context["reset_seconds"] = settings.PULSE_KIOSK_RESET_SECONDS
        return render(request, "scoring/pulse/thanks.html", context)
    else:
        form = PulseForm(questions=selectors.choose_questions(store, audience, week))
    status = 400 if form.errors else 200
    return render(request, "scoring/pulse/form.html", {**context, "form": form}, status=status)


def answer(request, token: str):
    """The page behind a store's QR code or link."""
    link = access.link_by_token(token)
    if link is None:
        raise Http404("no such pulse link")
    if link.retired_at is not None:
        return render(request, "scoring/pulse/retired.html", {"store": link.store}, status=410)
    return _questionnaire(request, store=link.store, audience=link.audience, channel="link")


def kiosk(request, key: str, audience: str = Audience.CUSTOMER):
    """A tablet at the till: the customer questionnaire, back to the start after each answer."""
    device = access.device_by_key(key)
    if device is None or audience not in Audience.values:
        raise Http404("no such kiosk")
    return _questionnaire(
        request, store=device.store, audience=audience, channel="kiosk", device=device
    )


def _store(request, code: str) -> Store:
    store = stores_visible_to(request.user).filter(code=code).select_related("region").first()
    if store is None:
        raise Http404("no such store")
    return store


def _run(request, code: str) -> Store:
    store = access.stores_run_by(request.user).filter(code=code).first()
    if store is None:
        raise PermissionDenied(_("only the store's manager hands out its pulse links"))
    return store


PEOPLE = (Role.STORE_MANAGER, Role.REGIONAL_LEAD, Role.ADMIN)


@require_role(*PEOPLE)
def pulse_home(request):
    """A manager's store pulse; a lead's or admin's first region."""
    store = stores_visible_to(request.user).order_by("code").first()
    if store is None:
        raise Http404("no store")
    if access.stores_run_by(request.user).exists() and not request.user.is_superuser:
        return redirect("pulse-store", code=store.code)
    return redirect("pulse-region", code=store.region.code)


@require_role(*PEOPLE)
def store_pulse(request, code: str, new_key: str = ""):
    store = _store(request, code)
    manages = access.stores_run_by(request.user).filter(pk=store.pk).exists()
    links = {}
    if manages:
        for audience in Audience.values:
            link = services.link_for(store, audience)
            links[audience] = request.build_absolute_uri(reverse("pulse-answer", args=[link.token]))
    day = selectors.local_day(store)
    return render(
        request,
        "scoring/pulse/store.html",
        {
            "store": store,
            "manages": manages,
            "links": links,
            "devices": list(access.live_devices(store)) if manages else [],
            "new_key": new_key,
            "so_far": selectors.week_so_far(store, week_start(day)),
            "day": day,
        },
    )


@require_role(*PEOPLE)
def poster(request, code: str, audience: str = Audience.CUSTOMER):
    """A printable page for the till (customers) or the staff room (the team), with the QR code."""
    store = _run(request, code)
    if audience not in Audience.values:
        raise Http404("no such audience")
    link = services.link_for(store, audience)
    url = request.build_absolute_uri(reverse("pulse-answer", args=[link.token]))
    return render(
        request,
        "scoring/pulse/poster.html",
        {"store": store, "audience": audience, "url": url, "qr": qr_svg(url)},
    )


def qr_svg(url: str) -> str:
    import segno  # only the poster draws QR codes

    return segno.make(url, error="m").svg_inline(scale=8, omitsize=True, title=_("QR code"))


@require_POST
@require_role(*PEOPLE)
def rotate(request, code: str, audience: str):
    store = _run(request, code)
    if audience not in Audience.values:
        raise Http404("no such audience")
    services.rotate_link(store, audience)
    return redirect(reverse("pulse-store", args=[store.code]) + "?rotated=" + audience)


@require_POST
@require_role(*PEOPLE)
def device_add(request, code: str):
    store = _run(request, code)
    try:
        _device, key = services.add_device(
            store, name=request.POST.get("name", ""), by=request.user
        )
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect("pulse-store", code=store.code)
    # Shown once, on this response only: only its digest is kept.
    kiosk_url = request.build_absolute_uri(reverse("pulse-kiosk", args=[key]))
    return store_pulse(request, code, new_key=kiosk_url)


@require_POST
@require_role(*PEOPLE)
def device_retire(request, code: str, pk: int):
    store = _run(request, code)
    device = access.device_of(store, pk)
    if device is None:
        raise Http404("no such device")
    services.retire_device(device)
    return redirect("pulse-store", code=store.code)


@require_role(Role.REGIONAL_LEAD, Role.ADMIN)
def region_pulse(request, code: str):
    """Answer volumes per store this week, with a flag where a flood cap held answers back."""
    region = regions_visible_to(request.user).filter(code=code).first()
    if region is None:
        raise Http404("no such region")
    stores = list(stores_visible_to(request.user).filter(region=region).order_by("code"))
    week = week_start(timezone.localdate())
    volumes = selectors.volumes_by_store([s.id for s in stores], week)
    rows = [(store, volumes.get(store.id, {})) for store in stores]
    # Flagged stores first, then the quietest: the ones a lead has something to do about.
    rows.sort(key=lambda row: (-row[1].get("held_back", 0), row[1].get("customer", 0), row[0].code))
    page = Paginator(rows, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "scoring/pulse/region.html",
        {
            "region": region,
            "page": page,
            "week": week,
            "flagged": sum(1 for _, v in rows if v.get("held_back")),
            "answers": sum(v.get("customer", 0) + v.get("staff", 0) for _, v in rows),
        },
    )
