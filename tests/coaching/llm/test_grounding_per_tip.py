"""`grounding.check`, tip by tip: a number must be a figure of the tip's own category (a gap of
another category is refused by name), a claimed relation ("10.7 points below the region median")
must hold, and the text must read as advice: long enough, nothing repeated, no echo of the input
JSON, in English. And the playbook coach's plans pass all of it, for every category and
situation."""

import dataclasses
import datetime as dt
import random
from types import SimpleNamespace

import pytest

from coaching.llm import PLAYBOOK
from coaching.llm.base import FocusItem, GoalText, ModuleRef, PlanRequest
from coaching.llm.grounding import check
from coaching.llm.schemas import PlanOut, TipOut
from coaching.llm.text_checks import MAX_WHY, reads_as_english
from coaching.plans.focus import GoalTarget, rank_categories
from scoring.selectors import CategoryTrend

from .helpers import CATEGORIES

# Customer advocacy is 10.4 below its region median; team retention 10.7 below its own.
ADVOCACY = FocusItem(
    category="customer_advocacy",
    name="Customer advocacy",
    score=64.6,
    change=-9.4,
    region_median=75.0,
    chain_top_quartile=79.0,
    slope=-0.8,
    situation="declining",
    reason="Customer advocacy fell 9.4 points last week to 64.6, beyond this store's usual "
    "week-to-week movement of 2.1, the largest drop in the region.",
    goal_target=80.0,
    goal_due="20 Dec 2026",
)
RETENTION = FocusItem(
    category="team_retention",
    name="Team retention",
    score=53.1,
    change=0.4,
    region_median=63.8,
    chain_top_quartile=70.2,
    slope=0.1,
    situation="goal",
    reason="Your goal is 60.0 by 12 Dec 2026; Team retention is at 53.1 (6.9 points to go).",
    goal_target=60.0,
    goal_due="12 Dec 2026",
)
REQUEST = PlanRequest(
    manager_first_name="Alex",
    store_code="T0001",
    week="2026-W48",
    data_week="2026-W47",
    focus=(ADVOCACY, RETENTION),
    goals=(
        GoalText("customer_advocacy", 80.0, "2026-12-20", "More five star reviews"),
        GoalText("team_retention", 60.0, "2026-12-12", "Keep my best 4 people through Christmas"),
    ),
    modules=(
        ModuleRef("detractors", "Winning back detractors", "Call them within a day", "customer_advocacy"),
        ModuleRef("stay-talks", "Stay conversations", "Ask what keeps people", "team_retention"),
    ),
)  # fmt: skip
ADVOCACY_TIP = TipOut(
    category="customer_advocacy",
    title="Follow up with every detractor",
    why=ADVOCACY.reason,
    steps=[
        "Call every detractor from yesterday before noon.",
        "Log the reason and raise the ones that repeat at the huddle.",
    ],
    module_slug="detractors",
)
STEPS = [
    "Hold a stay conversation with your two most experienced people.",
    "Ask each of them what would make them stay another year.",
]


def retention_problems(why: str, **fields) -> list[str]:
    """The problems of a plan whose advocacy tip is fine and whose team retention tip (tip 2)
    says `why`."""
    values = {
        "category": "team_retention",
        "title": "Hold stay conversations this week",
        "why": why,
        "steps": STEPS,
        "module_slug": "stay-talks",
    }
    return check(PlanOut(tips=[ADVOCACY_TIP, TipOut(**values | fields)]), REQUEST)


def retention_tip() -> list[TipOut]:
    return [
        TipOut(
            category="team_retention",
            title="Hold stay conversations this week",
            why=RETENTION.reason,
            steps=STEPS,
            module_slug="stay-talks",
        )
    ]


# --- grounding per tip ---------------------------------------------------------------------------


def test_another_categorys_gap_is_refused_naming_its_category():
    why = "Team retention is 53.1, 10.4 points below the region median at 63.8."
    assert retention_problems(why) == [
        "tip 2 (team_retention): 10.4 is not in this category's data "
        "(it is customer_advocacy's gap to the region median)"
    ]


