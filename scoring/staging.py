"""What the score and KPI imports share: reading rows into a staging table in batches, writing
those batches (COPY on PostgreSQL), finding duplicate keys there in SQL, and the audit row of a
written import. Raw SQL here interpolates only table and column names given by the importers;
values are parameters or COPY data."""

from __future__ import annotations

import csv
import datetime as dt
import sys
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection
from django.utils import translation

from .models import ScoreChange

if TYPE_CHECKING:
    from .import_results import ImportResult

TOO_MANY_ROWS = (
    "more than {:,} rows: on SQLite an import through the web page or the API takes at most that "
    "many, as it holds the only write lock to its end; run `python manage.py import_scores FILE`, "
    "or use PostgreSQL"
)


def stage_rows(reader, result: ImportResult, *, validate, write, max_rows: int | None) -> bool:
    """Validate each data row of `reader` (`validate` returns the staged tuple or the reason the
    row is bad) and `write` the good ones in batches. False when there are more than `max_rows`:
    reading stops there. Shared by the score and KPI imports; this loop runs once a row, so what
    it needs is bound to locals first."""
    batch: list[tuple] = []
    append, size = batch.append, settings.SCORING_IMPORT_BATCH
    cap = sys.maxsize if max_rows is None else max_rows
    rows = 0
    while True:
        try:
            for fields in reader:
                if not (fields and fields[0].strip()) and not any(v.strip() for v in fields):
                    continue  # blank line
                rows += 1
                if rows > cap:
                    result.rows = rows
                    result.add_error(reader.line_num, TOO_MANY_ROWS.format(cap))
                    return False
                staged = validate(fields)
                if isinstance(staged, str):
                    result.add_error(reader.line_num, staged)
                    continue
                append((reader.line_num, *staged))
                if len(batch) >= size:
                    write(batch)
                    batch.clear()
            break
        except csv.Error as exc:
            result.add_error(reader.line_num, f"unreadable row ({exc})")
    result.rows = rows
    if batch:
        write(batch)
    if result.rows == 0 and result.ok:
        result.add_error(2, "no data rows after the header")
    return True


def use_copy() -> bool:
    """Whether staging goes through COPY: PostgreSQL's bulk load, with no statement per row."""
    return connection.vendor == "postgresql"


def staging_writer(table: str, columns: tuple[str, ...]) -> Callable[[list[tuple]], None]:
    """What `stage_rows` hands each batch of plain tuples to: a psycopg COPY on PostgreSQL,
    one executemany elsewhere (SQLite)."""
    names = ", ".join(columns)
    if use_copy():
        return partial(_copy_rows, f"COPY {table} ({names}) FROM STDIN")
    marks = ", ".join(["%s"] * len(columns))
    return partial(_insert_rows, f"INSERT INTO {table} ({names}) VALUES ({marks})")


def _copy_rows(statement: str, batch: list[tuple]) -> None:
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        write_row = copy.write_row
        for row in batch:
            write_row(row)


def _insert_rows(statement: str, batch: list[tuple]) -> None:
    with connection.cursor() as cursor:
        cursor.executemany(statement, batch)


def find_duplicates(result: ImportResult, *, table: str, key: str, what: str = "") -> None:
    """Every repeat of a key in a staging table counts; only the first IMPORT_MAX_ERRORS (by
    line) are fetched. `key` is the table's key columns, "a, b, c"."""
    same = " AND ".join(f"s.{column} = d.{column}" for column in key.split(", "))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.line, d.first_line, COUNT(*) OVER () FROM {table} s JOIN ("
            f"  SELECT {key}, MIN(line) AS first_line FROM {table}"
            f"  GROUP BY {key} HAVING COUNT(*) > 1"
            f") d ON {same} WHERE s.line <> d.first_line ORDER BY s.line LIMIT %s",
            [max(1, settings.IMPORT_MAX_ERRORS)],
        )
        kept = cursor.fetchall()
    for line, first, _ in kept:
        result.add_error(line, f"duplicate of line {first}{what}")
    result.error_count += kept[0][2] - len(kept) if kept else 0


def record_staged_change(result: ImportResult, *, table: str, kind: str, by, via: str) -> None:
    """The audit row of a written import: its stores and week range, from its staging table."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT store_id FROM {table}")
        store_ids = [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT MIN(week), MAX(week) FROM {table}")
        first, last = cursor.fetchone()
    ScoreChange.record(
        kind=kind,
        by=by,
        via=via,
        store_ids=store_ids,
        weeks=[dt.date.fromisoformat(str(w)) for w in (first, last) if w is not None],
        rows=result.created + result.updated,
        summary=_site_language_summary(result),
    )


def _site_language_summary(result) -> str:
    """The audit trail is read by whoever looks at it later: in the site's language, not the
    importer's."""
    with translation.override(settings.LANGUAGE_CODE):
        return result.summary()
