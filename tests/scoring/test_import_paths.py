"""The score import's two ways into its staging table, and its fast and careful row checks, must
agree: PostgreSQL stages through COPY, SQLite (and this test, on PostgreSQL) through executemany;
the hot loop takes the common row through dicts and caches and hands anything else to the check
that words the errors. Same rows in, same scores, counts and row errors out."""

import datetime as dt
import io
from random import Random

import pytest

from scoring import staging
from scoring.imports import _RowValidator, dating_window, import_scores
from scoring.models import CategoryScore
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 23)
CATEGORIES = [
    "brand_loyalty",
    "customer_satisfaction",
    "customer_advocacy",
    "team_engagement",
    "team_retention",
    "promotions_roi",
    "manager_empowerment",
    "community_engagement",
]
HEADER = "store_code,week,category,score,responses,source\n"
PATHS = ["executemany", pytest.param("copy", marks=pytest.mark.postgres)]


@pytest.fixture
def stores():
    return StoreFactory(code="S001"), StoreFactory(code="S002")


def rows() -> list[str]:
    """44 good rows: two stores, eight categories, weeks 45 to 47, some without responses."""
    out = []
    for store in ("S001", "S002"):
        for week in (45, 46, 47):
            for index, category in enumerate(CATEGORIES):
                if (store, week) == ("S002", 45) and index >= 4:
                    continue
                responses = "" if index % 3 == 0 else str(5 + index + week % 7)
                score = f"{40 + (index * 7 + week) % 55}.{week % 10}"
                source = "metric" if index == 5 else "import"
                out.append(f"{store},2026-W{week},{category},{score},{responses},{source}")
    return out


def run(data: str, path: str, monkeypatch, **kwargs):
    monkeypatch.setattr(staging, "use_copy", lambda: path == "copy")
    return import_scores(io.BytesIO(data.encode()), today=TODAY, **kwargs)


def table() -> list[tuple]:
    return list(
        CategoryScore.objects.order_by(
            "store__code", "week", "category__code", "source"
        ).values_list("store__code", "week", "category__code", "source", "score", "responses")
    )


def counts(result) -> tuple:
    return result.ok, result.rows, result.created, result.updated, result.unchanged


@pytest.mark.postgres
def test_copy_and_executemany_write_the_same_scores_and_counts(stores, monkeypatch, settings):
    settings.SCORING_IMPORT_BATCH = 7  # several batches, the last one short
    data = HEADER + "\n".join(rows()) + "\n"
    seen = {}
    for path in ("executemany", "copy"):
        CategoryScore.objects.all().delete()
        first = run(data, path, monkeypatch)
        written = table()
        again = run(data, path, monkeypatch)
        assert table() == written
        changed = run(data.replace(",46.", ",47."), path, monkeypatch)
        seen[path] = (counts(first), written, counts(again), counts(changed), table())
    assert seen["copy"] == seen["executemany"]
    assert seen["copy"][0] == (True, 44, 44, 0, 0)
    assert seen["copy"][2] == (True, 44, 0, 0, 44)
    assert seen["copy"][3] == (True, 44, 0, 2, 42)


@pytest.mark.parametrize("path", PATHS)
def test_a_bad_row_in_the_middle_aborts_everything_and_is_named(
    stores, path, monkeypatch, settings
):
    settings.SCORING_IMPORT_BATCH = 5  # earlier batches are staged before the bad row is read
    good = rows()
    assert run(HEADER + "\n".join(good[:3]) + "\n", path, monkeypatch).ok
    before = table()
    bad = [*good[:20], "S001,2026-W47,brand_loyalty,101,3,import", *good[20:]]
    bad[30] = bad[30].replace("S002", "S404")
    bad.append(good[0])

    result = run(HEADER + "\n".join(bad) + "\n", path, monkeypatch)

    assert not result.ok
    assert [str(error) for error in result.errors] == [
        "line 22: score '101' is outside 0-100",
        "line 32: unknown store 'S404'",
        "line 47: duplicate of line 2 (same store, week, category, source)",
    ]
    assert table() == before


@pytest.mark.parametrize("path", PATHS)
def test_odd_spellings_stage_the_same_values_as_plain_ones(stores, path, monkeypatch):
    plain = "S001,2026-W47,brand_loyalty,64,5,import\nS002,2026-11-09,team_retention,55.25,,\n"
    odd = (
        " 'S001 ,2026-11-18 , Brand_Loyalty ,64.0, 5 ,IMPORT\n'S002,2026w46,TEAM_RETENTION,55.3,,\n"
    )
    assert counts(run(HEADER + plain, path, monkeypatch)) == (True, 2, 2, 0, 0)
    written = table()

    assert counts(run(HEADER + odd, path, monkeypatch)) == (True, 2, 0, 0, 2)
    assert table() == written


@pytest.mark.parametrize("path", PATHS)
def test_every_problem_of_a_row_is_named_whichever_check_meets_it(stores, path, monkeypatch):
    data = HEADER + "S404,2026-W60,nope,Infinity,0,survey\nS001,2026-W47,brand_loyalty,1e1,2\n"

    result = run(data, path, monkeypatch)

    assert [str(error) for error in result.errors] == [
        "line 2: unknown store 'S404'; unknown category 'nope'; bad week: '2026-W60' is not a "
        "week of 2026; score 'Infinity' is outside 0-100; responses '0' is not a whole number "
        "above 0; unknown source 'survey' (one of import, metric, questionnaire)",
        "line 3: expected 6 fields, found 5",
    ]
    assert CategoryScore.objects.count() == 0


@pytest.mark.parametrize(
    "header",
    [
        "store_code,week,category,score,responses,source",
        "score,category,week,store_code",
        "source,store_code,responses,week,score,category",
    ],
)
def test_the_fast_check_answers_as_the_careful_one_on_every_spelling(stores, header):
    names = header.split(",")
    validator = _RowValidator(
        {name: index for index, name in enumerate(names)},
        dating_window(dt.date(2026, 11, 23), by=None, backdate_weeks=None),
        None,
    )
    careful, handed_on = validator.explain, []
    validator.explain = lambda fields: handed_on.append(fields) or careful(fields)
    fast = validator.fast()
    spellings = {
        "store_code": ["S001", " S001", "'S002", "S404", "s001", ""],
        "week": ["2026-W47", "2026-11-18", " 2026w46", "2026-W54", "2027-W01", "soon"],
        "category": [
            "brand_loyalty",
            "Brand_Loyalty",
            "'team_retention",
            "nope",
            " promotions_roi",
        ],
        "score": ["64", "64.0", "55.25", " 0", "100", "100.04", "100.05", "-0", "NaN", "x", "1_0"],
        "responses": ["", "5", " 7 ", "0", "-3", "2.5", "+4"],
        "source": ["", "import", "METRIC", " questionnaire", "survey"],
    }
    random = Random(47)
    for _ in range(3000):
        fields = [random.choice(spellings[name]) for name in names]
        if random.random() < 0.02:
            fields.append("extra")
        assert fast(fields) == careful(fields), fields
    assert 0 < len(handed_on) < 3000  # the fast check took some rows itself, handed on others
