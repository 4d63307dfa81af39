"""Regional leads' pages: the region dashboard, any store of the region, and CSV exports.

Stores and regions come only from `scoring.access`: another region's URL answers 404.
"""

import csv

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from scoring.access import regions_visible_to, require_role, stores_visible_to
from scoring.csv_safety import safe_row
from scoring.models import Role
from scoring.selectors import category_series
from scoring.weeks import week_label

from ..nudges import selectors as nudge_selectors
from ..replies import selectors as reply_selectors
from . import chain, pages
from .impact import IMPACT_CSV_HEADER, csv_row, report_rows
from .selectors import region_impact

lead_or_admin = require_role(Role.REGIONAL_LEAD, Role.ADMIN)
with_stores = require_role(Role.STORE_MANAGER, Role.REGIONAL_LEAD, Role.ADMIN)


@lead_or_admin
def region_index(request):
    regions = list(regions_visible_to(request.user).order_by("name"))
    if len(regions) == 1:
        return redirect("region", code=regions[0].code)
    page = chain.chain_overview(regions, stores_visible_to(request.user))
    return render(request, "coaching/region_index.html", {"page": page})


@lead_or_admin
def region_dashboard(request, code: str):
    region = get_object_or_404(regions_visible_to(request.user), code=code)
    page = pages.region_dashboard(
        region,
        stores_visible_to(request.user),
        sort=request.GET.get("sort", "risk"),
        query=request.GET.get("q", "")[:60],
        page=request.GET.get("page", 1),
    )
    return render(request, "coaching/region.html", {"page": page})


@with_stores
def store_detail(request, code: str):
    visible = stores_visible_to(request.user)
    store = get_object_or_404(visible.select_related("region"), code=code)
    page = pages.store_page(store, visible)
    nudge = nudge_selectors.nudge_managers(request.user, store)
    weeks = request.GET.get("weeks", "")
    coaching = reply_selectors.store_coaching(
        request.user, store, weeks=int(weeks) if weeks.isdigit() else reply_selectors.PLAN_WEEKS
    )
    return render(
        request,
        "coaching/store.html",
        {"page": page, "nudge_managers": nudge, "coaching": coaching},
    )


def _csv_response(filename: str) -> tuple[HttpResponse, csv.writer]:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response, csv.writer(response)


@lead_or_admin
def region_history_csv(request, code: str):
    """The region's weekly category scores, in the import format (it can be imported again)."""
    region = get_object_or_404(regions_visible_to(request.user), code=code)
    stores = stores_visible_to(request.user).filter(region=region)
    response, writer = _csv_response(f"{region.code}-history.csv")
    writer.writerow(["store_code", "category", "week", "score"])
    for row in category_series(store_ids=list(stores.values_list("id", flat=True)), weeks=26):
        writer.writerow(
            safe_row([row["store"], row["category"], week_label(row["week"]), row["score"]])
        )
    return response


@lead_or_admin
def region_impact_csv(request, code: str):
    region = get_object_or_404(regions_visible_to(request.user), code=code)
    stores = stores_visible_to(request.user).filter(region=region)
    result = region_impact(list(stores.values_list("id", flat=True)))
    report = result.value if result else None
    response, writer = _csv_response(f"{region.code}-impact.csv")
    writer.writerow(IMPACT_CSV_HEADER)
    if report is not None:
        writer.writerows(safe_row(csv_row(label, e)) for label, e in report_rows(report))
    return response
