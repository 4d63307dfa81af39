"""A believable demo chain: regions, stores with distinct trajectories, people for every role,
and the questionnaire answers and metric readings that produce its scores.

Deterministic for a given seed and idempotent: running it again rebuilds the same data.
"""

import datetime as dt
import random
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from .metrics import METRICS
from .models import (
    Answer,
    Category,
    CategoryScore,
    Kpi,
    KpiReading,
    MetricReading,
    Question,
    Region,
    Role,
    Store,
    Submission,
)
from .services import MetricInput, assign_role, recompute_questionnaire_scores, record_metrics
from .weeks import week_start, weeks_back

DEMO_PASSWORD = "ror-demo-2026"  # noqa: S105 - printed for the demo on purpose

REGIONS = [
    ("north", "North", "Europe/London"),
    ("south", "South", "Europe/London"),
    ("west", "West", "Europe/Dublin"),
]
TOWNS = [
    "Leeds", "Brighton", "Galway", "York", "Bath", "Cork", "Durham", "Exeter", "Limerick",
    "Hull", "Oxford", "Sligo", "Carlisle", "Canterbury", "Kilkenny", "Lancaster", "Winchester",
    "Athlone", "Sheffield", "Salisbury", "Ennis", "Harrogate", "Truro", "Tralee", "Bradford",
    "Chichester", "Wexford", "Whitby", "Poole", "Dundalk",
]  # fmt: skip
# A chain across language borders: these stores (when the demo has them) are French and Spanish,
# so their managers read pages, emails and coaching in their store's language.
ABROAD = {"S023": ("Lille", "Europe/Paris", "fr"), "S024": ("Bilbao", "Europe/Madrid", "es")}
FIRST_NAMES = [
    "Aisha", "Ben", "Chloe", "Dev", "Erin", "Farid", "Grace", "Hugo", "Isla", "Jon", "Kemi",
    "Liam", "Maya", "Niall", "Olu", "Priya", "Quinn", "Rosa", "Sam", "Tariq", "Uma", "Vik",
    "Wren", "Yusuf", "Zoe",
]  # fmt: skip
# Each store follows one of these stories; the last one has a single category collapsing.
TRAJECTORIES = ["improving", "declining", "noisy", "steady", "collapsing", "improving", "steady"]
COLLAPSE_WEEKS = 4
# Past coaching in the demo: one category coached every few weeks per store; where the manager did
# the tips, the category gains this many points from the coaching week on. docs/impact.md shows the
# estimate recovering it.
DEMO_COACHING_EFFECT = 3.0
HISTORY_EVERY = 6  # weeks between coaching events of one store


@dataclass(frozen=True)
class HistoryEvent:
    store_code: str
    category: str
    week: dt.date
    tips_done: bool


def coaching_history(*, stores: int, weeks: list[dt.date], seed: int) -> list[HistoryEvent]:
    """The demo's past coaching, the same for the same arguments (its own random stream)."""
    rng = random.Random(seed * 7919)
    codes = list(Category.objects.filter(active=True).values_list("code", flat=True))
    events = []
    for index in range(stores):
        for start in range(4, len(weeks) - HISTORY_EVERY, HISTORY_EVERY):
            week = weeks[start + rng.randrange(HISTORY_EVERY - 2)]
            events.append(
                HistoryEvent(f"S{index + 1:03d}", rng.choice(codes), week, rng.random() < 0.65)
            )
    return events


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    scope: str


@dataclass(frozen=True)
class DemoSummary:
    stores: int
    weeks: int
    first_week: dt.date
    last_week: dt.date
    submissions: int
    answers: int
    metric_readings: int
    scores: int
    logins: list[DemoLogin]


