"""The impact estimate on synthetic chains with a known effect: it finds what was injected, and
nothing when nothing was."""

import datetime as dt
import random

import pytest

from coaching.tracking.impact import (
    Cell,
    CoachingEvent,
    Estimate,
    EventEffect,
    event_effects,
    impact_report,
)

START = dt.date(2026, 1, 5)  # a Monday
CATEGORIES = ["brand_loyalty", "customer_advocacy", "team_engagement", "team_retention"]


def chain(*, effect: float, only_when_done: bool = False, stores: int = 36, seed: int = 7):
    """Stores with their own level per category, a shock per region and week that hits every
    store of the region, and noise; a third of stores coached on a random category per 8 weeks.
    From its coaching week on, a coached category gains `effect` points (if its tips were done,
    when `only_when_done`)."""
    rng = random.Random(seed)
    weeks = [START + dt.timedelta(weeks=i) for i in range(40)]
    shocks = {(r, w): rng.gauss(0, 2.0) for r in range(3) for w in weeks}
    events, lift = [], {}
    for store in range(stores):
        for start in range(4, 34, 8):
            if rng.random() < 0.5:
                continue
            week = weeks[start + rng.randrange(4)]
            category = rng.choice(CATEGORIES)
            done = rng.random() < 0.6
            events.append(CoachingEvent(store, category, week, done))
            if not only_when_done or done:
                lift[(store, category)] = [*lift.get((store, category), []), week]
    cells = []
    for store in range(stores):
        region = store % 3
        trend = rng.uniform(-0.1, 0.1)
        for category in CATEGORIES:
            level = rng.uniform(55, 80)
            for i, week in enumerate(weeks):
                gained = effect * sum(week >= w for w in lift.get((store, category), []))
                score = level + trend * i + shocks[(region, week)] + rng.gauss(0, 1.5) + gained
                cells.append(Cell(store, region, category, week, score))
    return cells, events


def test_an_injected_effect_is_recovered_within_its_interval():
    cells, events = chain(effect=3.0)

    report = impact_report(cells, events)

    overall = report.overall
    assert overall.enough and overall.events >= 40
    assert overall.low > 0, "the interval excludes no effect"
    assert abs(overall.effect - 3.0) < 1.0


@pytest.mark.parametrize("effect", [0.0, 3.0])
def test_the_interval_covers_the_truth_at_its_stated_rate(effect):
    # A 90% interval should miss the injected effect about 2 times in 20 chains; 5 or more
    # misses would happen by chance less than 5% of the time.
    covered = 0
    for seed in range(20):
        cells, events = chain(effect=effect, seed=seed)
        overall = impact_report(cells, events, reps=300).overall
        covered += overall.low <= effect <= overall.high
    assert covered >= 16


def test_no_effect_is_found_when_none_was_injected():
    cells, events = chain(effect=0.0)

    overall = impact_report(cells, events).overall

    assert overall.enough
    assert overall.low <= 0.0 <= overall.high
    assert abs(overall.effect) < 1.0


def test_the_effect_of_done_tips_is_told_apart_from_undone_ones():
    cells, events = chain(effect=4.0, only_when_done=True, stores=48)

    report = impact_report(cells, events)

    assert abs(report.tips_done.effect - 4.0) < 1.0 and report.tips_done.low > 0
    assert abs(report.tips_not_done.effect) < 1.0
    assert set(report.by_category) <= set(CATEGORIES)
    assert sum(e.events for e in report.by_category.values()) == report.overall.events


def test_a_region_wide_swing_is_not_mistaken_for_coaching():
    # Every store of region 0 jumps 10 points in one week; only its coached categories are
    # "treated", but the controls jumped too, so the estimate stays near zero.
    cells, events = chain(effect=0.0)
    jump = START + dt.timedelta(weeks=20)
    cells = [
        Cell(
            c.store,
            c.region,
            c.category,
            c.week,
            c.score + (10 if c.region == 0 and c.week >= jump else 0),
        )
        for c in cells
    ]

    overall = impact_report(cells, events).overall

    assert overall.low <= 0.0 <= overall.high


@pytest.mark.parametrize("stores", [2, 6])
def test_too_little_data_says_so(stores):
    cells, events = chain(effect=3.0, stores=stores)

    overall = impact_report(cells, events, min_events=8, min_stores=4).overall

    if stores == 2:
        assert not overall.enough and overall.effect is None
        assert overall.note.startswith("not enough data: ")
    else:
        assert overall.enough or "not enough data" in overall.note


def test_events_without_before_after_data_or_controls_are_left_out():
    week = START + dt.timedelta(weeks=2)
    cells = [Cell(1, 0, "team_retention", START + dt.timedelta(weeks=i), 60.0) for i in range(6)]
    lonely = CoachingEvent(1, "team_retention", week, True)  # no other category, no other store
    assert event_effects(cells, [lonely]) == []
    no_history = CoachingEvent(1, "team_retention", START, True)
    assert event_effects(cells, [no_history]) == []


def test_the_estimate_is_deterministic():
    cells, events = chain(effect=2.0)
    assert impact_report(cells, events) == impact_report(cells, events)


def week(n: int) -> dt.date:
    return START + dt.timedelta(weeks=n)


def test_an_event_effect_is_its_change_minus_the_mean_of_its_two_control_means():
    # Store 1's category "a" is coached in week 2: before is weeks 0-1, after is weeks 2-5.
    series = {
        (1, 0, "a"): [60, 62, 66, 68, 70, 72],  # 69 after - 61 before = +8, the coached change
        (1, 0, "b"): [50, 50, 51, 51, 53, 53],  # same store, not coached: +2
        (2, 0, "a"): [70, 70, 90, 90, 90, 90],  # same category, but coached in week 5: no control
        (3, 0, "a"): [40, 42, 46, None, 46, 46],  # same category, one week unscored: +5
        (4, 1, "a"): [10, 10, 90, 90, 90, 90],  # another region: no control
    }
    cells = [
        Cell(store, region, category, week(i), float(score))
        for (store, region, category), scores in series.items()
        for i, score in enumerate(scores)
        if score is not None
    ]
    coached = CoachingEvent(1, "a", week(2), True)
    too_late = CoachingEvent(2, "a", week(5), False)  # one week after it: no change of its own

    [effect] = event_effects(cells, [coached, too_late])

    # Counterfactual: the mean of the same-store mean (+2) and the same-region mean (+5).
    assert effect == EventEffect(coached, change=8.0, counterfactual=3.5, effect=4.5)


def test_the_report_is_the_one_the_event_by_event_implementation_gave():
    # Pinned from the per-event loop the array version replaced (same data, same seed).
    cells, events = chain(effect=3.0)

    effects = event_effects(cells, events)
    report = impact_report(cells, events)

    assert len(effects) == 58
    assert sum(e.effect for e in effects) == pytest.approx(186.68991498149504, abs=1e-9)
    assert report.overall == Estimate(3.22, 2.96, 3.51, 0.9, events=58, stores=29)
    assert report.tips_done == Estimate(3.05, 2.72, 3.4, 0.9, events=34, stores=25)
    assert report.tips_not_done == Estimate(3.45, 2.88, 4.05, 0.9, events=24, stores=18)
    assert report.by_category["team_retention"] == Estimate(3.58, 3.06, 4.1, 0.9, 17, 14)
