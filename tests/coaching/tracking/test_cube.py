"""The pages read their scores once (`scoring.cube.score_cube`) and derive series, ROR, trends,
movement, the change since coaching and the categories' spread from it: the same numbers as the
query-per-purpose selectors give, on a generated chain, and one score-reading query per page."""

import datetime as dt
import random
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from coaching.models import WeeklyPlan
from coaching.tracking.selectors import since_coaching, week_axis
from scoring.cube import score_cube
from scoring.models import Category, CategoryScore, Role, Source, Store
from scoring.selectors import (
    CHAIN,
    category_trends,
    combined_scores,
    distribution,
    improving_and_declining,
    latest_scored_week,
    region_distribution,
    weekly_ror,
)
from scoring.weeks import weeks_back
from tests.factories import MONDAY, RegionFactory, StoreFactory, user_with_role

pytestmark = pytest.mark.django_db


# What the pages computed before the cube, one query per purpose: the reference the cube must match.


def series_by_store_and_category(
    store_ids: list[int], weeks: list[dt.date]
) -> dict[tuple[int, int], list[float | None]]:
    index = {week: n for n, week in enumerate(weeks)}
    series: dict[tuple[int, int], list[float | None]] = defaultdict(lambda: [None] * len(weeks))
    for store, _region, category, week, score in combined_scores(
        store_ids=store_ids, start=weeks[0], end=weeks[-1]
    ):
        series[(store, category)][index[week]] = round(score, 1)
    return series


def ror_by_store(store_ids: list[int], weeks: list[dt.date]) -> dict[int, list[float | None]]:
    index = {week: n for n, week in enumerate(weeks)}
    result: dict[int, list[float | None]] = defaultdict(lambda: [None] * len(weeks))
    for point in weekly_ror(start=weeks[0], end=weeks[-1], store_ids=store_ids):
        result[point.store_id][index[point.week]] = point.ror
    return result


HISTORY = 30


def generated_chain(seed: int = 7) -> dict[str, list[Store]]:
    """Three regions of four stores over 30 weeks: gaps, two sources in some cells, unreported
    and thin samples, unequal weights, an inactive category, a store that stopped three weeks
    early and one whose latest score is in the inactive category."""
    rng = random.Random(seed)
    Category.objects.filter(code="brand_loyalty").update(weight=Decimal("2.5"))
    Category.objects.filter(code="team_retention").update(weight=Decimal("0.75"))
    inactive = Category.objects.order_by("code").last()
    Category.objects.filter(pk=inactive.pk).update(active=False)
    categories = list(Category.objects.all())
    regions = {name: [StoreFactory(region=RegionFactory()) for _ in range(4)] for name in "abc"}
    regions["a"] += [StoreFactory(region=regions["a"][0].region)]
    early, late = regions["a"][1], regions["a"][4]
    rows = []
    for store in [s for stores in regions.values() for s in stores]:
        last = 3 if store == early else 0
        for back in range(last, HISTORY):
            for category in categories:
                if rng.random() < 0.12:
                    continue
                sources = [Source.IMPORT] + ([Source.QUESTIONNAIRE] if rng.random() < 0.3 else [])
                for source in sources:
                    rows.append(
                        CategoryScore(
                            store=store,
                            category=category,
                            week=weeks_back(MONDAY, back),
                            score=Decimal(str(round(rng.uniform(35, 95), rng.choice((0, 1, 2))))),
                            responses=rng.choice((None, 2, 4, 9, 20, 37)),
                            source=source,
                        )
                    )
    rows.append(
        CategoryScore(
            store=late, category=inactive, week=weeks_back(MONDAY, -1), score=50, responses=9
        )
    )
    CategoryScore.objects.bulk_create(rows)
    return regions


def page_sets(regions):
    a = regions["a"]
    return {
        "region": a[:4],
        "one store": a[:1],
        "the early store": a[1:2],
        "with the inactive latest": a,
    }


@pytest.mark.parametrize(
    "which", ["region", "one store", "the early store", "with the inactive latest"]
)
def test_the_cube_gives_what_the_selectors_give(which):
    regions = generated_chain()
    stores = page_sets(regions)[which]
    ids = [s.id for s in stores]
    others = [s.id for s in regions["b"]] + ids
    manager = user_with_role(Role.STORE_MANAGER, stores=stores)
    began = weeks_back(MONDAY, 28)  # the week before lies outside the 26: read as one extra
    WeeklyPlan.objects.create(manager=manager, store=stores[0], week=began, status="ready")

    cube = score_cube(ids, weeks=26, also=weeks_back(began, 1), benchmark=True, latest_of=others)

    week = latest_scored_week(ids)
    assert cube.week == week is not None
    assert cube.latest_week(others) == latest_scored_week(others)
    weeks = week_axis(week, 26)
    categories = list(Category.objects.filter(active=True))
    keys = [(s, c.id) for s in ids for c in categories]
    old_series, new_series = series_by_store_and_category(ids, weeks), cube.series(weeks)
    assert [new_series[k] for k in keys] == [old_series[k] for k in keys]
    assert any(v is not None for k in keys for v in new_series[k])
    old_ror, new_ror = ror_by_store(ids, weeks), cube.ror(weeks)
    assert [new_ror[s] for s in ids] == [old_ror[s] for s in ids]
    assert cube.ror_between(weeks[0], week) == weekly_ror(start=weeks[0], end=week, store_ids=ids)
    assert cube.trends() == category_trends(store_ids=ids, week=week)
    assert improving_and_declining(store_ids=ids, end=week, cube=cube) == (
        improving_and_declining(store_ids=ids, end=week)
    )
    assert since_coaching(ids, categories, began, week, cube=cube) == since_coaching(
        ids, categories, began, week
    )
    assert cube.rows(weeks[0], week) == sorted(
        combined_scores(store_ids=ids, start=weeks[0], end=week)
    )
    codes = {c.id: c.code for c in categories}
    assert distribution(cube.rows(weeks[0], week), {0: CHAIN}, codes, chain=True) == (
        region_distribution(store_ids=ids, start=weeks[0], end=week, chain=True)
    )


def test_the_cube_refuses_weeks_it_did_not_read():
    regions = generated_chain()
    ids = [regions["a"][0].id]
    cube = score_cube(ids, weeks=4)
    with pytest.raises(ValueError):
        cube.series(week_axis(cube.week, 5))
    with pytest.raises(ValueError):
        cube.trends()  # read without the chain's benchmark
    assert score_cube([], weeks=4).week is None


def _score_reads(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return sum("scoring_categoryscore" in q["sql"] for q in queries)


def test_the_store_and_region_pages_read_the_scores_once_and_overviews_not_again():
    from tests.web.conftest import build_chain
    from tests.web.test_pages import login

    build_chain(stores=6)
    lead, admin, manager = Client(), Client(), Client()
    login(lead, "lead.north")
    login(admin, "admin")
    login(manager, "manager.s001")
    pages = [(lead, "/stores/S001/"), (lead, "/regions/north/"), (admin, "/regions/")]
    pages += [(manager, "/week/")]
    first = {url: _score_reads(client, url) for client, url in pages}
    assert all(reads >= 1 for reads in first.values())  # the first views read the scores
    # Later views: the store's, the region's and the chain's figures are kept until the scores
    # change.
    assert {url: _score_reads(client, url) for client, url in pages} == {
        "/stores/S001/": 0,
        "/regions/north/": 0,
        "/regions/": 0,
        "/week/": 1,
    }
