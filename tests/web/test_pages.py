"""The web pages: each role reaches its own pages and nothing else, every page is valid HTML with
CSRF-protected forms and a CSP header, and page query counts do not grow with the chain."""

import html5lib
import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from coaching.models import CoachingTip, Goal, WeeklyPlan
from scoring.models import CategoryScore, Store
from scoring.weeks import week_label, week_start, weeks_back

from .conftest import build_chain

# A week people may still import (within SCORE_BACKDATE_WEEKS), whatever today is.
RECENT = week_label(weeks_back(week_start(timezone.localdate()), 1))

User = get_user_model()


def login(client, username: str) -> Client:
    client.force_login(User.objects.get(username=username))
    return client


def assert_valid_html(response) -> None:
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    document = parser.parse(response.content.decode())
    ids = [el.get("id") for el in document.iter() if el.get("id")]
    assert len(ids) == len(set(ids)), f"duplicate ids: {sorted(i for i in ids if ids.count(i) > 1)}"
    for form in document.iter("form"):
        if form.get("method", "get").lower() == "post":
            tokens = form.findall(".//input[@name='csrfmiddlewaretoken']")
            assert tokens, f"POST form without a CSRF token: {form.get('action')}"


PAGES = {
    "manager.s001": ["/week/", "/goals/", "/plans/", "/modules/", "/stores/S001/"],
    "lead.north": ["/regions/north/", "/stores/S001/", "/stores/S004/", "/modules/", "/import/"],
    "trainer": ["/studio/", "/studio/new/", "/modules/"],
    "admin": ["/regions/", "/regions/south/", "/stores/S002/", "/import/", "/studio/"],
}


@pytest.mark.parametrize(
    ("username", "url"), [(u, url) for u, urls in PAGES.items() for url in urls]
)
def test_every_page_renders_valid_html_with_a_csp_header(chain, client, username, url):
    response = login(client, username).get(url)
    assert response.status_code == 200
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert_valid_html(response)


def test_home_sends_each_role_to_its_page(chain, client):
    assert login(client, "manager.s001").get("/")["Location"] == reverse("week")
    assert login(Client(), "lead.north").get("/", follow=True).redirect_chain[-1][0] == (
        "/regions/north/"
    )
    assert login(Client(), "trainer").get("/")["Location"] == reverse("studio")
    assert Client().get("/week/")["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("username", "url", "status"),
    [
        ("manager.s001", "/stores/S002/", 404),  # another store
        ("manager.s001", "/regions/north/", 403),  # not a manager's page
        ("manager.s001", "/studio/", 403),
        ("manager.s001", "/import/", 403),
        ("lead.north", "/stores/S002/", 404),  # a store of the south
        ("lead.north", "/regions/south/", 404),
        ("lead.north", "/regions/south/history.csv", 404),
        ("lead.north", "/regions/south/impact.csv", 404),
        ("lead.north", "/week/", 403),
        ("lead.north", "/studio/", 403),
        ("trainer", "/stores/S001/", 403),  # trainers see no store
        ("trainer", "/regions/north/", 403),
        ("trainer", "/week/", 403),
    ],
)
def test_other_stores_and_regions_answer_404_and_other_roles_403(
    chain, client, username, url, status
):
    response = login(client, username).get(url)
    assert response.status_code == status
    assert b"S002" not in response.content or status == 200


def test_a_manager_cannot_touch_another_managers_tip_or_goal(chain, client):
    other_tip = CoachingTip.objects.filter(plan__store__code="S002", done_at=None).first()
    other_goal = Goal.objects.exclude(store__code="S001").first()
    login(client, "manager.s001")
    assert client.post(f"/tips/{other_tip.pk}/feedback/", {"action": "done"}).status_code == 404
    assert client.get(f"/plans/{other_tip.plan_id}/").status_code == 404
    if other_goal is not None:
        assert client.get(f"/goals/{other_goal.pk}/edit/").status_code == 404
        assert client.post(f"/goals/{other_goal.pk}/drop/").status_code == 404
    other_tip.refresh_from_db()
    assert other_tip.done_at is None


def test_opening_the_week_records_that_the_plan_was_read_and_tips_can_be_marked(chain, client):
    login(client, "manager.s001")
    plan = WeeklyPlan.objects.filter(store__code="S001").order_by("-week").first()
    WeeklyPlan.objects.filter(pk=plan.pk).update(read_at=None)
    response = client.get("/week/")
    assert response.status_code == 200
    plan.refresh_from_db()
    assert plan.read_at is not None
    tip = plan.tips.order_by("order").first()
    assert tip.title in response.content.decode()

    response = client.post(
        f"/tips/{tip.pk}/feedback/", {"action": "done", "next": "/week/"}, follow=True
    )
    assert response.redirect_chain[-1][0] == f"/week/#tip-{tip.pk}"
    response = client.post(
        f"/tips/{tip.pk}/feedback/", {"action": "helpful", "next": "https://evil.example/"}
    )
    assert response["Location"] == f"/week/#tip-{tip.pk}"  # never off-site
    tip.refresh_from_db()
    assert tip.done_at is not None and tip.helpful is True


