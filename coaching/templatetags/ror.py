"""Template helpers: charts (server-rendered SVG), trend arrows, bands, signed numbers."""

from django import template
from django.utils.safestring import SafeString

from scoring import charts
from scoring.weeks import week_label as _week_label

register = template.Library()

register.filter("band", charts.band)
register.filter("arrow", charts.arrow)
register.filter("arrow_label", charts.arrow_label)


@register.filter
def signed(value) -> str:
    return "" if value is None else f"{value:+.1f}"


@register.filter
def week_label(value) -> str:
    return _week_label(value) if hasattr(value, "isocalendar") else ""


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
        charts.BarRow(t.category.name, t.score, t.change, t.chain_median, charts.band(t.score))
        for t in trends
    ]
    return charts.score_bars(rows, uid=uid, title=title)


@register.simple_tag
def category_line(page, category, uid: str) -> SafeString:
    """A category's last weeks at one store, with its managers' goal targets drawn in."""
    targets = [
        charts.Target(f"Goal {p.target:g} by {p.goal.due_date:%d %b}", p.target, p.goal.due_date)
        for p in page.goals
        if p.goal.category_id == category.id
    ]
    return charts.line_chart(
        [charts.Series(category.name, page.series.get(category.id, []))],
        uid=uid,
        title=f"{category.name} at {page.store.name}, last {len(page.weeks)} weeks",
        weeks=page.weeks,
        targets=targets,
    )


@register.simple_tag
def ror_line(weeks, values, uid: str, title: str) -> SafeString:
    return charts.line_chart(
        [charts.Series("ROR", values)], uid=uid, title=title, weeks=weeks, y_min=None, y_max=None
    )


@register.filter
def status_label(status: str) -> str:
    return status.replace("_", " ").capitalize()
