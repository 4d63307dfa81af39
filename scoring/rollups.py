"""Region and chain figures added up in SQL: what an overview of thousands of stores draws,
without moving each store's history into Python. They agree with the cube's figures (the same
combined scores and ROR, `scoring.cube`) to the shown decimal."""

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from django.db import connection

from .cube import ROR_SQL, as_date, combined_sql


def _rows(sql: str, params: dict) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def ror_by_region(
    store_ids: Sequence[int], *, start: dt.date, end: dt.date
) -> dict[int, dict[dt.date, tuple[float, int]]]:
    """{region id: {week: (average of the stores' ROR, stores)}}, each store's ROR rounded to
    one place first, as pages show and average it."""
    if not store_ids:
        return {}
    inner, params = combined_sql(start=start, end=end, store_ids=store_ids)
    sql = f"""
        SELECT r.region_id, r.week, AVG(r.ror), COUNT(*) FROM (
            SELECT c.store_id, c.region_id, c.week, ROUND(CAST({ROR_SQL} AS NUMERIC), 1) AS ror
            FROM ({inner}) c JOIN scoring_category cat ON cat.id = c.category_id
            GROUP BY c.store_id, c.region_id, c.week
        ) r GROUP BY r.region_id, r.week
    """
    result: dict[int, dict[dt.date, tuple[float, int]]] = defaultdict(dict)
    for region_id, week, average, stores in _rows(sql, params):
        result[region_id][as_date(week)] = (float(average), stores)
    return dict(result)


def category_averages(
    store_ids: Sequence[int], *, start: dt.date, end: dt.date
) -> dict[tuple[int, dt.date], float]:
    """{(category id, week): the stores' average combined score}."""
    if not store_ids:
        return {}
    inner, params = combined_sql(start=start, end=end, store_ids=store_ids)
    sql = f"SELECT c.category_id, c.week, AVG(c.score) FROM ({inner}) c GROUP BY 1, 2"
    return {(cat, as_date(week)): float(avg) for cat, week, avg in _rows(sql, params)}
