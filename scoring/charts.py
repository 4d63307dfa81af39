"""Charts as inline SVG, drawn on the server: no JavaScript, no chart library, no inline style.

Every chart carries a <title> and a <desc> that states its values in words, so a screen reader
(or a phone that never loads a script) gets the numbers too. Colours come from CSS classes, with
presentation attributes as defaults; the site's CSP forbids style attributes.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.formats import get_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .numbers import decimal, signed

FLAT = 0.05  # points: a change smaller than this is no change
# Colour bands of a 0-100 score (the about page quotes these): low below BAND_MID, mid from
# BAND_MID, high from BAND_HIGH.
BAND_MID = 60
BAND_HIGH = 75

# The charts' colours, the one list: app.css paints the same through the chart classes (CSS wins
# over these presentation attributes), and tests/web/test_phone_and_a11y.py checks both and their
# WCAG contrast: bars, lines and marks 3:1 against the card and the bar track, text 4.5:1.
PALETTE = {
    "card": "#ffffff",
    "track": "#eceef2",
    "band-high": "#2e7d55",
    "band-mid": "#a35f00",
    "band-low": "#c0392b",
    "band-none": "#6e7687",
    "series-0": "#1f5fbf",
    "series-1": "#7a4fb8",
    "series-2": "#1f8276",
    "target": "#b3261e",
    "tick": "#1d2433",  # the chain median, over a white halo so it shows on bar and track alike
    "text": "#1d2433",
    "muted": "#5b6475",
}
# SVG text scales with its chart: a fluid chart is drawn FLUID_WIDTH units wide, close to a
# 360 px phone's card, so FONT units stay 12 px or more there; app.css caps how far it grows.
FLUID_WIDTH = 320
FONT = 14


def band(score: float | None) -> str:
    if score is None:
        return "band-none"
    if score < BAND_MID:
        return "band-low"
    if score < BAND_HIGH:
        return "band-mid"
    return "band-high"


def arrow(change: float | None) -> str:
    if change is None:
        return ""
    if change > FLAT:
        return "▲"
    if change < -FLAT:
        return "▼"
    return "►"


def arrow_label(change: float | None) -> str:
    if change is None:
        return _("no previous week")
    if abs(change) <= FLAT:
        return _("no change")
    points = decimal(abs(change))
    return (
        _("up %(points)s") % {"points": points}
        if change > 0
        else _("down %(points)s") % {"points": points}
    )


def _num(value: float) -> str:
    """One decimal at most, in the reader's locale ("67.5", "67,5", "70")."""
    text = f"{value:.1f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    return text.replace(".", get_format("DECIMAL_SEPARATOR"))


def _open(
    uid: str, width: int, height: int, title: str, desc: str, css: str, fluid: bool = True
) -> SafeString:
    """The root element; fluid charts scale to their box, small ones keep their size."""
    uid = slugify(uid) or "chart"
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="{}" viewBox="0 0 {} {}" width="{}" '
        'height="{}" role="img" aria-labelledby="{}-title {}-desc" preserveAspectRatio="xMinYMin '
        'meet"><title id="{}-title">{}</title><desc id="{}-desc">{}</desc>',
        css,
        width,
        height,
        "100%" if fluid else width,
        height,
        uid,
        uid,
        uid,
        title,
        uid,
        desc,
    )


def _empty(uid: str, title: str, width: int, height: int) -> SafeString:
    head = _open(uid, width, height, title, _("No data yet."), "chart empty", fluid=False)
    return format_html(
        '{}<text x="4" y="{}" font-size="{}" fill="{}">{}</text></svg>',
        head,
        min(height - 4, 18),
        FONT,
        PALETTE["muted"],
        _("No data yet."),
    )


def _runs(points: Sequence[tuple[float, float | None]]) -> list[list[tuple[float, float]]]:
    """Consecutive points with a value: a gap (None) breaks the line."""
    runs: list[list[tuple[float, float]]] = [[]]
    for x, y in points:
        if y is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((x, y))
    return [run for run in runs if run]


def _polylines(runs, css: str, stroke: str, width: float) -> SafeString:
    parts = []
    for run in runs:
        if len(run) == 1:
            x, y = run[0]
            parts.append(
                format_html(
                    '<circle class="{}" cx="{}" cy="{}" r="2" fill="{}"/>',
                    css,
                    f"{x:.1f}",
                    f"{y:.1f}",
                    stroke,
                )
            )
        else:
            coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
            parts.append(
                format_html(
                    '<polyline class="{}" points="{}" fill="none" stroke="{}" stroke-width="{}" '
                    'stroke-linejoin="round"/>',
                    css,
                    coords,
                    stroke,
                    width,
                )
            )
    return mark_safe("".join(parts))  # noqa: S308 - every part was built by format_html


