"""What an import found: its row errors and counts, and the weeks a person may date scores in
(shared by score and KPI imports, `scoring.imports` and `scoring.kpis`)."""

import bisect
import datetime as dt
from dataclasses import dataclass, field
from operator import attrgetter

from django.conf import settings
from django.db import connection
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .weeks import week_label, weeks_back


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return _("line %(line)s: %(message)s") % {"line": self.line, "message": self.message}


@dataclass
class ImportResult:
    """`errors` keeps the first IMPORT_MAX_ERRORS bad rows (by line); `error_count` counts all."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    dry_run: bool = False
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0

    @property
    def ok(self) -> bool:
        return not self.error_count

    def add_error(self, line: int, message: str) -> None:
        """Count a bad row; keep the first IMPORT_MAX_ERRORS by line (`errors` stays in order)."""
        self.error_count += 1
        if len(self.errors) >= max(1, settings.IMPORT_MAX_ERRORS):
            if line >= self.errors[-1].line:
                return
            self.errors.pop()
        bisect.insort(self.errors, RowError(line, message), key=attrgetter("line"))

    def summary(self) -> str:
        counts = {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
        }
        if self.dry_run:
            return (
                ngettext(
                    # Translators: the form follows the number of rows read; English keeps one
                    # form for every count, give each of your language's.
                    "%(rows)s rows read: %(created)s would be created, %(updated)s would be "
                    "updated, %(unchanged)s unchanged.",
                    "%(rows)s rows read: %(created)s would be created, %(updated)s would be "
                    "updated, %(unchanged)s unchanged.",
                    self.rows,
                )
                % counts
            )
        return (
            ngettext(
                # Translators: the form follows the number of rows read; English keeps one
                # form for every count, give each of your language's.
                "%(rows)s rows read: %(created)s were created, %(updated)s were updated, "
                "%(unchanged)s unchanged.",
                "%(rows)s rows read: %(created)s were created, %(updated)s were updated, "
                "%(unchanged)s unchanged.",
                self.rows,
            )
            % counts
        )


@dataclass(frozen=True)
class Window:
    """Weeks a write may name: none after `current_week` or before `oldest` (`weeks_back` back)."""

    current_week: dt.date
    oldest: dt.date | None
    weeks_back: int


def dating_window(current_week: dt.date, *, by, backdate_weeks: int | None) -> Window:
    """How far back a write may be dated. `backdate_weeks` None: SCORE_BACKDATE_WEEKS for a person
    (`by`: web, API), no limit for a system write (`by=None`); a number overrides, for anyone."""
    if backdate_weeks is None:
        if by is None:
            return Window(current_week, None, 0)
        backdate_weeks = settings.SCORE_BACKDATE_WEEKS
    return Window(current_week, weeks_back(current_week, backdate_weeks), backdate_weeks)


def too_far_back(week: dt.date, weeks: int) -> str:
    return ngettext(
        # Translators: English keeps one form for every count; give each of your language's.
        "week %(week)s is more than %(count)s weeks back",
        "week %(week)s is more than %(count)s weeks back",
        weeks,
    ) % {"week": week_label(week), "count": weeks}


def row_cap(by) -> int | None:
    """The row cap of a person's (web, API) import on SQLite, whose one write lock it holds."""
    return (
        None if by is None or connection.vendor != "sqlite" else settings.SQLITE_WEB_IMPORT_MAX_ROWS
    )
