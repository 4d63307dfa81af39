"""The chain overview for an admin: the regions side by side and the categories across all of
them, added up in SQL (`scoring.rollups`) and kept until the scores change; and the warm-up that
computes every overview again after a change, before anyone asks."""

import dataclasses
import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

from django.db.models import QuerySet

from scoring import rollups
from scoring.models import Category, Region, Store
from scoring.selectors import CHAIN, combined_scores, distribution, latest_scored_week, weekly_ror
from scoring.snapshots import Snapshot, kept_for_scores

from .pages import HISTORY_WEEKS, CategorySpread, region_snapshot
from .selectors import change, first_coaching_week, mean_or_none, week_axis


@dataclass
class RegionRow:
    region: Region
    stores: int
    ror: float | None
    ror_change: float | None


@dataclass
class ChainOverview:
    week: dt.date | None
    regions: list[RegionRow] = field(default_factory=list)
    distribution: list[CategorySpread] = field(default_factory=list)
    as_of: Snapshot | None = None


def chain_overview(regions: Sequence[Region], stores: QuerySet[Store]) -> ChainOverview:
    """The regions side by side and the categories across all of them, for an admin; added up
    in SQL (`scoring.rollups`) and kept until the scores change."""
    region_of = dict(stores.order_by("code").values_list("id", "region_id"))
    snapshot = chain_snapshot(regions, region_of)
    return dataclasses.replace(snapshot.value, as_of=snapshot)


def chain_snapshot(
    regions: Sequence[Region], region_of: dict[int, int], *, wait: bool = False
) -> Snapshot:
    parts = [sorted(region_of), [r.id for r in regions]]
    return kept_for_scores("chain", parts, partial(_chain_overview, regions, region_of), wait=wait)


def _chain_overview(regions: Sequence[Region], region_of: dict[int, int]) -> ChainOverview:
    ids = sorted(region_of)
    week = latest_scored_week(ids) if ids else None
    if week is None:
        return ChainOverview(None, [RegionRow(r, 0, None, None) for r in regions])
    weeks = week_axis(week, HISTORY_WEEKS)
    # Each store's ROR as the region pages have it (the cube's SQL and rounding), averaged in
    # the same order, so the chain and a region page show the same figure to the last digit.
    ror = {
        (p.store_id, p.week): p.ror for p in weekly_ror(start=weeks[-2], end=week, store_ids=ids)
    }
    counts = Counter(region_of.values())
    rows = []
    for region in regions:
        mine = [s for s, r in region_of.items() if r == region.id]
        series = [mean_or_none([ror.get((s, w)) for s in mine]) for w in weeks[-2:]]
        rows.append(RegionRow(region, counts[region.id], series[-1], change(series)))
    categories = list(Category.objects.filter(active=True))
    averages = rollups.category_averages(ids, start=weeks[0], end=week)
    latest = {
        row.category: row
        for row in distribution(
            combined_scores(store_ids=ids, start=week, end=week),
            {0: CHAIN},
            {c.id: c.code for c in categories},
            chain=True,
        )
    }
    spread = [
        CategorySpread(
            c,
            [round(averages[(c.id, w)], 1) if (c.id, w) in averages else None for w in weeks],
            latest.get(c.code),
        )
        for c in categories
    ]
    return ChainOverview(week, rows, spread)


def warm_overviews() -> int:
    """Each region dashboard's and the chain overview's figures for the newest scores, computed
    before anyone asks (`scoring.snapshots`): queued after a change of the scores and hourly.
    The parts match what the pages ask with: a region's stores by code, every region by name."""
    regions = list(Region.objects.order_by("name"))
    by_region: dict[int, list[int]] = defaultdict(list)
    for store_id, region_id in Store.objects.order_by("code").values_list("id", "region_id"):
        by_region[region_id].append(store_id)
    warmed = 0
    for region in regions:
        if ids := by_region.get(region.id):
            region_snapshot(ids, first_coaching_week(ids), wait=True)
            warmed += 1
    region_of = {s: r for r, ids in by_region.items() for s in ids}
    chain_snapshot(regions, region_of, wait=True)
    return warmed + 1