def sparkline(
    values: Sequence[float | None], *, uid: str, label: str, width: int = 120, height: int = 28
) -> SafeString:
    present = [v for v in values if v is not None]
    title = ngettext(
        "%(label)s, last %(count)d week", "%(label)s, last %(count)d weeks", len(values)
    ) % {"label": label, "count": len(values)}
    if not present:
        return _empty(uid, title, width, height)
    low, high = min(present), max(present)
    pad = max((high - low) * 0.1, 1.0)
    low, high = low - pad, high + pad
    step = (width - 6) / max(len(values) - 1, 1)

    def y(v: float) -> float:
        return 3 + (height - 6) * (high - v) / (high - low)

    points = [(3 + i * step, None if v is None else y(v)) for i, v in enumerate(values)]
    last_x, last_y = next((x, yy) for x, yy in reversed(points) if yy is not None)
    desc = ngettext(
        "%(label)s: last %(count)d week, from %(first)s to %(last)s",
        "%(label)s: last %(count)d weeks, from %(first)s to %(last)s",
        len(values),
    ) % {"label": label, "count": len(values), "first": _num(present[0]), "last": _num(present[-1])}
    return format_html(
        '{}{}<circle class="spark-last" cx="{}" cy="{}" r="2.5" fill="{}"/></svg>',
        _open(uid, width, height, title, desc, "chart spark", fluid=False),
        _polylines(_runs(points), "spark series-0", PALETTE["series-0"], 1.5),
        f"{last_x:.1f}",
        f"{last_y:.1f}",
        PALETTE["series-0"],
    )


@dataclass(frozen=True)
class BarRow:
    label: str
    value: float | None
    change: float | None = None
    marker: float | None = None  # a reference on the same scale: the chain median, a target
    band: str = ""


# A row: the label and the value on one line, the bar under them (narrow enough for a phone).
BAR_ROW, BAR_TOP, BAR_H = 42, 20, 12


def score_bars(
    rows: Sequence[BarRow], *, uid: str, title: str, width: int = FLUID_WIDTH
) -> SafeString:
    """Horizontal 0-100 bars, one per row, with the value, a trend arrow and an optional tick."""
    if not rows:
        return _empty(uid, title, width, 40)
    track = width - 4
    height = BAR_ROW * len(rows)
    desc = "; ".join(
        f"{r.label}: {_('no score') if r.value is None else _num(r.value)}"
        + ("" if r.change is None else f", {arrow_label(r.change)}")
        + ("" if r.marker is None else " " + _("(reference %s)") % _num(r.marker))
        for r in rows
    )
    parts = []
    for n, r in enumerate(rows):
        top = n * BAR_ROW
        line = top + FONT
        value = "\u2013" if r.value is None else _num(r.value)
        change = "" if r.change is None else f" {arrow(r.change)} {signed(r.change)}"
        bar = 0.0 if r.value is None else track * max(0.0, min(100.0, r.value)) / 100
        parts.append(
            format_html(
                '<text x="0" y="{}" font-size="{}" fill="{}">{}</text>'
                '<text x="{}" y="{}" font-size="{}" fill="{}" text-anchor="end">{}{}</text>'
                '<rect class="bar-track" x="2" y="{}" width="{}" height="{}" fill="{}"/>'
                '<rect class="bar {}" x="2" y="{}" width="{}" height="{}" fill="{}"/>',
                line,
                FONT,
                PALETTE["text"],
                r.label,
                width,
                line,
                FONT,
                PALETTE["text"],
                value,
                change,
                top + BAR_TOP,
                track,
                BAR_H,
                PALETTE["track"],
                r.band,
                top + BAR_TOP,
                f"{bar:.1f}",
                BAR_H,
                PALETTE.get(r.band, PALETTE["series-0"]),
            )
        )
        if r.marker is not None:
            x = f"{2 + track * max(0.0, min(100.0, r.marker)) / 100:.1f}"
            ends = (top + BAR_TOP - 4, top + BAR_TOP + BAR_H + 4)
            parts.append(
                format_html(
                    '<line class="bar-halo" x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}" '
                    'stroke-width="5"/>'
                    '<line class="bar-marker" x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}" '
                    'stroke-width="2"/>',
                    x,
                    x,
                    *ends,
                    PALETTE["card"],
                    x,
                    x,
                    *ends,
                    PALETTE["tick"],
                )
            )
    return format_html(
        "{}{}</svg>",
        _open(uid, width, height, title, desc, "chart bars"),
        mark_safe("".join(parts)),  # noqa: S308 - format_html output
    )
