"""One rule for a manager's goals, plans and tips, held by the web and the API alike.

The matrix is role x object x every page and endpoint that reads or changes one, where the
object is the manager's own (at the store they manage now), the one they left behind (made for
them at a store they managed before being moved), a neighbour's (another store of the same
region) or a far one (another region). The rule, from `coaching.access`:

- a manager reads and changes only their own, at a store they manage now;
- a lead reads those of their region's stores, whoever the manager, and changes none;
- an admin reads all and may change goals (tips are answered by their manager only);
- a trainer reads none.

A foreign object is a 404 (it leaks nothing); a visible one the caller may not change is a 403;
pages of another role are a 403. Refused writes change nothing.
"""

import datetime as dt

import pytest
from rest_framework.test import APIClient

from coaching.demo import load_demo_modules
from coaching.goals.services import create_goal
from coaching.models import CoachingTip, Goal, WeeklyPlan
from coaching.plans.batch import generate_plans
from scoring.models import Category, Role
from scoring.services import assign_role
from scoring.weeks import week_start
from tests.api.test_access import seed_scores
from tests.factories import RegionFactory, StoreFactory, user_with_role

pytestmark = pytest.mark.django_db
THIS_WEEK = week_start(dt.date.today())
KINDS = ["own", "left_behind", "neighbour", "far"]
ROLES = ["manager", "lead", "admin", "trainer"]
READS = {
    "manager": {"own"},
    "lead": {"own", "left_behind", "neighbour"},
    "admin": set(KINDS),
    "trainer": set(),
}


class World:
    def __init__(self):
        load_demo_modules()
        home, away = RegionFactory(code="home"), RegionFactory(code="away")
        self.stores = {
            "left_behind": StoreFactory(region=home, code="OLD"),
            "own": StoreFactory(region=home, code="OWN"),
            "neighbour": StoreFactory(region=home, code="NEXT"),
            "far": StoreFactory(region=away, code="FAR"),
        }
        for store in self.stores.values():
            seed_scores(store, 60.0)
        manager = user_with_role(Role.STORE_MANAGER, stores=[self.stores["left_behind"]])
        owners = {
            "left_behind": manager,
            "own": manager,
            "neighbour": user_with_role(Role.STORE_MANAGER, stores=[self.stores["neighbour"]]),
            "far": user_with_role(Role.STORE_MANAGER, stores=[self.stores["far"]]),
        }
        self.goals, self.plans = {}, {}
        for kind in ("left_behind", "neighbour", "far"):
            self._coach(kind, owners[kind])
        # The manager is moved: what they had at OLD stays there.
        assign_role(manager, Role.STORE_MANAGER, stores=[self.stores["own"]])
        self._coach("own", manager)
        self.tips = {kind: plan.tips.first() for kind, plan in self.plans.items()}
        self.users = {
            "manager": manager,
            "lead": user_with_role(Role.REGIONAL_LEAD, regions=[home]),
            "admin": user_with_role(Role.ADMIN),
            "trainer": user_with_role(Role.TRAINER),
        }

    def _coach(self, kind: str, manager) -> None:
        store = self.stores[kind]
        generate_plans([(manager.id, store.id)], THIS_WEEK)
        self.plans[kind] = WeeklyPlan.objects.get(store=store, manager=manager)
        self.goals[kind] = create_goal(
            manager=manager,
            store=store,
            category=Category.objects.get(code="customer_advocacy"),
            target_score=80,
            due_date=THIS_WEEK + dt.timedelta(weeks=8),
        )

    def client(self, role: str) -> APIClient:
        client = APIClient()
        client.force_login(self.users[role])
        return client


@pytest.fixture
def world() -> World:
    return World()


def expected_read(role: str, kind: str) -> int:
    return 200 if kind in READS[role] else 404


