"""The region page at chain scale: every store counts in its figures, one page of them is listed,
and what it derives from the scores is kept until the scores change."""

import io

import pytest
from django.test import Client

from coaching.tracking import pages
from scoring.access import stores_visible_to
from scoring.imports import import_scores
from scoring.models import Region, Store
from scoring.weeks import week_label
from tests.web.conftest import build_chain
from tests.web.test_pages import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def north(monkeypatch):
    build_chain(stores=9)
    monkeypatch.setattr(pages, "REGION_PAGE_SIZE", 2)
    region = Region.objects.get(code="north")
    return region, Store.objects.filter(region=region)


def _codes(page) -> list[str]:
    return [row.store.code for row in page.rows]


def test_the_heatmap_lists_one_page_of_the_stores_and_the_figures_count_them_all(north):
    region, stores = north
    everyone = sorted(stores.values_list("code", flat=True))
    first = pages.region_dashboard(region, stores, sort="store")
    second = pages.region_dashboard(region, stores, sort="store", page=2)
    assert len(everyone) > 2
    assert _codes(first) == everyone[:2] and _codes(second) == everyone[2:4]
    assert first.store_count == len(everyone) and first.listing.paginator.count == len(everyone)
    # the region's average ROR and its movement are over every store, not the page
    moved = sum(len(ids) for ids in first.movement.values())
    assert moved == len(everyone)
    assert all(row.engagement is not None for row in first.rows)


def test_stores_are_found_by_code_or_name_and_sorted_as_asked(north):
    region, stores = north
    target = stores.order_by("code").last()
    found = pages.region_dashboard(region, stores, query=target.code.lower())
    assert _codes(found) == [target.code]
    assert pages.region_dashboard(region, stores, query="no such store").rows == []
    by_ror = pages.region_dashboard(region, stores, sort="ror")
    rors = [row.ror for row in by_ror.rows]
    assert rors == sorted(rors)
    lowest = min(
        (
            row
            for p in (1, 2, 3, 4, 5)
            for row in pages.region_dashboard(region, stores, page=p).rows
        ),
        key=lambda r: r.ror,
    )
    assert by_ror.rows[0].store == lowest.store
    by_risk = pages.region_dashboard(region, stores, sort="anything else")
    assert by_risk.sort == "risk"
    assert [r.risk for r in by_risk.rows] == sorted((r.risk for r in by_risk.rows), reverse=True)


def test_the_region_figures_are_kept_until_an_import_changes_the_scores(north):
    region, stores = north
    store = stores.order_by("code").first()
    before = pages.region_dashboard(region, stores, query=store.code)
    was = _advocacy(before)
    week = week_label(before.week)
    csv = (
        f"store_code,week,category,score,responses\n{store.code},{week},customer_advocacy,0,5000\n"
    )
    assert import_scores(io.BytesIO(csv.encode()), backdate_weeks=52).ok

    after = pages.region_dashboard(region, stores, query=store.code)
    assert _advocacy(after) < was - 10  # 5,000 answers of 0 outweigh the questionnaire's


def _advocacy(page) -> float:
    return next(t.score for t in page.rows[0].cells if t.category.code == "customer_advocacy")


def test_the_lead_pages_through_the_stores_keeping_order_and_search(north):
    client = login(Client(), "lead.north")
    page = client.get("/regions/north/", {"sort": "ror", "q": "S0"}).content.decode()
    assert 'rel="next"' in page and "sort=ror" in page and "q=S0" in page
    assert "Stores 1 to 2 of" in page
    assert client.get("/regions/north/", {"page": "999"}).status_code == 200  # the last page
    assert client.get("/regions/north/", {"page": "x", "sort": "<b>"}).status_code == 200
    visible = stores_visible_to(client.get("/").wsgi_request.user)
    assert visible.filter(region__code="north").count() > 2


def test_the_progress_api_pages_whole_stores(north):
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(username="lead.north"))
    _region, stores = north
    codes = sorted(stores.values_list("code", flat=True))
    first = client.get("/api/v1/progress/", {"page_size": 2, "weeks": 4}).json()
    second = client.get("/api/v1/progress/", {"page_size": 2, "weeks": 4, "page": 2}).json()
    assert first["count"] == len(codes)
    assert sorted({r["store"] for r in first["results"]}) == codes[:2]
    assert sorted({r["store"] for r in second["results"]}) == codes[2:4]
    # each store's series is whole: 8 categories x 4 weeks
    assert len(first["results"]) == 2 * 8 * 4
    one = client.get("/api/v1/progress/", {"store": codes[0], "weeks": 4}).json()
    assert one["count"] == 1 and {r["store"] for r in one["results"]} == {codes[0]}


def test_the_scores_api_pages_by_cursor_newest_week_first(north):
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(username="lead.north"))
    _region, stores = north
    seen, url, pages_read = [], "/api/v1/scores/?page_size=100&store=" + stores.first().code, 0
    while url:
        body = client.get(url).json()
        assert "count" not in body  # a region holds a million scores: nobody counts them
        seen += [(r["week"], r["category"], r["source"]) for r in body["results"]]
        url, pages_read = body["next"], pages_read + 1
    weeks = [week for week, _, _ in seen]
    assert pages_read > 1 and weeks == sorted(weeks, reverse=True)
    assert len(seen) == len(set(seen))  # no score twice across the pages, none skipped:
    assert len(seen) == stores.first().scores.count()