@pytest.mark.parametrize(
    "why",
    [
        "Team retention is 53.1, 10.7 points below the region median at 63.8.",
        "Team retention is 53, 11 points below the regional median, and it needs you.",
        "Team retention is 53.1, 17.1 points short of the chain's top quarter at 70.2.",
        "Your goal is 60.0 by 12 Dec 2026; team retention is at 53.1 (6.9 points to go).",
        "Team retention is 53.1, 6.9 points short of your goal of 60 by 12 Dec.",
        "In 2026-W47 team retention was 53.1; this is week 48, so keep going with it.",
        "You want to keep your best 4 people, and team retention is 53.1 right now.",
    ],
)
def test_the_tips_own_figures_gaps_goal_and_weeks_pass(why):
    assert retention_problems(why) == []


@pytest.mark.parametrize(
    ("why", "problem"),
    [
        (
            "Team retention is 53.1, and the region median at 75.0 is well ahead of us.",
            "75.0 is not in this category's data (it is customer_advocacy's region median)",
        ),
        (
            "Your goal is 80.0 by 12 Dec 2026; team retention is at 53.1 and needs work.",
            "80.0 is not in this category's data (it is customer_advocacy's goal target)",
        ),
        (
            "Team retention is 53.1, 9.4 points behind where it should be, so act now.",
            "9.4 is not in this category's data (it is customer_advocacy's change)",
        ),
        (
            "Team retention is 53.1 and moves about 2.1 points in a usual week, so act now.",
            "2.1 is not in this category's data (it is in customer_advocacy's focus reason)",
        ),
        # A figure of this category, but not the one the relation names.
        (
            "Team retention is 53.1, 17.1 points short of the goal you set, so act now.",
            "17.1 points short of the goal, but the gap is 6.9",
        ),
        (
            "Team retention is 53.1, with the region median at 53.1 and rising further.",
            "the region median is 63.8, not 53.1",
        ),
        (
            "Team retention is 53.1, 10.7 points above the region median at 63.8.",
            "10.7 points above the region median, but 53.1 is below 63.8",
        ),
    ],
)
def test_a_figure_or_relation_of_another_category_is_refused(why, problem):
    assert retention_problems(why) == [f"tip 2 (team_retention): {problem}"]


def test_a_date_other_than_the_goals_due_date_is_no_figure_of_the_data():
    assert retention_problems(
        "Your goal is 60 by 13 Dec; team retention is 53.1 and slipping."
    ) == ["tip 2: numbers not in the data: 13"]


def test_a_figure_of_the_tips_own_data_must_still_be_the_gap_it_claims_to_be():
    # 2.1 is in advocacy's reason (its usual week-to-week movement), not its gap to the median.
    request = dataclasses.replace(REQUEST, focus=(ADVOCACY,))
    tip = ADVOCACY_TIP.model_copy(
        update={"why": f"{ADVOCACY.reason} It is 2.1 points below the region median."}
    )
    assert check(PlanOut(tips=[tip]), request) == [
        "tip 1 (customer_advocacy): 2.1 points below the region median, but the gap is 10.4"
    ]
    no_goal = dataclasses.replace(
        request, focus=(dataclasses.replace(ADVOCACY, goal_target=None, goal_due=None),), goals=()
    )
    tip = ADVOCACY_TIP.model_copy(
        update={"why": f"{ADVOCACY.reason} It is 10.4 points short of the goal you set."}
    )
    assert check(PlanOut(tips=[tip]), no_goal) == [
        "tip 1 (customer_advocacy): there is no goal for this category"
    ]


def test_steps_may_count_but_their_points_must_be_the_tips_own():
    assert (
        retention_problems(
            "Team retention sits at 53.1 and needs attention this week.",
            steps=["Win back 7 points by Friday with the team.", "Ask 3 people what keeps them."],
        )
        == []
    )
    assert retention_problems(
        "Team retention sits at 53.1 and needs attention this week.",
        steps=["Win back 9.4 points by Friday with the team.", "Ask 3 people what keeps them."],
    ) == [
        "tip 2 (team_retention): 9.4 is not in this category's data "
        "(it is customer_advocacy's change)"
    ]


# --- the text ------------------------------------------------------------------------------------


def test_a_nonsense_plan_is_refused_for_its_lengths_and_words():
    nonsense = TipOut(
        category="customer_advocacy",
        title="Sell your brand in 2026",
        why="Buy",
        steps=["Sell 5-10 brands"],
        module_slug=None,
    )
    assert check(PlanOut(tips=[nonsense, *retention_tip()]), REQUEST) == [
        "tip 1: why must be 40-320 characters, got 3",
        "tip 1: 2-4 steps, got 1",
        "tip 1: step 1 needs at least 3 words",
    ]
    nonsense.steps.insert(0, "Buy")
    assert check(PlanOut(tips=[nonsense, *retention_tip()]), REQUEST) == [
        "tip 1: why must be 40-320 characters, got 3",
        "tip 1: step 1 must be 15-240 characters, got 3",
        "tip 1: step 2 needs at least 3 words",
        "tip 1: step 1 repeats the why",
    ]


