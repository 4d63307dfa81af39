"""Hostile input costs nothing: bodies too deep or too big are a 4xx in the API's error shape, a
store code with "/" does not take pages down, and no CSV we write holds a live formula."""

import csv
import datetime as dt
import io

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from coaching.tracking import views as tracking_views
from coaching.tracking.impact import Estimate
from scoring.csv_safety import safe_cell, safe_row, unquote_cell
from scoring.models import Role
from scoring.offline import Computed
from tests.factories import MONDAY, RegionFactory, StoreFactory, score, user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def api() -> APIClient:
    store = StoreFactory()
    client = APIClient()
    user = user_with_role(Role.STORE_MANAGER, stores=[store])
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def _assert_error_shape(response, status: int) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["status"] == status
    return error


@pytest.mark.parametrize("url", ["/api/v1/goals/", "/api/v1/auth/token/"])
def test_deeply_nested_json_is_a_400_in_the_error_shape(api, url):
    body = "[" * 100_000 + "]" * 100_000
    response = api.post(url, body, content_type="application/json")
    error = _assert_error_shape(response, 400)
    assert "nested too deeply" in error["detail"]


def test_shallow_nesting_still_reads_as_the_usual_validation_error(api):
    response = api.post("/api/v1/goals/", {"intent": [[["x"]]]}, format="json")
    assert response.status_code == 400
    assert "fields" in response.json()["error"]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"intent": "' + "x" * 4096 + '"}', "application/json"),
        ("intent=" + "x" * 4096, "application/x-www-form-urlencoded"),
    ],
)
def test_an_oversize_body_is_a_413_in_the_error_shape(api, settings, body, content_type):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = api.post("/api/v1/goals/", body, content_type=content_type)
    error = _assert_error_shape(response, 413)
    assert error["code"] == "request_too_large"
    assert "1024 bytes" in error["detail"]


def test_too_many_form_fields_is_a_4xx_in_the_error_shape(api, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    body = "&".join(f"f{n}=1" for n in range(50))
    response = api.post("/api/v1/goals/", body, content_type="application/x-www-form-urlencoded")
    assert _assert_error_shape(response, 400)["code"] == "too_many_fields"


def test_a_store_code_with_a_slash_keeps_its_pages_up(client):
    region = RegionFactory(code="north")
    store = StoreFactory(region=region, code="A/B")
    StoreFactory(region=region, code="C1")
    score(store, "brand_loyalty", MONDAY, 61.5)
    client.force_login(user_with_role(Role.REGIONAL_LEAD, regions=[region]))
    dashboard = client.get("/regions/north/")
    assert dashboard.status_code == 200
    assert 'href="/stores/A/B/"' in dashboard.content.decode()
    page = client.get("/stores/A/B/")
    assert page.status_code == 200
    assert "A/B" in page.content.decode()


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://x.io","open")', '\'=HYPERLINK("http://x.io","open")'),
        ("+cmd", "'+cmd"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("S001", "S001"),
        ("-3.2", "-3.2"),
        ("+4", "+4"),
        (-3.2, -3.2),
        (0, 0),
        (None, None),
    ],
)
def test_safe_cell_quotes_formula_text_and_leaves_numbers(value, written):
    assert safe_cell(value) == written
    if isinstance(written, str):
        assert unquote_cell(written) == value


def test_safe_row_and_unquote_leave_plain_text_alone():
    assert safe_row(["'quoted", "a=b", 1.5]) == ["'quoted", "a=b", 1.5]
    assert unquote_cell("'quoted") == "'quoted"


@pytest.fixture
def formula_store():
    region = RegionFactory(code="north")
    store = StoreFactory(region=region, code='=HYPERLINK("http://x.io","open")')
    score(store, "brand_loyalty", MONDAY, 61.5)
    score(store, "brand_loyalty", MONDAY - dt.timedelta(weeks=1), 60.0)
    return region


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_the_region_history_export_neutralises_formulas(client, formula_store):
    client.force_login(user_with_role(Role.REGIONAL_LEAD, regions=[formula_store]))
    rows = _cells(client.get("/regions/north/history.csv").content.decode())
    assert rows[0] == ["store_code", "category", "week", "score"]
    assert {row[0] for row in rows[1:]} == {'\'=HYPERLINK("http://x.io","open")'}
    assert {row[3] for row in rows[1:]} == {"61.5", "60.0"}


def test_export_history_neutralises_formulas(formula_store):
    out = io.StringIO()
    call_command("export_history", "-", region="north", stdout=out)
    rows = _cells(out.getvalue())
    assert rows[1][0] == '\'=HYPERLINK("http://x.io","open")'
    assert all(not cell.startswith(("=", "+", "@")) for row in rows for cell in row)


def test_the_impact_export_neutralises_text_and_keeps_negative_numbers(
    client, formula_store, monkeypatch
):
    estimate = Estimate(-3.2, -5.1, -1.3, 0.4, 12, 3, "=1+1")
    served = Computed(object(), None, fresh=True)
    monkeypatch.setattr(tracking_views, "region_impact", lambda store_ids: served)
    monkeypatch.setattr(tracking_views, "report_rows", lambda report: [("@label", estimate)])
    client.force_login(user_with_role(Role.REGIONAL_LEAD, regions=[formula_store]))
    rows = _cells(client.get("/regions/north/impact.csv").content.decode())
    assert rows[1] == ["'@label", "-3.2", "-5.1", "-1.3", "0.4", "12", "3", "'=1+1"]