def expected_web(role: str, kind: str, allowed: int = 200) -> int:
    """Manager-only pages: other roles are refused by role before any object is looked up."""
    if role != "manager":
        return 403
    return allowed if kind == "own" else 404


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind", KINDS)
def test_reads_follow_one_rule_on_the_web_and_the_api(world, role, kind):
    client = world.client(role)
    plan, goal, tip = world.plans[kind], world.goals[kind], world.tips[kind]
    assert client.get(f"/api/v1/plans/{plan.id}/").status_code == expected_read(role, kind)
    assert client.get(f"/api/v1/goals/{goal.id}/").status_code == expected_read(role, kind)
    assert client.get(f"/api/v1/tips/{tip.id}/").status_code == expected_read(role, kind)

    def listed(url: str) -> set[int]:
        return {row["id"] for row in client.get(url).json()["results"]}

    assert (plan.id in listed("/api/v1/plans/?page_size=500")) is (kind in READS[role])
    assert (goal.id in listed("/api/v1/goals/?page_size=500")) is (kind in READS[role])

    assert client.get(f"/plans/{plan.id}/").status_code == expected_web(role, kind)
    assert client.get(f"/goals/{goal.id}/edit/").status_code == expected_web(role, kind)
    code = world.stores[kind].code
    assert client.get(f"/week/?store={code}").status_code == expected_web(role, kind)
    assert client.get(f"/goals/?store={code}").status_code == expected_web(role, kind)
    store_page = client.get(f"/stores/{code}/").status_code
    if role == "trainer":
        assert store_page == 403
    else:
        assert store_page == expected_read(role, kind)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind", KINDS)
def test_goal_writes_follow_one_rule_on_the_web_and_the_api(world, role, kind):
    client = world.client(role)
    goal = world.goals[kind]
    visible = kind in READS[role]
    may_change = (role == "manager" and kind == "own") or (role == "admin")

    patched = client.patch(f"/api/v1/goals/{goal.id}/", {"intent": "hijack"}, format="json")
    web_edit = client.post(
        f"/goals/{goal.id}/edit/",
        {"target_score": "81", "due_date": goal.due_date.isoformat(), "intent": "web hijack"},
    )

    if may_change:
        assert patched.status_code == 200
    else:
        assert patched.status_code == (403 if visible else 404)
    assert web_edit.status_code == expected_web(role, kind, allowed=302)
    goal.refresh_from_db()
    if role == "manager" and kind == "own":
        assert goal.intent == "web hijack"
    elif role == "admin":
        assert goal.intent == "hijack"
    else:
        assert goal.intent == ""

    closed = client.post(f"/api/v1/goals/{goal.id}/close/", {"status": "dropped"}, format="json")
    dropped_on_web = client.post(f"/goals/{goal.id}/drop/")
    if may_change:
        assert closed.status_code == 200
    else:
        assert closed.status_code == (403 if visible else 404)
    assert dropped_on_web.status_code == expected_web(role, kind, allowed=302)
    goal.refresh_from_db()
    assert (goal.status == Goal.Status.DROPPED) is may_change


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind", KINDS)
def test_tip_feedback_follows_one_rule_on_the_web_and_the_api(world, role, kind):
    client = world.client(role)
    tip = world.tips[kind]
    mine = role == "manager" and kind == "own"

    api = client.post(f"/api/v1/tips/{tip.id}/feedback/", {"helpful": True}, format="json")
    web = client.post(f"/tips/{tip.id}/feedback/", {"action": "done"})

    assert api.status_code == (200 if mine else 403 if kind in READS[role] else 404)
    assert web.status_code == expected_web(role, kind, allowed=302)
    tip.refresh_from_db()
    assert (tip.helpful is True) is mine
    assert (tip.done_at is not None) is mine


def test_a_moved_manager_is_coached_and_reminded_only_at_their_new_store(world):
    from coaching.plans.access import coached_pairs
    from coaching.plans.selectors import plan_archive, tips_due_for_followup

    manager = world.users["manager"]
    assert {s for m, s in coached_pairs() if m == manager.id} == {world.stores["own"].id}
    assert [p.store.code for p in plan_archive(manager)] == ["OWN"]
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(weeks=5)
    CoachingTip.objects.filter(pk__in=[t.pk for t in world.tips.values()]).update(done_at=long_ago)
    assert {t.plan.store.code for t in tips_due_for_followup(manager)} == {"OWN"}
    week = world.client("manager").get("/week/").content.decode()
    assert world.tips["own"].title in week
    assert f'id="tip-{world.tips["left_behind"].pk}"' not in week