def test_repeated_steps_title_and_why_are_refused():
    again = [
        "Ask three customers at the till how it went.",
        "ask three  customers at the till how it went",
    ]
    assert retention_problems(RETENTION.reason, steps=again) == ["tip 2: step 2 repeats step 1"]
    reordered = [STEPS[0], "At the till, ask three customers how it went.", "How it went: ask three customers at the till!"]  # fmt: skip
    assert retention_problems(RETENTION.reason, steps=reordered) == ["tip 2: step 3 repeats step 2"]
    assert retention_problems(RETENTION.reason, title=STEPS[1].upper()) == [
        "tip 2: step 2 repeats the title"
    ]
    assert retention_problems(RETENTION.reason, steps=[STEPS[0], RETENTION.reason]) == [
        "tip 2: step 2 repeats the why"
    ]


@pytest.mark.parametrize(
    ("fields", "part"),
    [
        ({"why": 'Team retention is {"score": 53.1, "goal_target": 60.0}, so act now.'}, "why"),
        ({"why": "Your region_median is 63.8 and team retention is at 53.1 right now."}, "why"),
        ({"title": "Raise chain_top_quartile retention"}, "title"),
        ({"steps": [STEPS[0], "Tell <manager_goal>Alex</manager_goal> to keep going."]}, "step 2"),
        ({"steps": [STEPS[0], "Say hi to manager_first_name at the huddle each day."]}, "step 2"),
    ],
)
def test_an_echo_of_the_input_json_is_refused(fields, part):
    fields = dict(fields)
    why = fields.pop("why", RETENTION.reason)
    assert retention_problems(why, **fields) == [
        f"tip 2: {part} echoes the input data; write plain advice"
    ]


@pytest.mark.parametrize(
    "text",
    [
        "La fidélité des équipes est à 53.1; parlez avec vos meilleurs vendeurs cette semaine.",
        "Xkq zzv plorb fnarg blit wug sna fu grol pik wemp dorf klim zub narp.",
    ],
)
def test_a_why_and_steps_not_in_english_are_refused(text):
    steps = ["Parlez avec chaque vendeur demain matin.", "Demandez-leur ce qui les ferait rester."]
    assert not reads_as_english(" ".join([text, *steps]))
    assert retention_problems(text, steps=steps) == [
        "tip 2: why and steps must be written in plain English"
    ]


# --- the playbook's plans pass, whatever the category and situation ------------------------------

SITUATIONS = {  # how the focus rules are led to each situation: shape -> situation
    "dropped": "declining",
    "dropped_goal": "declining",
    "sliding": "declining",
    "goal": "goal",
    "goal_met": "goal",
    "low": "low",
    "steady": "steady",
}
OTHER_SHAPES = ["dropped", "sliding", "goal", "goal_met", "low"]
STORES = ("T0001", "S0042")
WEEKS = (dt.date(2026, 11, 23), dt.date(2027, 1, 4), dt.date(2026, 6, 1))


def _trend(code: str, score: float, rng: random.Random, **values) -> CategoryTrend:
    name = "Promotions ROI" if code == "promotions_roi" else code.replace("_", " ").capitalize()
    values = {
        "change": 0.3,
        "slope": 0.1,
        "significant": False,
        "region_median": round(score - rng.uniform(0, 5), 1),
        "chain_top_quartile": round(score + rng.uniform(0, 3), 1),
    } | values
    return CategoryTrend(
        category=SimpleNamespace(code=code, name=name, display_order=CATEGORIES.index(code)),
        week=dt.date(2026, 11, 16), score=score, responses=30, low_confidence=False,
        moving_average=score, noise=round(rng.uniform(0.5, 3.0), 1), region_percentile=50.0,
        chain_percentile=50.0, chain_median=None, **values,
    )  # fmt: skip


