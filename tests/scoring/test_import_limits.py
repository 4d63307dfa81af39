"""Hostile input costs nothing (issue 15, uploads): bounded lines, files and error lists, the
SQLite row cap for web and API imports, store codes that fit in a URL, and re-importing the
formula-guarded cells of our own CSV exports."""

import datetime as dt
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from scoring.csv_safety import safe_row
from scoring.imports import import_scores
from scoring.kpis import import_kpis
from scoring.models import CategoryScore, KpiReading, Role, Store
from scoring.weeks import week_label, week_start, weeks_back
from tests.factories import RegionFactory, StoreFactory, score, user_with_role

pytestmark = pytest.mark.django_db
THIS_WEEK = week_start(dt.date.today())
WEEK = week_label(weeks_back(THIS_WEEK, 1))
HEADER = "store_code,week,category,score\n"
sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="the row cap is SQLite's (one writer)"
)


@pytest.fixture
def store():
    return StoreFactory(region=RegionFactory(code="north"), code="S001")


@pytest.fixture
def lead(store):
    return user_with_role(Role.REGIONAL_LEAD, regions=[store.region])


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def web(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def good_rows(count: int, code: str = "S001") -> str:
    categories = ["customer_advocacy", "brand_loyalty", "team_retention", "community_engagement"]
    weeks = [week_label(weeks_back(THIS_WEEK, w)) for w in range(1, 8)]
    rows = [f"{code},{w},{c},50" for w in weeks for c in categories]
    assert count <= len(rows)
    return "".join(row + "\n" for row in rows[:count])


class ReadSpy(io.BytesIO):
    """Records the longest piece of the file handed out by one read."""

    longest = 0

    def readline(self, size=-1):
        line = super().readline(size)
        self.longest = max(self.longest, len(line))
        return line

    def __iter__(self):
        raise AssertionError("the importer must read in bounded pieces, not whole lines")


# --- 1. bounded lines, files and error lists -----------------------------------------------------


@pytest.mark.parametrize("importer", ["scores", "kpis"])
def test_a_line_longer_than_the_limit_is_a_row_error_read_in_bounded_pieces(store, importer):
    long_line = "S001," + "x" * 1_000_000 + "\n"
    if importer == "scores":
        data = HEADER + good_rows(1) + long_line + good_rows(1)
        stream = ReadSpy(data.encode())
        result = import_scores(stream)
    else:
        data = f"store_code,week,kpi,value\nS001,{WEEK},sales,1\n{long_line}"
        stream = ReadSpy(data.encode())
        result = import_kpis(stream)
    assert str(result.errors[0]) == "line 3: longer than 4096 bytes"
    assert stream.longest <= 65536
    assert CategoryScore.objects.count() == KpiReading.objects.count() == 0


def test_the_line_limit_is_a_setting_and_lines_up_to_it_pass(store, settings):
    settings.IMPORT_MAX_LINE_BYTES = 40
    row = good_rows(1).rstrip("\n")
    fits = HEADER + row.ljust(40) + "\r\n"
    assert import_scores(io.BytesIO(fits.encode())).ok
    too_long = HEADER + row.ljust(41) + "\n"
    result = import_scores(io.BytesIO(too_long.encode()))
    assert [str(e) for e in result.errors] == ["line 2: longer than 40 bytes"]


def test_only_the_first_errors_are_kept_and_the_rest_counted(store, settings):
    settings.IMPORT_MAX_ERRORS = 3
    rows = good_rows(2) + f"NOPE,{WEEK},brand_loyalty,50\n" * 5 + good_rows(2) * 4
    result = import_scores(io.BytesIO((HEADER + rows).encode()))
    # 5 unknown stores (lines 4-8) and 8 duplicates of lines 2-3 (lines 9-16)
    assert result.error_count == 13
    assert [e.line for e in result.errors] == [4, 5, 6]


def test_duplicates_are_kept_in_line_order_before_later_row_errors(store, settings):
    settings.IMPORT_MAX_ERRORS = 2
    rows = good_rows(1) * 3 + "S001,nope,brand_loyalty,50\n"
    result = import_scores(io.BytesIO((HEADER + rows).encode()))
    assert [str(e) for e in result.errors] == [
        "line 3: duplicate of line 2 (same store, week, category, source)",
        "line 4: duplicate of line 2 (same store, week, category, source)",
    ]
    assert result.error_count == 3


def test_kpi_errors_are_capped_too(store, settings):
    settings.IMPORT_MAX_ERRORS = 2
    rows = "".join(f"S001,{WEEK},sales,-{n}\n" for n in range(1, 6)) + f"S001,{WEEK},sales,1\n" * 3
    result = import_kpis(io.BytesIO(("store_code,week,kpi,value\n" + rows).encode()))
    assert (len(result.errors), result.error_count) == (2, 7)


def test_the_api_and_the_page_list_the_first_errors_and_count_the_rest(store, lead, settings):
    settings.IMPORT_MAX_ERRORS = 2
    data = HEADER + f"NOPE,{WEEK},brand_loyalty,50\n" * 12_347
    upload = SimpleUploadedFile("s.csv", data.encode())
    body = api(lead).post("/api/v1/scores/import/", {"file": upload}).json()["error"]
    assert body["error_count"] == 12_347
    assert body["fields"]["rows"][:2] == [
        "line 2: unknown store 'NOPE'",
        "line 3: unknown store 'NOPE'",
    ]
    assert body["fields"]["rows"][2:] == ["... and 12,345 more rows with errors"]
    page = web(lead).post("/import/", {"file": SimpleUploadedFile("s.csv", data.encode())})
    assert page.status_code == 400
    assert "... and 12,345 more rows with errors" in page.content.decode()
    assert page.content.decode().count("unknown store") == 2


def test_a_good_api_import_reports_no_errors_and_an_error_count(store, lead):
    upload = SimpleUploadedFile("s.csv", (HEADER + good_rows(1)).encode())
    response = api(lead).post("/api/v1/scores/import/", {"file": upload})
    assert response.status_code == 201
    assert (response.json()["errors"], response.json()["error_count"]) == ([], 0)


def test_uploads_over_the_limit_are_refused_on_the_page_and_the_api(store, lead, settings):
    settings.IMPORT_MAX_UPLOAD_MB = 1
    big = (HEADER + good_rows(1) * 30_000).encode()
    assert len(big) > 1024 * 1024
    page = web(lead).post("/import/", {"file": SimpleUploadedFile("s.csv", big)})
    assert page.status_code == 400 and "files over 1 MB" in page.content.decode()
    for url, name in (("/api/v1/scores/import/", "s.csv"), ("/api/v1/kpis/import/", "k.csv")):
        response = api(lead).post(url, {"file": SimpleUploadedFile(name, big)})
        assert response.status_code == 413, response.content
        assert response.json()["error"]["code"] == "request_too_large"
        assert "1 MB" in response.json()["error"]["detail"]
    row = {"store_code": "S001", "week": WEEK, "category": "brand_loyalty", "score": 5}
    settings.IMPORT_MAX_UPLOAD_MB = 0
    response = api(lead).post("/api/v1/scores/import/", {"rows": [row]}, format="json")
    assert response.status_code == 413
    assert CategoryScore.objects.count() == 0


def test_a_file_without_a_declared_length_is_still_measured(store, lead, settings, monkeypatch):
    settings.IMPORT_MAX_UPLOAD_MB = 1
    from scoring.api import importing

    monkeypatch.setattr(importing.ImportPermission, "has_permission", lambda *a: True)
    big = (HEADER + good_rows(1) * 30_000).encode()
    response = api(lead).post("/api/v1/scores/import/", {"file": SimpleUploadedFile("s.csv", big)})
    assert response.status_code == 413


# --- 2. SQLite: one writer, so web and API imports are capped -----------------------------------


@sqlite_only
def test_on_sqlite_web_and_api_imports_over_the_row_cap_are_refused(store, lead, settings):
    settings.SQLITE_WEB_IMPORT_MAX_ROWS = 3
    data = (HEADER + good_rows(4)).encode()
    response = api(lead).post("/api/v1/scores/import/", {"file": SimpleUploadedFile("s.csv", data)})
    assert response.status_code == 400
    (message,) = response.json()["error"]["fields"]["rows"]
    assert message.startswith("line 5: more than 3 rows")
    assert "python manage.py import_scores FILE" in message and "PostgreSQL" in message
    page = web(lead).post("/import/", {"file": SimpleUploadedFile("s.csv", data)})
    assert page.status_code == 400 and "manage.py import_scores" in page.content.decode()
    kpis = "store_code,week,kpi,value\n" + "".join(
        f"S001,{w},{k},1\n"
        for w in (WEEK, week_label(THIS_WEEK))
        for k in ("sales", "transactions")
    )
    refused = import_kpis(io.BytesIO(kpis.encode()), by=lead)
    assert str(refused.errors[0]).startswith("line 5: more than 3 rows")
    assert CategoryScore.objects.count() == 0
    # The command (a system write) holds the lock as long as it needs; so does a file at the cap.
    assert import_scores(io.BytesIO(data)).created == 4
    assert (
        api(lead)
        .post(
            "/api/v1/scores/import/",
            {"file": SimpleUploadedFile("s.csv", (HEADER + good_rows(3)).encode())},
        )
        .status_code
        == 201
    )


@pytest.mark.postgres
def test_postgresql_has_no_row_cap(store, lead, settings):
    settings.SQLITE_WEB_IMPORT_MAX_ROWS = 3
    data = (HEADER + good_rows(4)).encode()
    response = api(lead).post("/api/v1/scores/import/", {"file": SimpleUploadedFile("s.csv", data)})
    assert response.status_code == 201, response.json()


# --- 3. store codes fit in a URL -----------------------------------------------------------------


@pytest.mark.parametrize("code", ["S001", "T0001", "OWN", "LON-01", "B00012", "a.b_c", "9" * 40])
def test_store_codes_in_use_are_valid(code):
    Store(code=code, name="x", region=RegionFactory()).full_clean()


@pytest.mark.parametrize("code", ["A/B", "=HYPERLINK", "-S1", "'S1", "S 1", "", "S1\n", "x" * 41])
def test_store_codes_that_break_urls_or_spreadsheets_are_refused(code):
    with pytest.raises(ValidationError) as raised:
        Store(code=code, name="x", region=RegionFactory()).full_clean()
    assert "code" in raised.value.message_dict


# --- 4. our exports' formula guard reads back ----------------------------------------------------


def test_a_quoted_store_code_and_category_are_read_as_exported(store):
    data = HEADER + f"'S001,{WEEK},'brand_loyalty,50\n"
    result = import_scores(io.BytesIO(data.encode()))
    assert result.ok, result.errors
    assert CategoryScore.objects.get().store == store
    guarded = safe_row(["-S1", WEEK, "=brand", "50"])
    assert guarded[:3] == ["'-S1", WEEK, "'=brand"]
    result = import_scores(io.BytesIO((HEADER + ",".join(guarded) + "\n").encode()))
    assert [str(e) for e in result.errors] == [
        "line 2: unknown store '-S1'; unknown category '=brand'"
    ]
    kpis = f"store_code,week,kpi,value\n'S001,{WEEK},sales,10\n"
    assert import_kpis(io.BytesIO(kpis.encode())).created == 1


def test_an_exported_region_history_reimports_unchanged(store, lead):
    for weeks in (1, 2):
        score(store, "brand_loyalty", weeks_back(THIS_WEEK, weeks), 61.5, responses=None)
    exported = web(lead).get("/regions/north/history.csv")
    assert exported.status_code == 200
    content = b"".join(exported.streaming_content) if exported.streaming else exported.content
    result = import_scores(io.BytesIO(content))
    assert result.ok, result.errors
    assert (result.rows, result.created, result.updated, result.unchanged) == (2, 0, 0, 2)
