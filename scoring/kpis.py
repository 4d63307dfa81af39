"""Weekly store KPIs in (sales, transactions, staff turnover): all or nothing, with row errors.

Read like a score file (`scoring.imports`): lines of bounded length, the first IMPORT_MAX_ERRORS
row errors kept and the rest counted, a row cap for a person's import on SQLite. Good rows land in
a temporary staging table in batches, so memory stays flat however long the file is; duplicates,
the created/updated counts and the upsert are SQL over that table, in one transaction.
"""

import csv
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import BinaryIO

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .import_results import ImportResult, Window, dating_window, row_cap, too_far_back
from .imports import decoded_lines
from .models import ChangeKind, Kpi, KpiReading, Store
from .staging import find_duplicates, record_staged_change, stage_rows
from .weeks import parse_week, week_start

COLUMNS = ["store_code", "week", "kpi", "value"]
STAGING = "scoring_kpi_staging"
_KEY = "store_id, week, kpi"


def import_kpis(
    stream: BinaryIO,
    *,
    dry_run: bool = False,
    stores: QuerySet[Store] | None = None,
    by=None,
    via: str = "command",
    backdate_weeks: int | None = None,
) -> ImportResult:
    """`by` and `via` are recorded in a `ScoreChange`; the back-dating window is the score
    import's (`scoring.imports.dating_window`)."""
    result = ImportResult(dry_run=dry_run)
    known = dict((Store.objects.all() if stores is None else stores).values_list("code", "id"))
    current = dating_window(week_start(timezone.localdate()), by=by, backdate_weeks=backdate_weeks)
    reader = csv.reader(decoded_lines(stream, result))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except (StopIteration, csv.Error):
        # Translators: followed by the column names, which stay as they are.
        message = _("expected a header row: %(columns)s") % {"columns": ",".join(COLUMNS)}
        result.add_error(1, message)
        return result
    if header != COLUMNS:
        # Translators: followed by the column names, which stay as they are.
        result.add_error(1, _("expected the header %(columns)s") % {"columns": ",".join(COLUMNS)})
        return result
    with transaction.atomic():
        _create_staging()  # inside the transaction, so an exception's rollback removes it too
        validate = partial(_reading, stores=known, current=current)
        if stage_rows(
            reader, result, validate=validate, write=_write_staging, max_rows=row_cap(by)
        ):
            find_duplicates(result, table=STAGING, key=_KEY)
        if result.ok:
            _count_changes(result)
            if not dry_run:
                _upsert_and_record(result, by=by, via=via)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")
        if dry_run or not result.ok:
            transaction.set_rollback(True)
    return result


def _reading(fields: list[str], stores: dict[str, int], current: Window) -> tuple | str:
    """The staged (store_id, week, kpi, value) of a good row, or the reason the row is bad."""
    if len(fields) != len(COLUMNS):
        return ngettext(
            # Translators: English keeps one form for every count; give each of your language's.
            "expected %(expected)s fields, found %(found)s",
            "expected %(expected)s fields, found %(found)s",
            len(COLUMNS),
        ) % {"expected": len(COLUMNS), "found": len(fields)}
    code, week_text, kpi, value_text = (f.strip() for f in fields)
    code = code.removeprefix("'")  # our exports' formula guard (csv_safety), or a text marker
    problems = []
    if code not in stores:
        problems.append(_("unknown store %(store)s") % {"store": repr(code)})
    week = None
    try:
        week = parse_week(week_text)
        if week > current.current_week:
            problems.append(_("week %(week)s is in the future") % {"week": repr(week_text)})
        elif current.oldest is not None and week < current.oldest:
            problems.append(too_far_back(week, current.weeks_back))
    except ValueError as exc:
        # Translators: the reason says what is wrong with the week given.
        problems.append(_("bad week: %(reason)s") % {"reason": exc})
    if kpi.lower() not in Kpi.values:
        problems.append(
            # Translators: the KPIs' codes stay as they are.
            _("unknown kpi %(kpi)s (one of %(choices)s)")
            % {"kpi": repr(kpi), "choices": ", ".join(Kpi.values)}
        )
    value = None
    try:
        value = Decimal(value_text)
        if not value.is_finite() or value < 0 or value >= Decimal("1e12"):
            problems.append(
                _("value %(value)s must be a number from 0") % {"value": repr(value_text)}
            )
    except InvalidOperation:
        problems.append(_("value %(value)s is not a number") % {"value": repr(value_text)})
    if problems:
        return "; ".join(problems)
    ops = connection.ops
    value = ops.adapt_decimalfield_value(value.quantize(Decimal("0.01")), 14, 2)
    return (stores[code], ops.adapt_datefield_value(week), kpi.lower(), value)


def _create_staging() -> None:
    on_commit = " ON COMMIT DROP" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {STAGING} (line INTEGER NOT NULL, store_id BIGINT NOT NULL, "
            f"week DATE NOT NULL, kpi VARCHAR(20) NOT NULL, value NUMERIC(14, 2) NOT NULL)"
            f"{on_commit}"
        )


def _write_staging(batch: list[tuple]) -> None:
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {STAGING} (line, store_id, week, kpi, value) VALUES (%s, %s, %s, %s, %s)",
            batch,
        )


def _count_changes(result: ImportResult) -> None:
    table = KpiReading._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN s.value = k.value THEN 1 ELSE 0 END), 0) "
            f"FROM {STAGING} s JOIN {table} k "
            "ON s.store_id = k.store_id AND s.week = k.week AND s.kpi = k.kpi"
        )
        existing, unchanged = cursor.fetchone()
    result.created = result.rows - existing  # no bad row: every row was staged
    result.unchanged = unchanged
    result.updated = existing - unchanged


def _upsert_and_record(result: ImportResult, *, by, via: str) -> None:
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        # "WHERE true" keeps SQLite from reading ON CONFLICT as part of the SELECT's join.
        cursor.execute(
            f"INSERT INTO {KpiReading._meta.db_table} (store_id, week, kpi, value, updated_at) "
            f"SELECT store_id, week, kpi, value, %s FROM {STAGING} WHERE true "
            f"ON CONFLICT ({_KEY}) DO UPDATE SET value = excluded.value, "
            "updated_at = excluded.updated_at",
            [now],
        )
    record_staged_change(result, table=STAGING, kind=ChangeKind.KPIS, by=by, via=via)
