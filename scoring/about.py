"""Reads for the "About your scores" page: the categories and their share of ROR, the colour
bands, and the chain's latest ROR figures, all from the data and the constants the pages use, so
the explanation cannot drift from what the charts draw."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext

from . import charts, maths
from .cube import trend_history_weeks
from .models import Category
from .selectors import latest_scored_week, weekly_ror


@dataclass(frozen=True)
class CategoryShare:
    label: str
    description: str
    share: float  # percent of the ROR score, over the active categories


@dataclass(frozen=True)
class ChainRor:
    week: dt.date
    stores: int
    median: float
    top_quartile: float


@dataclass(frozen=True)
class ScoreGuide:
    categories: list[CategoryShare]
    band_mid: int  # a score from here is in the middle band; below it, the low band
    band_high: int  # from here, the high band
    min_responses: int  # fewer responses than this in a week: low confidence
    noise_sigmas: float
    noise_weeks: int  # how many past weeks "usual week-to-week movement" looks at
    noise_floor: float
    chain: ChainRor | None  # None until enough stores have a ROR score

    @property
    def smallest_drop(self) -> float:
        """The smallest change ever called a real move (`maths.is_significant`), in points."""
        return self.noise_sigmas * self.noise_floor


def category_shares() -> list[CategoryShare]:
    """The active categories in display order with their weight as a share of ROR, in percent.
    ROR divides by the weights of the categories present, so the shares are weight / total."""
    categories = list(Category.objects.filter(active=True))
    total = sum((c.weight for c in categories), Decimal(0))
    return [
        CategoryShare(
            label=c.label,
            description=gettext(c.description) if c.description else "",
            share=float(100 * c.weight / total) if total else 0.0,
        )
        for c in categories
    ]


def chain_ror(week: dt.date | None) -> ChainRor | None:
    """The median and top-quarter ROR across every store in `week` (one query): what "good"
    looks like in this chain right now. Chain-wide figures only, no store is named."""
    if week is None:
        return None
    values = [point.ror for point in weekly_ror(start=week, end=week)]
    if len(values) < 4:  # a quarter of fewer than four stores says nothing
        return None
    benchmark = maths.Benchmark(values)
    return ChainRor(week, len(values), round(benchmark.median, 1), round(benchmark.top_quartile, 1))


def score_guide() -> ScoreGuide:
    """Everything the about page explains, in three queries whatever the chain's size."""
    return ScoreGuide(
        categories=category_shares(),
        band_mid=charts.BAND_MID,
        band_high=charts.BAND_HIGH,
        min_responses=settings.SCORING_MIN_RESPONSES,
        noise_sigmas=settings.SCORING_NOISE_SIGMAS,
        noise_weeks=trend_history_weeks(),
        noise_floor=settings.SCORING_NOISE_FLOOR,
        chain=chain_ror(latest_scored_week()),
    )
