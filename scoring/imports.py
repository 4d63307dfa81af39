"""Score files in: streamed, validated row by row, written all-or-nothing.

Rows are checked as they stream past and land in a temporary staging table in batches (COPY on
PostgreSQL, executemany on SQLite), so memory stays flat however long the file is. Duplicates within
the file, and which rows are new, changed or unchanged, are found in SQL over that table.
Only a file with no bad row reaches `scoring_categoryscore`, in one INSERT ... ON CONFLICT, inside
the same transaction; any error rolls everything back.
"""

import codecs
import csv
import datetime as dt
import functools
from collections.abc import Callable, Iterator
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import BinaryIO

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .import_results import ImportResult, Window, dating_window, row_cap, too_far_back
from .models import Category, ChangeKind, Source, Store
from .staging import find_duplicates, record_staged_change, stage_rows, staging_writer
from .weeks import parse_week, week_start

REQUIRED_COLUMNS = ("store_code", "week", "category", "score")
OPTIONAL_COLUMNS = ("responses", "source")
STAGING = "scoring_import_staging"
STAGED = ("line", "store_id", "category_id", "week", "source", "score", "responses")
ONE_PLACE = Decimal("0.1")


def import_scores(
    stream: BinaryIO,
    *,
    dry_run: bool = False,
    today: dt.date | None = None,
    stores: QuerySet[Store] | None = None,
    by=None,
    via: str = "command",
    backdate_weeks: int | None = None,
) -> ImportResult:
    """Import a score CSV (bytes). Nothing is written unless every row is good and not dry_run.

    `stores` limits the rows to those stores (an API caller's own); any other store code is
    reported as unknown, so a file cannot probe which stores exist. `by` (the user, None for a
    system write) and `via` are recorded in a `ScoreChange`; weeks outside `dating_window` are
    bad rows."""
    result = ImportResult(dry_run=dry_run)
    current_week = week_start(today or timezone.localdate())
    window = dating_window(current_week, by=by, backdate_weeks=backdate_weeks)
    with transaction.atomic():
        _create_staging()  # inside the transaction, so an exception's rollback removes it too
        if _stage_rows(stream, result, window, stores, row_cap(by)):
            find_duplicates(
                result,
                table=STAGING,
                key=_KEY,
                # Translators: follows "duplicate of line N".
                what=_(" (same store, week, category, source)"),
            )
        if result.ok:
            _count_changes(result)
            if not dry_run:
                _upsert_from_staging()
                record_staged_change(result, table=STAGING, kind=ChangeKind.SCORES, by=by, via=via)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")
        if dry_run or not result.ok:
            transaction.set_rollback(True)
    return result


def decoded_lines(stream: BinaryIO, result: ImportResult) -> Iterator[str]:
    """Decode line by line so a bad byte is reported on its own line and parsing goes on. A line
    over IMPORT_MAX_LINE_BYTES is an error, skipped in bounded reads; csv sees an empty line."""
    limit = settings.IMPORT_MAX_LINE_BYTES
    readline = stream.readline
    number = 0
    while raw := readline(limit + 2):
        number += 1
        if number == 1:
            raw = raw.removeprefix(codecs.BOM_UTF8)
        if len(raw) > limit and len(raw.rstrip(b"\r\n")) > limit:
            while raw and not raw.endswith(b"\n"):
                raw = readline(65536)
            # Translators: English keeps one form for every count; give each of your language's.
            message = ngettext("longer than %(limit)s bytes", "longer than %(limit)s bytes", limit)
            result.add_error(number, message % {"limit": limit})
            yield "\n"
            continue
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            # Translators: the decoder's reason, in English ("invalid start byte").
            result.add_error(number, _("not valid UTF-8 (%(reason)s)") % {"reason": exc.reason})
            yield raw.decode("utf-8", errors="replace")


def _stage_rows(stream: BinaryIO, result: ImportResult, window: Window, stores, max_rows) -> bool:
    """Validate and stage every row; False when the header is bad or rows exceed `max_rows`."""
    reader = csv.reader(decoded_lines(stream, result))
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        if isinstance(exc, csv.Error):
            # Translators: the CSV reader's reason, in English.
            message = _("unreadable header (%(reason)s)") % {"reason": exc}
        else:
            # Translators: followed by the column names, which stay as they are.
            message = _("the file is empty; expected a header row %(columns)s") % {
                "columns": _expected()
            }
        result.add_error(1, message)
        return False
    if (columns := _read_header(header, result)) is None:
        return False

    return stage_rows(
        reader,
        result,
        validate=_RowValidator(columns, window, stores).fast(),
        write=staging_writer(STAGING, STAGED),
        max_rows=max_rows,
    )


