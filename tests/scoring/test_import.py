import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from scoring.imports import import_scores
from scoring.models import CategoryScore
from tests.factories import MONDAY, StoreFactory

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 23)


@pytest.fixture
def stores():
    return StoreFactory(code="S001"), StoreFactory(code="S002")


def run(text: str | bytes, **kwargs):
    data = text.encode() if isinstance(text, str) else text
    return import_scores(io.BytesIO(data), today=TODAY, **kwargs)


GOOD = """store_code,week,category,score,responses,source
S001,2026-W47,customer_advocacy,72.5,30,questionnaire
S001,2026-11-18,brand_loyalty,64,,import
S002,2026-W46,team_retention,55.25,12,metric
"""


def test_good_file_is_imported_with_iso_weeks_dates_and_defaults(stores):
    result = run(GOOD)

    assert result.ok, result.errors
    assert (result.rows, result.created, result.updated, result.unchanged) == (3, 3, 0, 0)
    loyalty = CategoryScore.objects.get(category__code="brand_loyalty")
    assert loyalty.week == MONDAY  # 2026-11-18 is the Wednesday of W47
    assert loyalty.responses is None
    assert loyalty.source == "import"
    retention = CategoryScore.objects.get(category__code="team_retention")
    assert retention.score == Decimal("55.3")  # one decimal place, half up
    assert retention.week == dt.date(2026, 11, 9)


def test_reimporting_the_same_file_changes_nothing(stores):
    run(GOOD)
    before = list(CategoryScore.objects.values_list("id", "score", "responses", "updated_at"))

    again = run(GOOD)

    assert again.ok
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert list(CategoryScore.objects.values_list("id", "score", "responses", "updated_at")) == (
        before
    )


def test_import_updates_changed_rows_in_place(stores):
    run(GOOD)
    result = run(GOOD.replace("72.5,30", "75,31"))
    assert (result.created, result.updated, result.unchanged) == (0, 1, 2)
    assert CategoryScore.objects.get(category__code="customer_advocacy").score == Decimal("75.0")
    assert CategoryScore.objects.count() == 3


def test_utf8_bom_and_crlf_and_optional_columns_are_accepted(stores):
    data = "\ufeffstore_code,week,category,score\r\nS001,2026-W47,community_engagement,81\r\n"
    result = run(data.encode("utf-8"))
    assert result.ok, result.errors
    assert CategoryScore.objects.get().score == 81


def test_dry_run_validates_and_counts_but_writes_nothing(stores):
    result = run(GOOD, dry_run=True)
    assert result.ok and result.created == 3
    assert "would be created" in result.summary()
    assert CategoryScore.objects.count() == 0


BAD_ROWS = [
    ("S999,2026-W47,brand_loyalty,50", "unknown store 'S999'"),
    ("S001,2026-W47,happiness,50", "unknown category 'happiness'"),
    ("S001,2026-W47,brand_loyalty,100.5", "score '100.5' is outside 0-100"),
    ("S001,2026-W47,brand_loyalty,-1", "score '-1' is outside 0-100"),
    ("S001,2026-W47,brand_loyalty,lots", "score 'lots' is not a number"),
    ("S001,2026-W47,brand_loyalty,NaN", "score 'NaN' is outside 0-100"),
    ("S001,2026-W54,brand_loyalty,50", "bad week: '2026-W54' is not a week of 2026"),
    ("S001,last week,brand_loyalty,50", "bad week: 'last week' is not an ISO week"),
    ("S001,2026-02-30,brand_loyalty,50", "bad week: '2026-02-30' is not an ISO week"),
    ("S001,2027-W10,brand_loyalty,50", "week '2027-W10' is in the future"),
    ("S001,2026-W47,brand_loyalty,50,0", "responses '0' is not a whole number above 0"),
    ("S001,2026-W47,brand_loyalty,50,5,survey", "unknown source 'survey'"),
    ("S001,2026-W47,brand_loyalty", "expected 6 fields, found 3"),
]


@pytest.mark.parametrize(("row", "reason"), BAD_ROWS)
def test_each_bad_row_is_reported_and_nothing_is_written(stores, row, reason):
    fields = row.split(",")
    row = ",".join(fields + [""] * (6 - len(fields))) if len(fields) >= 4 else row
    header = "store_code,week,category,score,responses,source"
    data = f"{header}\nS001,2026-W47,team_engagement,60,,\n{row}\n"

    result = run(data)

    assert not result.ok
    assert len(result.errors) == 1
    assert str(result.errors[0]).startswith(f"line 3: {reason}")
    assert CategoryScore.objects.count() == 0