def _shaped(code: str, shape: str, rng: random.Random) -> tuple[CategoryTrend, GoalTarget | None]:
    """A trend (and a goal) that make `code` a focus in the situation `shape` leads to."""
    score = round(rng.uniform(80, 94) if shape == "steady" else rng.uniform(30, 88), 1)
    r = lambda low, high: round(rng.uniform(low, high), 1)  # noqa: E731
    drop = {"change": -r(4, 20), "slope": -r(0, 2), "significant": True}
    if shape in ("goal", "goal_met", "dropped_goal"):
        target = score - r(0, 3) if shape == "goal_met" else score + r(3, 15)
        due = dt.date(2026, rng.randint(1, 12), rng.randint(1, 28)).strftime("%d %b %Y")
        trend = _trend(code, score, rng, **(drop if shape == "dropped_goal" else {}))
        return trend, GoalTarget(code, round(target, 1), due)
    shapes = {
        "dropped": drop,
        "sliding": {"change": -r(0, 2), "slope": -r(1.5, 4), "region_median": score},
        "low": {"region_median": score + r(2, 25), "chain_top_quartile": score + r(5, 30)},
        "steady": {"change": 0.2, "slope": 0.0, "chain_top_quartile": score - 1},
    }
    values = shapes[shape] | ({"chain_top_quartile": score} if shape == "sliding" else {})
    return _trend(code, score, rng, **values), None


def realistic_request(code: str, shape: str, store: str, week: dt.date, rng: random.Random):
    """A request built the way `batch.build_request` builds one, from the focus rules, with
    `code` in `shape` and (but for steady) two other categories in random shapes."""
    others = [] if shape == "steady" else rng.sample([c for c in CATEGORIES if c != code], 2)
    trends, goals = [], {}
    for c in CATEGORIES:
        if c == code or c in others:
            trend, goal = _shaped(c, shape if c == code else rng.choice(OTHER_SHAPES), rng)
            goals |= {c: goal} if goal else {}
        else:  # high and flat: never a focus on its own
            trend = _trend(c, 96.0, rng, change=0.1, slope=0.0)
        trends.append(trend)
    drops = {c: rng.uniform(3, 12) for c in CATEGORIES} if rng.random() < 0.5 else None
    focus = rank_categories(trends, goals=goals, region_drops=drops)

    def label(day: dt.date) -> str:
        year, number, _ = day.isocalendar()
        return f"{year}-W{number:02d}"

    request = PlanRequest(
        manager_first_name="Sam", store_code=store, week=label(week),
        data_week=label(week - dt.timedelta(days=7)),
        focus=tuple(
            FocusItem(
                category=f.trend.category.code, name=f.trend.category.name, score=f.trend.score,
                change=f.trend.change, region_median=f.trend.region_median,
                chain_top_quartile=f.trend.chain_top_quartile, slope=f.trend.slope,
                situation=f.situation, reason=f.reason,
                goal_target=f.goal.target if f.goal else None,
                goal_due=f.goal.due if f.goal else None,
            )
            for f in focus
        ),
        goals=tuple(
            GoalText(c, g.target, dt.datetime.strptime(g.due, "%d %b %Y").date().isoformat(),
                     "Get 3 more regulars a week to recommend us")
            for c, g in goals.items()
        ),
        modules=tuple(
            ModuleRef(f"{f.trend.category.code}-basics", "The basics", "Five habits that work",
                      f.trend.category.code)
            for f in focus
        ),
    )  # fmt: skip
    return request


@pytest.mark.parametrize("shape", list(SITUATIONS))
@pytest.mark.parametrize("code", CATEGORIES)
def test_the_playbooks_plans_pass_every_check(code, shape):
    checked = 0
    for store in STORES:
        for week in WEEKS:
            rng = random.Random(f"{code}|{shape}|{store}|{week}")
            for _ in range(3):
                request = realistic_request(code, shape, store, week, rng)
                situations = {item.category: item.situation for item in request.focus}
                assert situations.get(code) == SITUATIONS[shape]
                plan = PLAYBOOK.weekly_plan(request, calls=[]).out
                assert check(plan, request) == [], (request, plan)
                checked += 1
    assert checked == len(STORES) * len(WEEKS) * 3


def test_a_playbook_why_fits_when_a_drop_meets_a_goal():
    # The reason alone is about 230 characters then: what to watch moves into the steps.
    whys = [
        tip.why
        for code in CATEGORIES
        for seed in range(10)
        for tip in PLAYBOOK.weekly_plan(
            realistic_request(code, "dropped_goal", "T0001", WEEKS[0], random.Random(seed)),
            calls=[],
        ).out.tips
    ]
    assert max(map(len, whys)) <= MAX_WHY
    assert any("What to watch" not in why for why in whys), "the long case was reached"