def _expected() -> str:
    return f"({','.join(REQUIRED_COLUMNS)}[,{','.join(OPTIONAL_COLUMNS)}])"


def _read_header(header: list[str], result: ImportResult) -> dict[str, int] | None:
    names = [name.strip().lower() for name in header]
    problems = []
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        problems.append(
            ngettext(
                # Translators: English keeps one form for every count; give each of your language's.
                "missing column(s): %(columns)s",
                "missing column(s): %(columns)s",
                len(missing),
            )
            % {"columns": ", ".join(missing)}
        )
    unknown = [n for n in names if n not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        problems.append(
            ngettext(
                # Translators: English keeps one form for every count; give each of your language's.
                "unknown column(s): %(columns)s",
                "unknown column(s): %(columns)s",
                len(unknown),
            )
            % {"columns": ", ".join(repr(n) for n in unknown)}
        )
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        problems.append(
            ngettext(
                # Translators: English keeps one form for every count; give each of your language's.
                "repeated column(s): %(columns)s",
                "repeated column(s): %(columns)s",
                len(repeated),
            )
            % {"columns": ", ".join(repeated)}
        )
    if problems:
        # Translators: follows the problems with the header; the column names stay as they are.
        expected = _("expected %(columns)s") % {"columns": _expected()}
        result.add_error(1, "; ".join([*problems, expected]))
        return None
    return {name: index for index, name in enumerate(names)}


class _RowValidator:
    """Checks one row at a time; lookups and adapters are bound once, since a file may have
    millions of rows and the per-row cost is what the import benchmark measures. `fast` takes the
    common row through dicts and bounded caches; `explain` alone words errors (and takes any row
    `fast` is unsure of), so both accept exactly the same rows with the same values."""

    def __init__(self, columns: dict[str, int], window: Window, stores) -> None:
        self.columns = columns
        self.window = window
        scope = Store.objects.all() if stores is None else stores
        self.stores = dict(scope.values_list("code", "id"))
        self.categories = {c.lower(): pk for c, pk in Category.objects.values_list("code", "id")}
        self.sources = frozenset(Source.values)
        self.one_of = ", ".join(sorted(self.sources))
        self.adapt_week = connection.ops.adapt_datefield_value
        # Files repeat a handful of spellings of weeks, scores and response counts: each is parsed
        # once (bounded caches, so memory stays flat however many spellings a file has).
        self.week = functools.lru_cache(maxsize=1024)(self._week)
        self.score = functools.lru_cache(maxsize=4096)(_score)
        self.responses = functools.lru_cache(maxsize=1024)(_responses)

    def _week(self, text: str) -> tuple[object, str | None]:
        text = text.strip()
        try:
            week = parse_week(text)
        except ValueError as exc:
            # Translators: the reason says what is wrong with the week given.
            return None, _("bad week: %(reason)s") % {"reason": exc}
        if week > self.window.current_week:
            return None, _("week %(week)s is in the future") % {"week": repr(text)}
        if self.window.oldest is not None and week < self.window.oldest:
            return None, too_far_back(week, self.window.weeks_back)
        return self.adapt_week(week), None

    def fast(self) -> Callable[[list[str]], tuple | str]:
        """The per-row check as a closure over locals: the import's hot loop."""
        width, at, explain = len(self.columns), self.columns, self.explain
        store_at, week_at, category_at, score_at = (at[name] for name in REQUIRED_COLUMNS)
        responses_at, source_at = at.get("responses"), at.get("source")
        # Only spellings `explain` would read as themselves; any other goes to `explain`.
        stores = {code: pk for code, pk in self.stores.items() if code == _code(code)}
        categories = {code: pk for code, pk in self.categories.items() if code == _code(code)}
        sources = {"": str(Source.IMPORT)} | {source: source for source in self.sources}
        week_of, score_of, responses_of = self.week, self.score, self.responses

        def check(fields: list[str]) -> tuple | str:
            if len(fields) != width:
                return explain(fields)
            store = stores.get(fields[store_at])
            category = categories.get(fields[category_at])
            week, problem = week_of(fields[week_at])
            score = score_of(fields[score_at])
            responses = None if responses_at is None else responses_of(fields[responses_at])
            source = "import" if source_at is None else sources.get(fields[source_at])
            if (
                store is None
                or category is None
                or problem
                or score is None
                or responses == _BAD_RESPONSES
                or source is None
            ):
                return explain(fields)
            return (store, category, week, source, score, responses)

        return check

    def explain(self, fields: list[str]) -> tuple | str:
        """The staged tuple for a good row, or every reason the row is bad."""
        if len(fields) != len(self.columns):
            return ngettext(
                # Translators: English keeps one form for every count; give each of your language's.
                "expected %(expected)s fields, found %(found)s",
                "expected %(expected)s fields, found %(found)s",
                len(self.columns),
            ) % {"expected": len(self.columns), "found": len(fields)}
        value = {name: fields[index].strip() for name, index in self.columns.items()}
        for name in ("store_code", "category"):  # no code starts with ': see csv_safety
            value[name] = _code(value[name])
        problems = []

        store_id = self.stores.get(value["store_code"])
        if store_id is None:
            problems.append(_("unknown store %(store)s") % {"store": repr(value["store_code"])})
        category_id = self.categories.get(value["category"].lower())
        if category_id is None:
            problems.append(
                _("unknown category %(category)s") % {"category": repr(value["category"])}
            )
        week, week_problem = self.week(value["week"])
        if week_problem:
            problems.append(week_problem)
        score = self.score(value["score"])
        if score is None:
            problems.append(_score_problem(value["score"]))
        responses = self.responses(value.get("responses") or "")
        if responses == _BAD_RESPONSES:
            problems.append(
                _("responses %(responses)s is not a whole number above 0")
                % {"responses": repr(value["responses"])}
            )
        source = (value.get("source") or Source.IMPORT).lower()
        if source not in self.sources:
            problems.append(
                # Translators: the sources' codes stay as they are.
                _("unknown source %(source)s (one of %(choices)s)")
                % {"source": repr(value["source"]), "choices": self.one_of}
            )
        if problems:
            return "; ".join(problems)
        return (store_id, category_id, week, source, score, responses)


_BAD_RESPONSES = 0  # a count is at least 1, so 0 marks one that is not


def _code(text: str) -> str:
    """A store or category code as written: spaces around it and an export's leading ' go."""
    return text.strip().removeprefix("'")


def _score(text: str) -> str | None:
    """The score as staged, one decimal place rounded half up, as text (what the drivers send
    for a Decimal); None when it is not a number from 0 to 100."""
    try:
        score = Decimal(text.strip())
    except (InvalidOperation, ValueError):
        return None
    if not score.is_finite() or not 0 <= score <= 100:
        return None
    return str(score.quantize(ONE_PLACE, rounding=ROUND_HALF_UP))


def _score_problem(text: str) -> str:
    try:
        Decimal(text)
    except (InvalidOperation, ValueError):
        return _("score %(score)s is not a number") % {"score": repr(text)}
    return _("score %(score)s is outside 0-100") % {"score": repr(text)}


def _responses(text: str) -> int | None:
    """None for a blank count, `_BAD_RESPONSES` for one that is not a whole number above 0."""
    if not (text := text.strip()):
        return None
    try:
        responses = int(text)
    except ValueError:
        return _BAD_RESPONSES
    return responses if responses >= 1 else _BAD_RESPONSES


def _create_staging() -> None:
    on_commit = " ON COMMIT DROP" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {STAGING} (line INTEGER NOT NULL, store_id BIGINT NOT NULL, "
            "category_id BIGINT NOT NULL, week DATE NOT NULL, source VARCHAR(16) NOT NULL, "
            f"score NUMERIC(4, 1) NOT NULL, responses INTEGER){on_commit}"
        )


_KEY = "store_id, category_id, week, source"
_JOIN = (
    "s.store_id = cs.store_id AND s.category_id = cs.category_id "
    "AND s.week = cs.week AND s.source = cs.source"
)


def _count_changes(result: ImportResult) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN s.score = cs.score AND "
            "(s.responses = cs.responses OR (s.responses IS NULL AND cs.responses IS NULL)) "
            f"THEN 1 ELSE 0 END), 0) FROM {STAGING} s JOIN scoring_categoryscore cs ON {_JOIN}"
        )
        existing, unchanged = cursor.fetchone()
    result.created = result.rows - existing  # no bad row: every row was staged
    result.unchanged = unchanged
    result.updated = existing - unchanged


def _upsert_from_staging() -> None:
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        # "WHERE true" keeps SQLite from reading ON CONFLICT as part of the SELECT's join.
        cursor.execute(
            "INSERT INTO scoring_categoryscore "
            "(store_id, category_id, week, source, score, responses, updated_at) "
            f"SELECT store_id, category_id, week, source, score, responses, %s FROM {STAGING} "
            f"WHERE true ON CONFLICT ({_KEY}) DO UPDATE SET score = excluded.score, "
            "responses = excluded.responses, updated_at = excluded.updated_at "
            "WHERE scoring_categoryscore.score <> excluded.score "
            "OR scoring_categoryscore.responses IS DISTINCT FROM excluded.responses",
            [now],
        )