def test_every_bad_row_is_listed_in_one_pass(stores):
    data = "store_code,week,category,score\n" + "\n".join(
        [
            "S001,2026-W47,brand_loyalty,50",
            "S404,2026-W47,brand_loyalty,50",
            "S001,2026-W47,brand_loyalty,500",
            "S002,2026-W47,brand_loyalty,50",
            "S001,2026-W47,brand_loyalty,51",
        ]
    )
    result = run(data)
    assert [str(e) for e in result.errors] == [
        "line 3: unknown store 'S404'",
        "line 4: score '500' is outside 0-100",
        "line 6: duplicate of line 2 (same store, week, category, source)",
    ]
    assert CategoryScore.objects.count() == 0


def test_a_bad_file_leaves_existing_scores_untouched(stores):
    run(GOOD)
    result = run(GOOD.replace("64,,import", "64,,import\nS001,2026-W47,nope,1,,"))
    assert not result.ok
    assert CategoryScore.objects.get(category__code="customer_advocacy").score == Decimal("72.5")
    assert CategoryScore.objects.count() == 3


def test_same_key_from_two_sources_is_not_a_duplicate(stores):
    data = (
        "store_code,week,category,score,responses,source\n"
        "S001,2026-W47,customer_advocacy,70,10,questionnaire\n"
        "S001,2026-W47,customer_advocacy,80,40,metric\n"
    )
    assert run(data).ok
    assert CategoryScore.objects.count() == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "line 1: the file is empty"),
        (
            b"store_code,week,category\nS001,2026-W47,brand_loyalty\n",
            "line 1: missing column(s): score",
        ),
        (b"store_code,week,category,score,colour\n", "line 1: unknown column(s): 'colour'"),
        (b"store_code,week,category,score,score\n", "line 1: repeated column(s): score"),
        (b"store_code,week,category,score\n", "line 2: no data rows after the header"),
        (
            b"store_code,week,category,score\nS001,2026-W47,brand_loyalty,5\xff0\n",
            "line 2: not valid UTF-8",
        ),
        (
            "store_code,week,category,score\nS001,2026-W47,brand_loyalty,50\n".encode("utf-16"),
            "line 1:",
        ),
    ],
)
def test_file_level_errors(stores, data, message):
    result = run(data)
    assert not result.ok
    assert str(result.errors[0]).startswith(message)
    assert CategoryScore.objects.count() == 0


def test_command_prints_row_errors_and_exits_1(stores, tmp_path, capsys):
    path = tmp_path / "scores.csv"
    path.write_text(
        "store_code,week,category,score\nS001,2026-W47,nope,50\nS9,2026-W47,team_engagement,1\n"
    )

    with pytest.raises(CommandError) as raised:
        call_command("import_scores", str(path))

    assert raised.value.returncode == 1
    assert "2 bad row(s)" in str(raised.value)
    err = capsys.readouterr().err
    assert "line 2: unknown category 'nope'" in err
    assert "line 3: unknown store 'S9'" in err
    assert CategoryScore.objects.count() == 0


def test_command_reports_a_summary(stores, tmp_path):
    path = tmp_path / "scores.csv"
    path.write_text("store_code,week,category,score\nS001,2026-W40,brand_loyalty,50\n")
    out = io.StringIO()
    call_command("import_scores", str(path), stdout=out)
    assert "1 rows read: 1 were created, 0 were updated, 0 unchanged." in out.getvalue()


def test_command_refuses_a_missing_file():
    with pytest.raises(CommandError, match="cannot open"):
        call_command("import_scores", "/nonexistent/scores.csv")


def test_batches_smaller_than_the_file_still_import_all_or_nothing(stores, settings):
    settings.SCORING_IMPORT_BATCH = 2
    rows = [f"S001,2026-W{w:02d},brand_loyalty,{w}" for w in range(1, 8)]
    assert run("store_code,week,category,score\n" + "\n".join(rows)).created == 7
    bad = [*rows, "S001,2026-W01,brand_loyalty,1"]
    result = run("store_code,week,category,score\n" + "\n".join(bad))
    assert [str(e) for e in result.errors] == [
        "line 9: duplicate of line 2 (same store, week, category, source)"
    ]