def test_goal_form_keeps_the_input_on_error_and_saves_when_valid(chain, client):
    login(client, "manager.s001")
    bad = {"category": "", "target_score": "140", "due_date": "2020-01-01", "intent": "Keep me"}
    response = client.post("/goals/?store=S001", bad)
    assert response.status_code == 400
    page = response.content.decode()
    assert 'value="140"' in page and "Keep me" in page
    assert "Ensure this value is less than or equal to 100" in page

    past = {**bad, "category": "1", "target_score": "80"}
    response = client.post("/goals/?store=S001", past)
    assert response.status_code == 400
    assert "due date must be in the future" in response.content.decode()

    good = {**past, "due_date": "2099-01-01"}
    before = Goal.objects.filter(store__code="S001").count()
    assert client.post("/goals/?store=S001", good).status_code == 302
    goal = Goal.objects.filter(store__code="S001").latest("id")
    assert Goal.objects.filter(store__code="S001").count() == before + 1
    assert goal.baseline_score is not None and goal.intent == "Keep me"

    edit_page = client.get(f"/goals/{goal.pk}/edit/").content.decode()
    # A date input shows only an ISO value; the locale's 01/01/2099 would leave it blank.
    assert 'type="date" name="due_date" value="2099-01-01"' in edit_page
    edit = {"target_score": "85", "due_date": "2099-02-01", "intent": "Sharper"}
    assert client.post(f"/goals/{goal.pk}/edit/", edit).status_code == 302
    assert client.post(f"/goals/{goal.pk}/drop/").status_code == 302
    goal.refresh_from_db()
    assert (float(goal.target_score), goal.intent, goal.status) == (85.0, "Sharper", "dropped")


def test_forms_refuse_a_post_without_the_csrf_token(chain):
    client = Client(enforce_csrf_checks=True)
    login(client, "manager.s001")
    tip = CoachingTip.objects.filter(plan__store__code="S001").first()
    assert client.post(f"/tips/{tip.pk}/feedback/", {"action": "done"}).status_code == 403


