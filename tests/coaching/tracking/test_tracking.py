"""Tracking over time: engagement per manager and week, region distributions, improving stores."""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from coaching.demo import create_demo_history, load_demo_modules
from coaching.models import CoachingTip, TrainingModule, WeeklyPlan
from coaching.modules import services as authoring
from coaching.tracking.selectors import engagement_by_week
from scoring.models import Profile, Region, Store
from scoring.selectors import improving_and_declining, region_distribution, weekly_ror
from scoring.weeks import week_start, weeks_back

pytestmark = pytest.mark.django_db
THIS_WEEK = week_start(timezone.localdate())


@pytest.fixture
def demo():
    call_command("demo", stdout=io.StringIO())
    load_demo_modules()
    create_demo_history()
    return list(Store.objects.values_list("id", flat=True))


def test_engagement_counts_plans_read_tips_done_and_modules_per_manager_and_week(demo):
    store = Store.objects.get(code="S001")
    manager = Profile.objects.get(stores=store, role="store_manager").user
    module = TrainingModule.objects.filter(status="published").first()
    authoring.complete_module(manager, module, [q["answer"] for q in module.quiz], store=store)
    start = weeks_back(THIS_WEEK, 26)

    with CaptureQueriesContext(connection) as queries:
        rows = engagement_by_week(demo, start=start, end=THIS_WEEK)
    assert len(queries) == 2

    mine = [r for r in rows if r["store"] == "S001"]
    plans = WeeklyPlan.objects.filter(store=store, week__gte=start)
    assert sum(r["tips"] for r in mine) == CoachingTip.objects.filter(plan__in=plans).count()
    assert sum(r["tips_done"] for r in mine) == (
        CoachingTip.objects.filter(plan__in=plans, done_at__isnull=False).count()
    )
    assert sum(r["plan_read"] for r in mine) == plans.filter(read_at__isnull=False).count()
    [this_week] = [r for r in mine if r["week"] == THIS_WEEK]
    assert this_week["modules_completed"] == 1 and this_week["manager"] == manager.username


def test_region_distribution_matches_the_stores_scores(demo):
    week = weeks_back(THIS_WEEK, 1)
    rows = region_distribution(store_ids=demo, start=week, end=week)
    assert {r.region for r in rows} == set(Region.objects.values_list("code", flat=True))
    assert len(rows) == 3 * 8
    for row in rows:
        assert row.stores == 8
        assert row.lower_quartile <= row.median <= row.upper_quartile
        assert row.lower_quartile <= row.average <= row.upper_quartile + 10


def test_improving_and_declining_stores_follow_their_ror():
    from tests.factories import RegionFactory, StoreFactory, score

    region = RegionFactory()
    up, down, flat = (StoreFactory(region=region) for _ in range(3))
    for i in range(8):
        week = weeks_back(THIS_WEEK, 7 - i)
        score(up, "team_retention", week, 50 + 2 * i)
        score(down, "team_retention", week, 70 - 2 * i)
        score(flat, "team_retention", week, 60 + (i % 2) * 0.5)

    result = improving_and_declining(store_ids=[up.id, down.id, flat.id], end=THIS_WEEK)

    assert result == {"improving": [up.id], "declining": [down.id], "steady": [flat.id]}
    assert len(weekly_ror(start=weeks_back(THIS_WEEK, 7), end=THIS_WEEK, store_ids=[up.id])) == 8


def test_a_regions_history_exports_as_csv_that_imports_back(demo, tmp_path):
    path = tmp_path / "north.csv"
    call_command("export_history", str(path), "--region", "north", "--weeks", "4")
    lines = path.read_text().splitlines()
    assert lines[0] == "store_code,category,week,score"
    assert len(lines) == 1 + 8 * 8 * 4  # 8 stores x 8 categories x 4 weeks
    assert {line.split(",")[0] for line in lines[1:]} == set(
        Store.objects.filter(region__code="north").values_list("code", flat=True)
    )
    out = io.StringIO()
    call_command("import_scores", str(path), "--dry-run", stdout=out)
    assert "256 rows read" in out.getvalue()


def test_the_demo_history_includes_module_completions_in_the_past(demo):
    from coaching.models import ModuleCompletion

    completions = ModuleCompletion.objects.all()
    assert completions.count() >= 10
    assert all(c.completed_at.date() < THIS_WEEK for c in completions)
    assert all(c.module_id == c.version.module_id for c in completions.select_related("version"))
    rows = engagement_by_week(demo, start=weeks_back(THIS_WEEK, 26), end=THIS_WEEK)
    assert sum(r["modules_completed"] for r in rows) == completions.count()


def test_region_distribution_and_movement_over_the_api_are_scoped(demo):
    from rest_framework.test import APIClient

    lead = Profile.objects.get(role="regional_lead", regions__code="north").user
    client = APIClient()
    client.force_authenticate(lead)
    rows = client.get("/api/v1/regions/north/distribution/?weeks=4").json()
    assert {r["category"] for r in rows} and {r["stores"] for r in rows} == {8}
    assert len({r["week"] for r in rows}) == 4
    movement = client.get("/api/v1/regions/north/movement/").json()
    codes = movement["improving"] + movement["declining"] + movement["steady"]
    assert sorted(codes) == sorted(
        Store.objects.filter(region__code="north").values_list("code", flat=True)
    )
    assert client.get("/api/v1/regions/south/distribution/").status_code == 404

    manager = Profile.objects.get(role="store_manager", stores__code="S001").user
    client.force_authenticate(manager)
    rows = client.get("/api/v1/regions/north/distribution/?weeks=1").json()
    assert {r["stores"] for r in rows} == {1}  # their own store, not the region's others


def test_chain_distribution_pools_every_store_the_caller_sees(demo):
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(username="admin"))
    rows = client.get("/api/v1/regions/chain-distribution/?weeks=2").json()
    assert {r["region"] for r in rows} == {"chain"} and {r["stores"] for r in rows} == {24}
    assert len(rows) == 8 * 2
    lead = Profile.objects.get(role="regional_lead", regions__code="north").user
    client.force_authenticate(lead)
    rows = client.get("/api/v1/regions/chain-distribution/?weeks=1").json()
    assert {r["stores"] for r in rows} == {8}  # a lead's "chain" is what they can see
