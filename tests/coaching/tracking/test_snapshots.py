"""With a broker, an overview never computes in the request once it has figures: after a change of
the scores it shows the figures it had, says from when, and the warm-up computes the new ones."""

import io

import pytest

from coaching.tracking import chain, pages
from scoring import snapshots
from scoring.imports import import_scores
from scoring.models import Region, Store
from scoring.weeks import week_label
from tests.web.conftest import build_chain

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker(settings, monkeypatch):
    queued = []
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(snapshots.current_app, "send_task", lambda name, **kw: queued.append(name))
    return queued


def _lower_advocacy(store: Store, week) -> None:
    csv = f"store_code,week,category,score,responses\n{store.code},{week_label(week)},customer_advocacy,0,5000\n"
    assert import_scores(io.BytesIO(csv.encode()), backdate_weeks=52).ok


def _advocacy(page) -> float:
    return next(t.score for t in page.rows[0].cells if t.category.code == "customer_advocacy")


def test_after_an_import_the_region_page_shows_its_last_figures_until_the_warm_up(
    broker, django_capture_on_commit_callbacks
):
    build_chain(stores=6)
    region = Region.objects.get(code="north")
    stores = Store.objects.filter(region=region)
    store = stores.order_by("code").first()
    first = pages.region_dashboard(region, stores, query=store.code)
    assert first.as_of.current and snapshots.WARM_TASK not in broker

    with django_capture_on_commit_callbacks(execute=True):
        _lower_advocacy(store, first.week)
    assert broker.count(snapshots.WARM_TASK) == 1  # queued once the import committed

    stale = pages.region_dashboard(region, stores, query=store.code)
    assert not stale.as_of.current and _advocacy(stale) == _advocacy(first)
    assert broker.count(snapshots.WARM_TASK) == 1  # once a minute at most

    assert chain.warm_overviews() == Region.objects.count() + 1
    fresh = pages.region_dashboard(region, stores, query=store.code)
    assert fresh.as_of.current and _advocacy(fresh) < _advocacy(first) - 10


def test_without_a_broker_the_first_view_after_an_import_computes(settings):
    build_chain(stores=6)
    region = Region.objects.get(code="north")
    stores = Store.objects.filter(region=region)
    store = stores.order_by("code").first()
    first = pages.region_dashboard(region, stores, query=store.code)
    _lower_advocacy(store, first.week)
    after = pages.region_dashboard(region, stores, query=store.code)
    assert after.as_of.current and _advocacy(after) < _advocacy(first) - 10


def test_the_chain_overview_adds_up_in_sql_what_the_region_pages_show():
    build_chain(stores=6)
    regions = list(Region.objects.order_by("name"))
    overview = chain.chain_overview(regions, Store.objects.all())
    for row in overview.regions:
        dashboard = pages.region_dashboard(row.region, Store.objects.all())
        assert row.stores == dashboard.store_count
        assert row.ror == dashboard.average_ror[-1]
    assert [c.category.code for c in overview.distribution] == [
        c.code for c in dashboard.categories
    ]
