"""ISO weeks. A week is stored as its Monday; people and files name it `2026-W48`."""

import datetime as dt
import re

from django.utils.formats import date_format
from django.utils.translation import gettext

_ISO_WEEK = re.compile(r"^(\d{4})-?W(\d{2})$", re.IGNORECASE)


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def parse_week(text: str) -> dt.date:
    """`2026-W48` or any `YYYY-MM-DD` inside the week -> that week's Monday. Raises ValueError."""
    text = text.strip()
    match = _ISO_WEEK.match(text)
    if match:
        year, week = int(match[1]), int(match[2])
        try:
            return dt.date.fromisocalendar(year, week, 1)
        except ValueError:
            raise ValueError(f"{text!r} is not a week of {year}") from None
    try:
        return week_start(dt.date.fromisoformat(text))
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO week (2026-W48) or a date (YYYY-MM-DD)") from None


def week_label(monday: dt.date) -> str:
    """The ISO code ("2026-W48"), for exports, the API and prompts."""
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def week_of(monday: dt.date, *, today: dt.date | None = None) -> str:
    """The week as people say it, in the active language: "week of 23 Nov", "semaine du
    23 nov.", with the year when it is not this year's."""
    today = today or dt.date.today()
    # Translators: a day and a month as Django's date format ("j M"), e.g. "j N" for "23 nov.".
    form = gettext("j M") if monday.year == today.year else gettext("j M Y")
    return gettext("week of %(day)s") % {"day": date_format(monday, form)}


def weeks_back(monday: dt.date, count: int) -> dt.date:
    return monday - dt.timedelta(weeks=count)
