"""KPIs in, all or nothing; key drivers that find the categories a KPI really follows."""

import io
import random

import numpy as np
import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from scoring.drivers import design_matrix, key_drivers, lmg_shares, quadrant
from scoring.kpis import import_kpis
from scoring.models import Category, CategoryScore, KpiReading, Role
from scoring.weeks import week_label, week_start, weeks_back
from tests.factories import RegionFactory, StoreFactory, user_with_role

THIS_WEEK = week_start(timezone.localdate())


def test_lmg_shares_rank_a_strong_driver_over_a_weak_one_and_sum_to_100():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(500, 4))
    x[:, 1] += 0.5 * x[:, 0]  # correlated predictors: LMG shares what they explain together
    y = 3 * x[:, 0] + 1 * x[:, 1] + rng.normal(size=500)
    shares, r2 = lmg_shares(np.column_stack([x, y]))
    assert shares.sum() == pytest.approx(100)
    assert shares[0] > shares[1] > max(shares[2], shares[3])
    assert max(shares[2], shares[3]) < 2
    assert 0.8 < r2 < 1


@pytest.mark.django_db
def test_key_drivers_find_what_sales_follow_and_set_focus_weights():
    rng = random.Random(3)
    categories = list(Category.objects.filter(active=True))
    region = RegionFactory()
    stores = [StoreFactory(region=region) for _ in range(16)]
    weeks = [weeks_back(THIS_WEEK, i) for i in range(30, -1, -1)]
    scores, kpis = [], []
    for store in stores:
        sales = 10_000.0
        for week in weeks:
            values = {c.code: rng.uniform(40, 90) for c in categories}
            for c in categories:
                scores.append(CategoryScore(store=store, category=c, week=week,
                                            score=round(values[c.code], 1), responses=30, source="import"))  # fmt: skip
            kpis.append(KpiReading(store=store, week=week, kpi="sales", value=round(sales, 2)))
            # Next week's sales follow this week's satisfaction strongly and loyalty less.
            sales *= (
                1
                + (
                    0.5 * (values["customer_satisfaction"] - 65)
                    + 0.2 * (values["brand_loyalty"] - 65)
                    + rng.gauss(0, 3)
                )
                / 400
            )
    CategoryScore.objects.bulk_create(scores)
    KpiReading.objects.bulk_create(kpis)
    analysis = key_drivers([s.id for s in stores], end=THIS_WEEK, horizon=1, reps=50)

    assert analysis.enough, analysis.note
    top, second = analysis.drivers[:2]
    assert (top.category, second.category) == ("customer_satisfaction", "brand_loyalty")
    assert top.low > second.high or top.importance > 2 * second.importance
    assert sum(d.importance for d in analysis.drivers) == pytest.approx(100, abs=0.5)
    weights = analysis.weights()
    assert weights["customer_satisfaction"] == 2.0 and min(weights.values()) == 0.5
    medians = {d.category: 65.0 for d in analysis.drivers}
    [first, *_] = quadrant(analysis, {d.category: 50.0 for d in analysis.drivers}, medians)
    assert (first["category"], first["quadrant"]) == ("customer_satisfaction", "fix first")
    # Focus selection weighs categories by the default 4-week horizon's drivers.
    from coaching.plans.week_context import impact_weights

    cache.clear()
    learned = impact_weights(THIS_WEEK)
    assert learned == key_drivers([s.id for s in stores], end=THIS_WEEK, reps=0).weights()
    assert learned and set(learned) == {c.code for c in categories}
    admin = user_with_role(Role.ADMIN)
    client = APIClient()
    client.force_authenticate(admin)
    rows = client.get(f"/api/v1/stores/{stores[0].code}/quadrant/").json()
    assert len(rows) == len(categories)
    assert rows[0]["category"] == "customer_satisfaction"
    assert {r["quadrant"] for r in rows} <= {"fix first", "protect", "maintain", "watch"}
    out = io.StringIO()
    call_command("drivers", "--horizon", "1", stdout=out)
    assert "customer_satisfaction" in out.getvalue().splitlines()[1]


def columns(rows: list[tuple]) -> tuple[np.ndarray, ...]:
    return tuple(np.array(column) for column in zip(*rows, strict=True))


def test_the_design_matrix_keeps_store_weeks_with_every_score_and_the_kpi_now_and_later():
    monday = THIS_WEEK.toordinal()
    week = [monday + 7 * n for n in range(3)]
    # (store, category, week, score) as the database might return them, in no order.
    scores = [
        (7, 1, week[1], 31.0), (7, 2, week[1], 41.0), (7, 9, week[1], 99.0),  # 9: not asked for
        (7, 1, week[0], 30.0), (7, 2, week[0], 40.0),  # sales zero that week: no % change
        (7, 1, week[2], 32.0), (7, 2, week[2], 42.0),  # no sales a week later
        (3, 1, week[1], 11.0),  # category 2 unscored
        (3, 2, week[0], 20.0), (3, 1, week[0], 10.0),
    ]  # fmt: skip
    sales = [(3, week[0], 200.0), (3, week[1], 250.0), (7, week[0], 0.0), (7, week[1], 40.0),
             (7, week[2], 30.0)]  # fmt: skip

    data, per_store = design_matrix(columns(scores), columns(sales), [1, 2], horizon=1)

    # By store, then week: both categories' scores, then sales' % change over the next week.
    assert data.tolist() == [[10.0, 20.0, 25.0], [31.0, 41.0, -25.0]]
    assert per_store.tolist() == [1, 1]


