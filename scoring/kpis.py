"""Weekly store KPIs in (sales, transactions, staff turnover): all or nothing, with row errors.

A KPI file has one row per store, week and KPI, so it is a few thousand rows where a score file can
be millions: rows are validated one at a time while reading and written in one bulk upsert.
"""

import codecs
import csv
import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import BinaryIO

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from .imports import ImportResult, RowError, Window, dating_window, too_far_back
from .models import ChangeKind, Kpi, KpiReading, ScoreChange, Store
from .weeks import parse_week, week_start

COLUMNS = ["store_code", "week", "kpi", "value"]


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
    lines = codecs.iterdecode(stream, "utf-8-sig")
    reader = csv.reader(lines)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except (StopIteration, UnicodeDecodeError, csv.Error):
        result.errors.append(RowError(1, f"expected a header row: {','.join(COLUMNS)}"))
        return result
    if header != COLUMNS:
        result.errors.append(RowError(1, f"expected the header {','.join(COLUMNS)}"))
        return result
    readings: dict[tuple[int, dt.date, str], KpiReading] = {}
    first_line: dict[tuple[int, dt.date, str], int] = {}
    try:
        for fields in reader:
            if not any(f.strip() for f in fields):
                continue
            result.rows += 1
            line = reader.line_num
            reading = _reading(fields, known, current)
            if isinstance(reading, str):
                result.errors.append(RowError(line, reading))
                continue
            key = (reading.store_id, reading.week, reading.kpi)
            if key in readings:
                result.errors.append(RowError(line, f"duplicate of line {first_line[key]}"))
                continue
            readings[key], first_line[key] = reading, line
    except (UnicodeDecodeError, csv.Error) as exc:
        result.errors.append(RowError(reader.line_num + 1, f"unreadable: {exc}"))
    if result.rows == 0 and result.ok:
        result.errors.append(RowError(2, "no data rows after the header"))
    if not result.ok:
        return result
    with transaction.atomic():
        existing = {
            (store, week, kpi): value
            for store, week, kpi, value in KpiReading.objects.filter(
                store_id__in={k[0] for k in readings}, week__in={k[1] for k in readings}
            ).values_list("store_id", "week", "kpi", "value")
        }
        for key, reading in readings.items():
            if key not in existing:
                result.created += 1
            elif existing[key] == reading.value:
                result.unchanged += 1
            else:
                result.updated += 1
        if not dry_run:
            KpiReading.objects.bulk_create(
                readings.values(),
                update_conflicts=True,
                unique_fields=["store", "week", "kpi"],
                update_fields=["value", "updated_at"],
                batch_size=2000,
            )
            ScoreChange.record(
                kind=ChangeKind.KPIS,
                by=by,
                via=via,
                store_ids={k[0] for k in readings},
                weeks=[min(k[1] for k in readings), max(k[1] for k in readings)],
                rows=result.created + result.updated,
                summary=result.summary(),
            )
    return result


def _reading(fields: list[str], stores: dict[str, int], current: Window) -> KpiReading | str:
    if len(fields) != len(COLUMNS):
        return f"expected {len(COLUMNS)} fields, found {len(fields)}"
    code, week_text, kpi, value_text = (f.strip() for f in fields)
    problems = []
    if code not in stores:
        problems.append(f"unknown store {code!r}")
    week = None
    try:
        week = parse_week(week_text)
        if week > current.current_week:
            problems.append(f"week {week_text!r} is in the future")
        elif current.oldest is not None and week < current.oldest:
            problems.append(too_far_back(week, current.weeks_back))
    except ValueError as exc:
        problems.append(f"bad week: {exc}")
    if kpi.lower() not in Kpi.values:
        problems.append(f"unknown kpi {kpi!r} (one of {', '.join(Kpi.values)})")
    value = None
    try:
        value = Decimal(value_text)
        if not value.is_finite() or value < 0 or value >= Decimal("1e12"):
            problems.append(f"value {value_text!r} must be a number from 0")
    except InvalidOperation:
        problems.append(f"value {value_text!r} is not a number")
    if problems:
        return "; ".join(problems)
    return KpiReading(
        store_id=stores[code], week=week, kpi=kpi.lower(), value=value.quantize(Decimal("0.01"))
    )