def test_import_page_lists_row_errors_and_writes_nothing(chain, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    login(client, "admin")
    before = CategoryScore.objects.count()
    bad = f"store_code,week,category,score\nS001,{RECENT},customer_advocacy,101\nNOPE,{RECENT},customer_advocacy,50\n".encode()
    response = client.post("/import/", {"file": SimpleUploadedFile("s.csv", bad)})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was imported: 2 problems" in page
    assert CategoryScore.objects.count() == before

    good = f"store_code,week,category,score\nS001,{RECENT},customer_advocacy,55\n".encode()
    response = client.post("/import/", {"file": SimpleUploadedFile("s.csv", good)})
    assert response.status_code == 200 and "1 were created" in response.content.decode()
    assert CategoryScore.objects.count() == before + 1


def test_lead_exports_the_region_history_and_impact_as_csv(chain, client):
    login(client, "lead.north")
    history = client.get("/regions/north/history.csv")
    lines = history.content.decode().splitlines()
    assert lines[0] == "store_code,category,week,score"
    assert {line.split(",")[0] for line in lines[1:]} == {"S001", "S004"}
    impact = client.get("/regions/north/impact.csv").content.decode().splitlines()
    assert impact[0].startswith("group,effect,low,high")
    assert impact[1].startswith("all coached categories,")


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_page_queries_do_not_grow_with_stores_weeks_or_tips(client):
    """Same pages, a chain four times bigger with a longer history and more coaching: the same
    number of queries."""
    build_chain(stores=6)
    urls = ["/week/", "/goals/", "/plans/", "/stores/S001/"]
    login(client, "manager.s001")
    small = {url: _queries(client, url) for url in urls}
    login(lead := Client(), "lead.north")
    small_region = _queries(lead, "/regions/north/")

    tips = CoachingTip.objects.count()
    build_chain(stores=24, weeks=40)  # resets the demo passwords, which signs everyone out
    assert CoachingTip.objects.count() > 2 * tips
    WeeklyPlan.objects.filter(store__code="S001").update(read_at=None)
    login(client, "manager.s001")
    login(lead, "lead.north")
    assert {url: _queries(client, url) for url in urls} == small
    assert Store.objects.filter(region__code="north").count() == 8
    assert _queries(lead, "/regions/north/") == small_region


def test_every_model_has_an_admin_whose_list_renders(chain, client):
    from django.apps import apps
    from django.contrib import admin

    login(client, "admin")
    for app in ("scoring", "coaching"):
        for model in apps.get_app_config(app).get_models():
            if model._meta.auto_created:
                continue
            if model.__name__ == "Answer":  # edited inline, under its questionnaire
                continue
            assert admin.site.is_registered(model), model.__name__
            url = reverse(f"admin:{app}_{model._meta.model_name}_changelist")
            assert client.get(url).status_code == 200, url


def test_page_url_names_do_not_collide_with_the_apis():
    """The API router names routes like `tip-feedback`; a page of the same name would post to it."""
    from coaching import urls

    for pattern in urls.urlpatterns:
        kwargs = {name: "x1" for name in pattern.pattern.converters}
        if "pk" in kwargs:
            kwargs["pk"] = 1
        assert not reverse(pattern.name, kwargs=kwargs).startswith("/api/"), pattern.name


def detail_pages(client) -> dict:
    """A plan, a module, a goal editor, the studio editor and the login page, by name."""
    from coaching.models import TrainingModule

    login(client, "manager.s001")
    plan = WeeklyPlan.objects.filter(store__code="S001").order_by("-week").first()
    goal = Goal.objects.filter(store__code="S001", status="active").first()
    module = TrainingModule.objects.filter(status="published", language="en").first()
    urls = [f"/plans/{plan.pk}/", f"/modules/{module.slug}/", f"/goals/{goal.pk}/edit/"]
    pages = {f"manager{url}": client.get(url) for url in urls}
    login(client, "trainer")
    pages["studio editor"] = client.get(f"/studio/{module.pk}/")
    pages["login"] = Client().get("/accounts/login/")
    return pages


def test_detail_pages_are_valid_html_too(chain, client):
    for name, response in detail_pages(client).items():
        assert response.status_code == 200, name
        assert_valid_html(response)


def test_a_reader_never_sees_the_quiz_answers_before_answering(chain, client):
    from coaching.models import TrainingModule

    module = TrainingModule.objects.filter(status="published", language="en").first()
    login(client, "manager.s001")
    page = client.get(f"/modules/{module.slug}/").content.decode()
    assert module.quiz[0]["explanation"] not in page
    answers = {f"q{n}": str(q["answer"]) for n, q in enumerate(module.quiz)}
    response = client.post(f"/modules/{module.slug}/", answers)
    assert "You scored 100%" in response.content.decode()
    assert module.quiz[0]["explanation"] in response.content.decode()
    wrong = client.post(f"/modules/{module.slug}/", {"q0": "1"})
    assert wrong.status_code == 400 and "Answer every question" in wrong.content.decode()
    assert 'value="1" checked' in wrong.content.decode()  # the answer given is kept


def test_repeated_wrong_passwords_lock_the_login(chain):
    client = Client()
    for _ in range(5):
        response = client.post("/accounts/login/", {"username": "lead.north", "password": "nope"})
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    right = client.post("/accounts/login/", {"username": "lead.north", "password": "ror-demo-2026"})
    assert right.status_code == 429  # still locked, even with the right password


def test_a_lead_imports_only_their_regions_stores(chain, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    login(client, "lead.north")
    row = f"store_code,week,category,score\nS002,{RECENT},customer_advocacy,55\n".encode()
    response = client.post("/import/", {"file": SimpleUploadedFile("s.csv", row)})
    assert response.status_code == 400
    assert "unknown store" in response.content.decode()
    row = f"store_code,week,category,score\nS004,{RECENT},customer_advocacy,55\n".encode()
    response = client.post("/import/", {"file": SimpleUploadedFile("s.csv", row)})
    assert response.status_code == 200


def test_an_admin_sees_the_regions_side_by_side_and_the_chains_categories(chain, client):
    page = login(client, "admin").get("/regions/").content.decode()
    for name in ("North", "South", "West"):
        assert f">{name}</a>" in page
    assert "Categories across the chain" in page and page.count('class="chart spark"') == 8


@pytest.mark.validator
def test_every_page_passes_the_nu_html_checker(chain, client, tmp_path):
    """The W3C checker's engine over every page, its detail pages and its forms with errors."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from . import nu
    from .test_studio import module_post

    pages = {}
    for username, urls in PAGES.items():
        login(client, username)
        for url in urls:
            pages[f"{username}{url}"] = client.get(url)
    pages.update(detail_pages(client))
    login(client, "manager.s001")
    bad_goal = {"category": "", "target_score": "140", "due_date": "2020-01-01", "intent": "x"}
    pages["goal form with errors"] = client.post("/goals/?store=S001", bad_goal)
    pages["another store"] = client.get("/stores/S002/")
    pages["trainer page"] = client.get("/studio/")
    login(client, "trainer")
    pages["studio form with errors"] = client.post("/studio/new/", module_post(title=""))
    login(client, "admin")
    bad_csv = SimpleUploadedFile(
        "s.csv", f"store_code,week,category,score\nNOPE,{RECENT},x,101\n".encode()
    )
    pages["import with errors"] = client.post("/import/", {"file": bad_csv})

    statuses = {name: response.status_code for name, response in pages.items()}
    assert statuses["another store"] == 404 and statuses["trainer page"] == 403
    assert statuses["goal form with errors"] == statuses["import with errors"] == 400
    documents = {
        name.strip("/").replace("/", "_").replace(" ", "-"): response.content
        for name, response in pages.items()
    }
    assert nu.check(documents, tmp_path) == []
    # The checker is awake: it flags what html5lib lets through.
    broken = b"<!DOCTYPE html><html lang=en><title>t</title><p id=a>x<p id=a><span aria-label=y>z"
    assert any("Duplicate ID" in m for m in nu.check({"broken": broken}, tmp_path))