def pinned_chain(rng: random.Random) -> list[int]:
    """12 stores, 21 weeks; a few scores and sales missing, some sources without a sample size."""
    categories = list(Category.objects.filter(active=True))
    stores = [StoreFactory(region=RegionFactory()) for _ in range(12)]
    scores, kpis = [], []
    for store in stores:
        sales = 10_000.0
        for week in [weeks_back(THIS_WEEK, i) for i in range(20, -1, -1)]:
            values = {c.code: rng.uniform(40, 90) for c in categories}
            for c in categories:
                if rng.random() < 0.03:
                    continue
                scores.append(CategoryScore(store=store, category=c, week=week,
                                            score=round(values[c.code], 1),
                                            responses=rng.choice([None, 30]), source="import"))  # fmt: skip
            if rng.random() < 0.05:
                continue
            kpis.append(KpiReading(store=store, week=week, kpi="sales", value=round(sales, 2)))
            change = 0.5 * (values["customer_satisfaction"] - 65) + 0.2 * (
                values["brand_loyalty"] - 65
            )
            sales *= 1 + (change + rng.gauss(0, 3)) / 400
    CategoryScore.objects.bulk_create(scores)
    KpiReading.objects.bulk_create(kpis)
    return [s.id for s in stores]


@pytest.mark.django_db
def test_key_drivers_give_what_the_row_by_row_implementation_gave(django_assert_num_queries):
    # Pinned from the row-by-row version the arrays replaced, interval (a 30-resample store
    # bootstrap) included: the same rows in the same order, so the same resamples.
    stores = pinned_chain(random.Random(11))

    with django_assert_num_queries(3):  # the categories, the scores, the KPI readings
        analysis = key_drivers(stores, end=THIS_WEEK, horizon=1, reps=30)

    assert (analysis.rows, analysis.stores, analysis.r_squared) == (161, 12, 0.864)
    assert [(d.category, d.importance, d.low, d.high) for d in analysis.drivers] == [
        ("customer_satisfaction", 78.2, 67.9, 81.0),
        ("brand_loyalty", 18.0, 12.6, 21.4),
        ("team_engagement", 2.3, 0.1, 10.7),
        ("customer_advocacy", 0.6, 0.1, 2.1),
        ("promotions_roi", 0.6, 0.1, 4.4),
        ("team_retention", 0.2, 0.1, 1.7),
        ("community_engagement", 0.0, 0.0, 3.1),
        ("manager_empowerment", 0.0, 0.1, 1.1),
    ]
    later = key_drivers(stores, end=THIS_WEEK, horizon=4, reps=0)
    assert (later.rows, later.r_squared) == (134, 0.281)
    assert [(d.category, d.importance) for d in later.drivers] == [
        ("customer_satisfaction", 59.8), ("brand_loyalty", 28.0), ("team_engagement", 6.4),
        ("customer_advocacy", 4.0), ("team_retention", 0.7), ("community_engagement", 0.6),
        ("manager_empowerment", 0.3), ("promotions_roi", 0.3),
    ]  # fmt: skip


@pytest.mark.django_db
def test_too_few_kpis_say_so():
    store = StoreFactory()
    analysis = key_drivers([store.id], end=THIS_WEEK)
    assert not analysis.enough and analysis.note.startswith("not enough data: 0 store-weeks")
    assert analysis.weights() == {}


@pytest.mark.django_db
def test_kpi_import_is_all_or_nothing_with_row_errors():
    store = StoreFactory(code="K1")
    week = week_label(weeks_back(THIS_WEEK, 1))
    good = f"store_code,week,kpi,value\nK1,{week},sales,1200.50\nK1,{week},transactions,310\n"

    dry = import_kpis(io.BytesIO(good.encode()), dry_run=True)
    assert (dry.ok, dry.created, KpiReading.objects.count()) == (True, 2, 0)
    done = import_kpis(io.BytesIO(good.encode()))
    assert (done.created, KpiReading.objects.count()) == (2, 2)
    again = import_kpis(io.BytesIO(good.replace("1200.50", "1300").encode()))
    assert (again.updated, again.unchanged) == (1, 1)

    bad = (
        f"store_code,week,kpi,value\nK1,{week},sales,999\nNOPE,{week},sales,1\n"
        f"K1,2999-W01,sales,1\nK1,{week},footfall,1\nK1,{week},transactions,-4\nK1,{week},sales,5\n"
    )
    refused = import_kpis(io.BytesIO(bad.encode()))
    assert [str(e) for e in refused.errors] == [
        "line 3: unknown store 'NOPE'",
        "line 4: week '2999-W01' is in the future",
        "line 5: unknown kpi 'footfall' (one of sales, transactions, staff_turnover)",
        "line 6: value '-4' must be a number from 0",
        "line 7: duplicate of line 2",
    ]
    assert KpiReading.objects.get(store=store, kpi="sales").value == 1300
    header = import_kpis(io.BytesIO(b"store,week\n"))
    assert str(header.errors[0]).startswith("line 1: expected the header")


@pytest.mark.django_db
def test_the_drivers_endpoint_computes_once_per_kpi_state_not_per_request(monkeypatch):
    from rest_framework.test import APIClient

    from scoring import drivers
    from scoring.models import Role
    from tests.factories import user_with_role

    computed = []
    real = drivers.key_drivers
    monkeypatch.setattr(drivers, "key_drivers", lambda *a, **k: computed.append(1) or real(*a, **k))
    client = APIClient()
    client.force_login(user_with_role(Role.TRAINER))
    for _ in range(5):
        assert client.get("/api/v1/drivers/").status_code == 200
    assert len(computed) == 1, "five requests, one analysis"
    store = StoreFactory()
    KpiReading.objects.create(store=store, week=THIS_WEEK, kpi="sales", value=1000)
    client.get("/api/v1/drivers/")
    assert len(computed) == 2, "a new KPI reading is a new analysis"
    client.get("/api/v1/drivers/?horizon=2")
    assert len(computed) == 3
