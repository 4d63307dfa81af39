"""Line charts over weeks (a category's history, the region's ROR), drawn like the other charts in
`scoring.charts`: inline SVG with a title and a description in words, colours from CSS classes."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from .charts import FLUID_WIDTH, FONT, PALETTE, _empty, _num, _open, _polylines, _runs
from .numbers import signed


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float | None]  # aligned to the chart's weeks
    css: str = "series-0"


@dataclass(frozen=True)
class Target:
    label: str
    value: float
    due: dt.date | None = None


LEFT, RIGHT, TOP, BOTTOM = 34, 8, 12, 24
COLOURS = [PALETTE["series-0"], PALETTE["series-1"], PALETTE["series-2"]]


def _week_labels(weeks: Sequence[dt.date], x, height: int):
    """About four weeks along the axis as people say them ("8 Jun"), the last always among them."""
    every = max(1, len(weeks) // 4)
    labels = format_html_join(
        "",
        '<text x="{}" y="{}" font-size="{}" text-anchor="middle" fill="{}">{}</text>',
        (
            (f"{x(i):.1f}", height - 6, FONT, PALETTE["muted"], date_format(w, _("j M")))
            for i, w in enumerate(weeks)
            if (i % every == 0 and len(weeks) - 1 - i >= every / 2) or i == len(weeks) - 1
        ),
    )
    return labels


def _target_marks(targets: Sequence[Target], weeks: Sequence[dt.date], x, y, width: int):
    """Each goal target as a dashed line, with a dot at its due date when the axis reaches it."""
    target_marks = []
    for t in targets:
        ty = f"{y(t.value):.1f}"
        target_marks.append(
            format_html(
                '<line class="target" x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}" '
                'stroke-dasharray="5 4" stroke-width="1.5"/>'
                '<text x="{}" y="{}" font-size="{}" text-anchor="end" fill="{}">{}</text>',
                LEFT,
                width - RIGHT,
                ty,
                ty,
                PALETTE["target"],
                width - RIGHT,
                f"{y(t.value) - 4:.1f}",
                FONT,
                PALETTE["target"],
                t.label,
            )
        )
        if t.due is not None:
            offset = (t.due - weeks[0]).days / 7
            due_x = x(min(offset, len(weeks) - 1)) if offset >= 0 else None
            if due_x is not None:
                target_marks.append(
                    format_html(
                        '<circle class="target-due" cx="{}" cy="{}" r="3.5" fill="{}"/>',
                        f"{due_x:.1f}",
                        ty,
                        PALETTE["target"],
                    )
                )
    return mark_safe("".join(target_marks))  # noqa: S308 - format_html output


def line_chart(
    series: Sequence[Series],
    *,
    uid: str,
    title: str,
    weeks: Sequence[dt.date],
    y_min: float | None = 0,
    y_max: float | None = 100,
    targets: Sequence[Target] = (),
    width: int = FLUID_WIDTH,
    height: int = 190,
) -> SafeString:
    values = [v for s in series for v in s.values if v is not None]
    if not weeks or not values:
        return _empty(uid, title, width, height)
    reference = values + [t.value for t in targets]
    low = y_min if y_min is not None else min(reference) - 2
    high = y_max if y_max is not None else max(reference) + 2
    if high - low < 1:
        low, high = low - 1, high + 1
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM
    step = plot_w / max(len(weeks) - 1, 1)

    def x(i: float) -> float:
        return LEFT + i * step

    def y(v: float) -> float:
        return TOP + plot_h * (high - max(low, min(high, v))) / (high - low)

    grid = _grid([low + (high - low) * k / 4 for k in range(5)], y, width)
    labels = _week_labels(weeks, x, height)
    lines = mark_safe(  # noqa: S308 - format_html output
        "".join(
            _polylines(
                _runs([(x(i), None if v is None else y(v)) for i, v in enumerate(s.values)]),
                s.css,
                COLOURS[n % len(COLOURS)],
                2,
            )
            for n, s in enumerate(series)
        )
    )
    target_marks = _target_marks(targets, weeks, x, y, width)
    desc = " ".join(_describe(s) for s in series)
    if targets:
        desc += (
            " "
            + _("Targets:")
            + " "
            + "; ".join(
                f"{t.label}: {_num(t.value)}"
                + (" " + _("by %s") % date_format(t.due, "j M Y") if t.due else "")
                for t in targets
            )
        )
    return format_html(
        "{}{}{}{}{}</svg>",
        _open(uid, width, height, title, desc, "chart line"),
        grid,
        labels,
        lines,
        target_marks,
    )


def _grid(ticks: Sequence[float], y, width: int) -> SafeString:
    """Horizontal grid lines with their values on the left axis."""
    return format_html_join(
        "",
        '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}" stroke="#e3e6ec"/>'
        '<text x="{}" y="{}" font-size="{}" text-anchor="end" fill="{}">{}</text>',
        (
            (
                LEFT,
                width - RIGHT,
                f"{y(t):.1f}",
                f"{y(t):.1f}",
                LEFT - 4,
                f"{y(t) + 4:.1f}",
                FONT,
                PALETTE["muted"],
                _num(round(t)),
            )
            for t in ticks
        ),
    )


def _describe(s: Series) -> str:
    present = [v for v in s.values if v is not None]
    if not present:
        return _("%s: no data.") % s.label
    first, last = present[0], present[-1]
    return _("%(label)s: from %(first)s to %(last)s (%(change)s).") % {
        "label": s.label,
        "first": _num(first),
        "last": _num(last),
        "change": signed(last - first),
    }
