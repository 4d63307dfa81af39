"""Template helpers: charts (server-rendered SVG), trend arrows, bands, signed numbers."""

from django import template
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext, gettext_lazy, ngettext
from django.utils.translation import gettext as _

from scoring import charts, line_charts, numbers
from scoring.weeks import week_label as _iso_week
from scoring.weeks import week_of

register = template.Library()

register.filter("band", charts.band)
register.filter("arrow", charts.arrow)
register.filter("arrow_label", charts.arrow_label)


@register.filter
def signed(value) -> str:
    return "" if value is None else numbers.signed(value)


@register.filter
def week_label(value) -> str:
    """The week as people say it ("week of 23 Nov"), in the reader's language."""
    return week_of(value) if hasattr(value, "isocalendar") else ""


@register.filter
def iso_week(value) -> str:
    return _iso_week(value) if hasattr(value, "isocalendar") else ""


@register.filter
def trend_class(change) -> str:
    if change is None or abs(change) < 0.05:
        return "flat"
    return "up" if change > 0 else "down"


@register.filter
def percent(part, whole) -> str:
    return "\u2013" if not whole else f"{100 * part / whole:.0f}%"


@register.simple_tag
def sparkline(values, uid: str, label: str) -> SafeString:
    return charts.sparkline(values, uid=uid, label=label)


@register.simple_tag
def category_bars(trends, uid: str, title: str) -> SafeString:
    """One bar per category: the score, its change, the chain median as the tick."""
    rows = [
        charts.BarRow(t.category.label, t.score, t.change, t.chain_median, charts.band(t.score))
        for t in trends
    ]
    return charts.score_bars(rows, uid=uid, title=title)


@register.simple_tag
def bars_legend() -> SafeString:
    """Under the category bars: what their colours and the tick mean, in words."""
    items = [
        ("band-high", _("%(score)s and above") % {"score": charts.BAND_HIGH}),
        (
            "band-mid",
            _("%(low)s to %(high)s") % {"low": charts.BAND_MID, "high": charts.BAND_HIGH - 1},
        ),
        ("band-low", _("below %(score)s") % {"score": charts.BAND_MID}),
        ("tick", _("Chain median")),
    ]
    return format_html(
        '<ul class="legend">{}</ul>',
        format_html_join(
            "", '<li><span class="swatch {}" aria-hidden="true"></span>{}</li>', items
        ),
    )


@register.simple_tag
def category_line(page, category, uid: str) -> SafeString:
    """A category's last weeks at one store, with its managers' goal targets drawn in."""
    targets = [
        line_charts.Target(
            _("Goal %(target)s by %(due)s")
            % {
                "target": numbers.decimal(p.target),
                "due": date_format(p.goal.due_date, gettext("j M")),
            },
            p.target,
            p.goal.due_date,
        )
        for p in page.goals
        if p.goal.category_id == category.id
    ]
    return line_charts.line_chart(
        [line_charts.Series(category.label, page.series.get(category.id, []))],
        uid=uid,
        title=ngettext(
            "%(category)s at %(store)s, last %(count)d week",
            "%(category)s at %(store)s, last %(count)d weeks",
            len(page.weeks),
        )
        % {"category": category.label, "store": page.store.name, "count": len(page.weeks)},
        weeks=page.weeks,
        targets=targets,
    )


@register.simple_tag
def ror_line(weeks, values, uid: str, title: str) -> SafeString:
    return line_charts.line_chart(
        [line_charts.Series("ROR", values)],
        uid=uid,
        title=title,
        weeks=weeks,
        y_min=None,
        y_max=None,
    )


# A goal's status as people read it (`coaching.goals.selectors.GoalProgress.status`).
STATUS_LABELS = {
    "on_track": gettext_lazy("On track"),
    "at_risk": gettext_lazy("At risk"),
    "off_track": gettext_lazy("Off track"),
    "no_data": gettext_lazy("No data"),
}


@register.filter
def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status.replace("_", " ").capitalize()))