@transaction.atomic
def build_demo(*, stores: int = 24, weeks: int = 26, seed: int = 1) -> DemoSummary:
    rng = random.Random(seed)
    last_week = weeks_back(week_start(timezone.localdate()), 1)  # the last complete week
    all_weeks = [weeks_back(last_week, i) for i in reversed(range(weeks))]

    regions = [
        Region.objects.update_or_create(code=code, defaults={"name": name})[0]
        for code, name, _ in REGIONS
    ]
    demo_stores = []
    for index in range(stores):
        tz = REGIONS[index % len(REGIONS)][2]
        region = regions[index % len(REGIONS)]
        code = f"S{index + 1:03d}"
        name, tz, language = ABROAD.get(code, (TOWNS[index % len(TOWNS)], tz, "en"))
        store, _ = Store.objects.update_or_create(
            code=code,
            defaults={"name": name, "region": region, "timezone": tz, "language": language},
        )
        demo_stores.append(store)

    logins = _people(regions, demo_stores)
    _clear(demo_stores)
    categories = list(Category.objects.filter(active=True))
    # The survey the demo plays back is the 1-5 one; the 0-10 question is the pulse's.
    questions = list(Question.objects.filter(active=True, scale=5))
    lifts: dict[tuple[str, str], list[dt.date]] = {}
    for event in coaching_history(stores=stores, weeks=all_weeks, seed=seed):
        if event.tips_done:
            lifts.setdefault((event.store_code, event.category), []).append(event.week)
    kpis: list[KpiReading] = []
    submissions, answers, readings = _scores(
        rng, demo_stores, all_weeks, categories, questions, lifts, kpis, seed
    )
    KpiReading.objects.bulk_create(kpis, batch_size=2000)
    recompute_questionnaire_scores(store_ids=[s.id for s in demo_stores], weeks=all_weeks)
    record_metrics(readings)
    return DemoSummary(
        stores=len(demo_stores),
        weeks=weeks,
        first_week=all_weeks[0],
        last_week=last_week,
        submissions=submissions,
        answers=answers,
        metric_readings=len(readings),
        scores=CategoryScore.objects.filter(store__in=demo_stores).count(),
        logins=logins,
    )


def _people(regions: list[Region], stores: list[Store]) -> list[DemoLogin]:
    User = get_user_model()
    password = make_password(DEMO_PASSWORD)  # hash once: the hasher is slow by design

    def user(username: str, first_name: str, **extra) -> object:
        person, _ = User.objects.update_or_create(
            username=username,
            defaults={
                "first_name": first_name,
                "email": f"{username}@demo.invalid",
                "password": password,
                **extra,
            },
        )
        return person

    logins = []
    admin = user("admin", "Alex", is_staff=True, is_superuser=True)
    assign_role(admin, Role.ADMIN)
    logins.append(DemoLogin("admin", Role.ADMIN, "the whole chain"))
    trainer = user("trainer", "Tess")
    assign_role(trainer, Role.TRAINER)
    logins.append(DemoLogin("trainer", Role.TRAINER, "training modules"))
    for region in regions:
        lead = user(f"lead.{region.code}", f"{region.name} lead")
        assign_role(lead, Role.REGIONAL_LEAD, regions=[region])
        logins.append(DemoLogin(lead.username, Role.REGIONAL_LEAD, f"{region.name} region"))
    for index, store in enumerate(stores):
        manager = user(f"manager.{store.code.lower()}", FIRST_NAMES[index % len(FIRST_NAMES)])
        assign_role(manager, Role.STORE_MANAGER, stores=[store])
        logins.append(DemoLogin(manager.username, Role.STORE_MANAGER, f"{store.code} {store.name}"))
    return logins


def _clear(stores: list[Store]) -> None:
    Answer.objects.filter(submission__store__in=stores).delete()
    Submission.objects.filter(store__in=stores).delete()
    MetricReading.objects.filter(store__in=stores).delete()
    CategoryScore.objects.filter(store__in=stores).delete()
    KpiReading.objects.filter(store__in=stores).delete()


def _target(rng: random.Random, kind: str, base: float, week: int, weeks: int, falls: bool):
    """The score a store 'really' has in a category in a given week, before sampling noise."""
    progress = week / max(weeks - 1, 1)
    drift = {"improving": 14, "declining": -12, "noisy": 0, "steady": 2, "collapsing": 1}[kind]
    jitter = rng.gauss(0, 7 if kind == "noisy" else 1.5)
    value = base + drift * progress + jitter
    if falls and week >= weeks - COLLAPSE_WEEKS:
        value -= 9 * (week - (weeks - COLLAPSE_WEEKS) + 1)
    return min(97.0, max(5.0, value))


