"""The API's access rules as a matrix: role x endpoint x object (own, same region, other region),
for reads and writes. A foreign object is a 404 (it leaks nothing); a visible one the caller may
not change is a 403."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from coaching.demo import load_demo_modules
from coaching.models import CoachingTip, Goal, TrainingModule, WeeklyPlan
from coaching.modules import services as authoring
from coaching.plans.batch import generate_plans
from scoring.models import Category, CategoryScore, Role
from scoring.weeks import week_label, week_start, weeks_back
from tests.factories import RegionFactory, StoreFactory, user_with_role

pytestmark = pytest.mark.django_db
THIS_WEEK = week_start(dt.date.today())
LAST_WEEK = weeks_back(THIS_WEEK, 1)


def seed_scores(store, base: float) -> None:
    categories = list(Category.objects.all())
    CategoryScore.objects.bulk_create(
        CategoryScore(
            store=store,
            category=category,
            week=weeks_back(LAST_WEEK, i),
            score=base + (i % 3) - n,
            responses=20,
            source="import",
        )
        for i in range(8)
        for n, category in enumerate(categories)
    )


class World:
    """Two regions; in the first, our store and a neighbour; in the second, a far store. Each
    store has a manager, a plan with tips and a goal."""

    def __init__(self):
        load_demo_modules()
        home, away = RegionFactory(code="home"), RegionFactory(code="away")
        self.stores = {
            "own": StoreFactory(region=home, code="OWN"),
            "same_region": StoreFactory(region=home, code="NEXT"),
            "other_region": StoreFactory(region=away, code="FAR"),
        }
        self.managers = {}
        for where, store in self.stores.items():
            seed_scores(store, 60.0)
            self.managers[where] = user_with_role(Role.STORE_MANAGER, stores=[store])
        self.users = {
            "manager": self.managers["own"],
            "lead": user_with_role(Role.REGIONAL_LEAD, regions=[home]),
            "trainer": user_with_role(Role.TRAINER),
            "admin": user_with_role(Role.ADMIN),
        }
        generate_plans([(self.managers[w].id, s.id) for w, s in self.stores.items()], THIS_WEEK)
        advocacy = Category.objects.get(code="customer_advocacy")
        self.goals = {
            where: Goal.objects.create(
                manager=self.managers[where],
                store=store,
                category=advocacy,
                target_score=80,
                due_date=THIS_WEEK + dt.timedelta(weeks=8),
            )
            for where, store in self.stores.items()
        }
        self.plans = {w: WeeklyPlan.objects.get(store=s) for w, s in self.stores.items()}
        self.tips = {w: p.tips.first() for w, p in self.plans.items()}
        self.draft = authoring.create_module(
            self.users["trainer"],
            title="Unpublished",
            category=advocacy,
            summary="s",
            body="b",
        )
        self.published = TrainingModule.objects.filter(status="published").first()

    def client(self, role: str) -> APIClient:
        client = APIClient()
        token, _ = Token.objects.get_or_create(user=self.users[role])
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client


@pytest.fixture
def world() -> World:
    return World()


# Which of the three stores each role reaches: through detail URLs and in lists.
SEES_STORE = {
    "manager": {"own"},
    "lead": {"own", "same_region"},
    "trainer": set(),
    "admin": {"own", "same_region", "other_region"},
}
ROLES = list(SEES_STORE)
PLACES = ["own", "same_region", "other_region"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("where", PLACES)
@pytest.mark.parametrize("suffix", ["", "ror/", "trends/", "quadrant/"])
def test_store_details(world, role, where, suffix):
    response = world.client(role).get(f"/api/v1/stores/{world.stores[where].code}/{suffix}")
    assert response.status_code == (200 if where in SEES_STORE[role] else 404)


@pytest.mark.parametrize("role", ROLES)
def test_lists_hold_only_what_the_role_sees(world, role):
    client = world.client(role)
    codes = {world.stores[w].code for w in SEES_STORE[role]}

    def listed(url, key):
        body = client.get(url).json()
        return {key(item) for item in body["results"]}

    assert listed("/api/v1/stores/", lambda s: s["code"]) == codes
    assert listed("/api/v1/scores/?page_size=500", lambda s: s["store"]) == codes
    coached = codes if role != "trainer" else set()
    assert listed("/api/v1/plans/", lambda p: p["store"]) == coached
    # A lead sees the region's goals and plans; a manager only their own.
    assert listed("/api/v1/goals/", lambda g: g["store"]) == coached
    assert listed("/api/v1/progress/?page_size=500", lambda r: r["store"]) == codes


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("where", PLACES)
def test_plan_goal_and_tip_details(world, role, where):
    client = world.client(role)
    visible = where in SEES_STORE[role]
    expected = 200 if visible else 404
    assert client.get(f"/api/v1/plans/{world.plans[where].id}/").status_code == expected
    assert client.get(f"/api/v1/goals/{world.goals[where].id}/").status_code == expected
    assert client.get(f"/api/v1/tips/{world.tips[where].id}/").status_code == expected


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("where", PLACES)
def test_writes_on_goals_and_tips(world, role, where):
    client = world.client(role)
    goal, tip = world.goals[where], world.tips[where]
    mine = role == "manager" and where == "own"
    visible = where in SEES_STORE[role]

    patched = client.patch(f"/api/v1/goals/{goal.id}/", {"intent": "hijack"}, format="json")
    feedback = client.post(f"/api/v1/tips/{tip.id}/feedback/", {"done": True}, format="json")

    if mine or (role == "admin" and visible):
        assert patched.status_code == 200
    else:
        assert patched.status_code == (403 if visible else 404)
        goal.refresh_from_db()
        assert goal.intent != "hijack"
    if mine:
        assert feedback.status_code == 200 and feedback.json()["done_at"]
    else:
        assert feedback.status_code == (403 if visible else 404)
        tip.refresh_from_db()
        assert tip.done_at is None


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("where", PLACES)
def test_score_import_and_questionnaire_only_for_visible_stores(world, role, where):
    client = world.client(role)
    store = world.stores[where]
    row = {
        "store_code": store.code,
        "week": week_label(LAST_WEEK),
        "category": "customer_advocacy",
        "score": 42.5,
    }
    before = CategoryScore.objects.filter(store=store, score=42.5).count()

    imported = client.post("/api/v1/scores/import/", {"rows": [row]}, format="json")

    may_import = role in ("lead", "admin")
    if not may_import:
        assert imported.status_code == 403
    elif where in SEES_STORE[role]:
        assert imported.status_code == 201, imported.json()
    else:
        assert imported.status_code == 400
        assert imported.json()["error"]["fields"]["rows"] == [
            f"line 2: unknown store '{store.code}'"
        ]
    changed = CategoryScore.objects.filter(store=store, score=42.5).count() - before
    assert changed == (1 if may_import and where in SEES_STORE[role] else 0)

    question = client.get("/api/v1/questions/").json()["results"][0]["id"]
    submitted = client.post(
        "/api/v1/questionnaire-responses/",
        {"store": store.code, "week": week_label(LAST_WEEK), "responses": [{str(question): 4}]},
        format="json",
    )
    # Only admins (and integration accounts) submit responses: managers and leads are judged on
    # these scores, so they are refused whichever store (issue 15).
    assert submitted.status_code == (201 if role == "admin" else 403)


@pytest.mark.parametrize("role", ROLES)
def test_modules_drafts_are_for_authors_and_published_ones_for_all(world, role):
    client = world.client(role)
    author = role in ("trainer", "admin")
    draft = client.get(f"/api/v1/modules/{world.draft.slug}/")
    assert draft.status_code == (200 if author else 404)
    published = client.get(f"/api/v1/modules/{world.published.slug}/").json()
    assert published["slug"] == world.published.slug
    # Readers get the questions, not the answers.
    assert ("answer" in published["quiz"][0]) is author
    created = client.post(
        "/api/v1/modules/",
        {"title": "New", "category": "team_engagement", "summary": "s", "body": "b"},
        format="json",
    )
    assert created.status_code == (201 if author else 403)
    publish = client.post(f"/api/v1/modules/{world.draft.slug}/publish/")
    # A draft without a quiz is refused even to its authors: a clear 400, not a 500.
    assert publish.status_code == (400 if author else 404)


def test_manager_completes_a_module_and_the_lead_sees_it_but_not_the_far_region(world):
    module = world.published
    answers = [q["answer"] for q in module.quiz]
    done = world.client("manager").post(
        f"/api/v1/modules/{module.slug}/complete/", {"answers": answers}, format="json"
    )
    assert done.status_code == 201 and done.json()["score"] == 100
    far = world.managers["other_region"]
    authoring.complete_module(far, module, answers)

    seen = world.client("lead").get("/api/v1/completions/").json()["results"]
    assert [c["store"] for c in seen] == ["OWN"]
    assert world.client("trainer").get("/api/v1/completions/").json()["results"] == []
    wrong = world.client("lead").post(
        f"/api/v1/modules/{module.slug}/complete/", {"answers": answers}, format="json"
    )
    assert wrong.status_code == 403


def test_errors_have_one_shape_and_bad_input_is_a_400(world):
    client = world.client("manager")
    goal = client.post(
        "/api/v1/goals/",
        {"store": "OWN", "category": "nope", "target_score": 140, "due_date": "2020-01-01"},
        format="json",
    )
    assert goal.status_code == 400
    error = goal.json()["error"]
    assert error["status"] == 400 and {"category", "target_score"} <= set(error["fields"])
    past = client.post(
        "/api/v1/goals/",
        {
            "store": "OWN",
            "category": "team_retention",
            "target_score": 80,
            "due_date": "2020-01-01",
        },
        format="json",
    )
    assert past.status_code == 400
    assert past.json()["error"]["fields"]["due_date"] == ["due date must be in the future"]
    assert client.get("/api/v1/stores/OWN/ror/?weeks=0").status_code == 400
    assert client.get("/api/v1/plans/?week=not-a-week").status_code == 400
    anonymous = APIClient().get("/api/v1/stores/")
    assert anonymous.status_code == 401 and anonymous.json()["error"]["status"] == 401


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/plans/",
        "/api/v1/goals/",
        "/api/v1/scores/",
        "/api/v1/modules/",
        "/api/v1/completions/",
        "/api/v1/stores/",
        "/api/v1/regions/",
        "/api/v1/categories/",
        "/api/v1/questions/",
        "/api/v1/progress/",
    ],
)
def test_list_queries_do_not_grow_with_the_page(world, url):
    client = world.client("admin")
    with CaptureQueriesContext(connection) as small:
        assert client.get(f"{url}?page_size=1").status_code == 200
    with CaptureQueriesContext(connection) as large:
        assert client.get(f"{url}?page_size=100").status_code == 200
    assert len(large) == len(small), [q["sql"][:120] for q in large.captured_queries]


def test_schema_and_offline_docs_are_served(world):
    client = world.client("manager")
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/scores/import/" in paths and "/api/v1/plans/{id}/" in paths
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"http" not in docs.content.split(b"swagger-ui")[0].lower().replace(b"http-equiv", b"")


def test_opening_your_own_plan_marks_it_read_and_a_lead_reading_it_does_not(world):
    plan = world.plans["own"]
    world.client("lead").get(f"/api/v1/plans/{plan.id}/")
    plan.refresh_from_db()
    assert plan.read_at is None
    world.client("manager").get(f"/api/v1/plans/{plan.id}/")
    plan.refresh_from_db()
    assert plan.read_at is not None
    assert CoachingTip.objects.filter(plan=plan).exists()


def test_a_lead_imports_a_csv_dry_run_first_and_bad_files_change_nothing(world):
    client = world.client("lead")
    week = week_label(LAST_WEEK)
    good = f"store_code,week,category,score,responses\nOWN,{week},customer_advocacy,33.3,12\n"

    dry = client.post(
        "/api/v1/scores/import/",
        {"file": SimpleUploadedFile("s.csv", good.encode()), "dry_run": True},
        format="multipart",
    )
    assert dry.status_code == 200 and dry.json()["updated"] == 1
    assert not CategoryScore.objects.filter(score=Decimal("33.3")).exists()
    done = client.post(
        "/api/v1/scores/import/",
        {"file": SimpleUploadedFile("s.csv", good.encode())},
        format="multipart",
    )
    assert done.status_code == 201 and done.json()["updated"] == 1
    assert CategoryScore.objects.filter(score=Decimal("33.3")).count() == 1
    bad = good + f"OWN,{week},no_such_category,50\n"
    refused = client.post(
        "/api/v1/scores/import/",
        {"file": SimpleUploadedFile("s.csv", bad.replace("33.3", "44.4").encode())},
        format="multipart",
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"]["rows"] == ["line 3: expected 5 fields, found 4"]
    assert not CategoryScore.objects.filter(score=Decimal("44.4")).exists()
    both = client.post("/api/v1/scores/import/", {"rows": []}, format="json")
    assert both.status_code == 400


def test_a_token_for_a_password_and_nothing_for_a_wrong_one(world, settings):
    user = world.users["lead"]
    user.set_password("right-horse-battery")
    user.save()
    client = APIClient()
    wrong = client.post("/api/v1/auth/token/", {"username": user.username, "password": "nope"})
    assert wrong.status_code == 400 and "token" not in wrong.json()
    right = client.post(
        "/api/v1/auth/token/", {"username": user.username, "password": "right-horse-battery"}
    )
    assert right.json()["token"] == Token.objects.get(user=user).key
    stores = APIClient(HTTP_AUTHORIZATION=f"Token {right.json()['token']}").get("/api/v1/stores/")
    assert stores.status_code == 200


def test_nul_characters_are_a_400_on_every_database(world):
    # PostgreSQL refuses NUL in text: found by the fuzzer as a 500 before this was handled.
    client = world.client("manager")
    goal = client.post(
        "/api/v1/goals/",
        {
            "store": "OWN",
            "category": "team\x00retention",
            "target_score": 80,
            "due_date": "2099-01-01",
        },
        format="json",
    )
    assert goal.status_code == 400 and "category" in goal.json()["error"]["fields"]
    assert client.get("/api/v1/scores/?store=OW%00N").status_code in (200, 400)
    assert client.get("/api/v1/stores/OW%00N/").status_code in (400, 404)


@pytest.mark.parametrize("role", ROLES)
def test_engagement_is_scoped_and_impact_is_an_aggregate_anyone_may_read(world, role):
    client = world.client(role)
    rows = client.get("/api/v1/engagement/").json()["results"]
    expected = {world.stores[w].code for w in SEES_STORE[role]}
    assert {r["store"] for r in rows} == expected
    if role == "manager":
        assert {r["manager"] for r in rows} == {world.users["manager"].username}

    impact = client.get("/api/v1/impact/").json()
    # This world has one week of plans and no history: the estimate says so instead of guessing.
    assert impact["overall"]["effect"] is None
    assert impact["overall"]["note"].startswith("not enough data")
    assert client.get("/api/v1/impact/?weeks=1").status_code == 400


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("where", PLACES)
def test_kpi_import_only_for_visible_stores_and_drivers_for_all(world, role, where):
    client = world.client(role)
    code = world.stores[where].code
    csv_text = f"store_code,week,kpi,value\n{code},{week_label(LAST_WEEK)},sales,1000\n"

    imported = client.post(
        "/api/v1/kpis/import/",
        {"file": SimpleUploadedFile("k.csv", csv_text.encode())},
        format="multipart",
    )

    if role not in ("lead", "admin"):
        assert imported.status_code == 403
    elif where in SEES_STORE[role]:
        assert imported.status_code == 201 and imported.json()["created"] == 1
    else:
        assert imported.status_code == 400
        assert imported.json()["error"]["fields"]["rows"] == [f"line 2: unknown store '{code}'"]
    listed = {k["store"] for k in client.get("/api/v1/kpis/").json()["results"]}
    assert listed <= {world.stores[w].code for w in SEES_STORE[role]}
    drivers = client.get("/api/v1/drivers/").json()
    assert drivers["drivers"] == [] and drivers["note"].startswith("not enough data")
    assert client.get("/api/v1/drivers/?kpi=footfall").status_code == 400
