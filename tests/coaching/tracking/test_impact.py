"""The impact estimate on synthetic chains with a known effect: it finds what was injected, and
nothing when nothing was."""

import datetime as dt
import random

import pytest

from coaching.tracking.impact import Cell, CoachingEvent, event_effects, impact_report

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