def _scores(rng, stores, weeks, categories, questions, lifts, kpis, seed):
    by_category = {c.id: [q for q in questions if q.category_id == c.id] for c in categories}
    submissions = answers = 0
    readings: list[MetricInput] = []
    metrics_of = {c.code: [m for m in METRICS.values() if m.category == c.code] for c in categories}
    kpi_rng = random.Random(seed * 31)
    for index, store in enumerate(stores):
        kind = TRAJECTORIES[index % len(TRAJECTORIES)]
        sales = kpi_rng.uniform(8_000, 20_000)
        bases = {c.id: rng.uniform(48, 82) for c in categories}
        falling = rng.choice(categories).id if kind == "collapsing" else None
        store_subs: list[Submission] = []
        store_answers: list[list[Answer]] = []
        for number, week in enumerate(weeks):
            targets = {
                c.id: min(
                    97.0,
                    _target(rng, kind, bases[c.id], number, len(weeks), c.id == falling)
                    + DEMO_COACHING_EFFECT
                    * sum(week >= start for start in lifts.get((store.code, c.code), ())),
                )
                for c in categories
            }
            kpis.append(KpiReading(store=store, week=week, kpi=Kpi.SALES, value=round(sales, 2)))
            sales *= 1 + _sales_growth(kpi_rng, {c.code: targets[c.id] for c in categories})
            # Small stores sometimes get too few responses: those weeks are low confidence.
            respondents = (
                rng.randint(2, 4) if kind == "noisy" and number % 5 == 0 else rng.randint(6, 14)
            )
            for _ in range(respondents):
                store_subs.append(Submission(store=store, week=week))
                store_answers.append(
                    [
                        Answer(question=q, value=_answer(rng, targets[c.id]))
                        for c in categories
                        for q in by_category[c.id]
                    ]
                )
            for category in categories:
                for spec in metrics_of[category.code]:
                    readings.append(_reading(rng, store, week, spec, targets[category.id]))
        created = Submission.objects.bulk_create(store_subs, batch_size=2000)
        flat = []
        for submission, rows in zip(created, store_answers, strict=True):
            for answer in rows:
                answer.submission = submission
                flat.append(answer)
        Answer.objects.bulk_create(flat, batch_size=5000)
        submissions += len(created)
        answers += len(flat)
    return submissions, answers, readings


# Next week's sales follow this week's customer experience: what the driver analysis should find.
SALES_DRIVERS = {"customer_satisfaction": 0.5, "brand_loyalty": 0.3, "customer_advocacy": 0.1}


def _sales_growth(rng: random.Random, targets: dict[str, float]) -> float:
    pull = sum(w * (targets.get(code, 65) - 65) for code, w in SALES_DRIVERS.items())
    return (pull + rng.gauss(0, 2)) / 400


def _answer(rng: random.Random, target: float) -> int:
    """A 1-5 answer whose expected value sits near the target score."""
    centre = 1 + target / 100 * 4
    return min(5, max(1, round(rng.gauss(centre, 0.9))))


def _reading(rng, store, week, spec, target: float) -> MetricInput:
    share = target / 100 if spec.higher_is_better else 1 - target / 100
    value = spec.low + share * (spec.high - spec.low) + rng.gauss(0, (spec.high - spec.low) * 0.02)
    sample = None if spec.code in {"staff_turnover", "training_hours"} else rng.randint(25, 140)
    return MetricInput(
        store=store, week=week, metric=spec.code, value=round(value, 2), sample_size=sample
    )


DEMO_STORE_CODE = r"^S[0-9]{3}$"
DEMO_USERNAME = r"^(admin|trainer|lead\.[a-z]+|manager\.s[0-9]{3})$"


def non_demo_data() -> list[str]:
    """What in the database the demo did not make (a line each, a few examples), so rebuilding
    the demo, which resets `admin` and every demo login to the public password, would overwrite
    real data. Empty for a fresh database or one holding only the demo."""
    found = []
    checks = [
        ("regions", Region.objects.exclude(code__in=[code for code, _, _ in REGIONS]), "code"),
        ("stores", Store.objects.exclude(code__regex=DEMO_STORE_CODE), "code"),
        (
            "users",
            get_user_model()
            .objects.exclude(username__regex=DEMO_USERNAME, email__endswith="@demo.invalid")
            .order_by("pk"),
            "username",
        ),
    ]
    for label, rows, field in checks:
        examples = list(rows.values_list(field, flat=True)[:3])
        if examples:
            found.append(f"{label} not from the demo, e.g. {', '.join(examples)}")
    return found
