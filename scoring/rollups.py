"""Region and chain figures added up in SQL: what an overview of thousands of stores draws,
without moving each store's history into Python. They agree with the cube's figures (the same
combined scores and ROR, `scoring.cube`) to the shown decimal."""

import datetime as dt
from collections.abc import Sequence

from django.db import connection

from .cube import as_date, combined_sql


def _rows(sql: str, params: dict) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def category_averages(
    store_ids: Sequence[int], *, start: dt.date, end: dt.date
) -> dict[tuple[int, dt.date], float]:
    """{(category id, week): the stores' average combined score}."""
    if not store_ids:
        return {}
    inner, params = combined_sql(start=start, end=end, store_ids=store_ids)
    sql = f"SELECT c.category_id, c.week, AVG(c.score) FROM ({inner}) c GROUP BY 1, 2"
    return {(cat, as_date(week)): float(avg) for cat, week, avg in _rows(sql, params)}
