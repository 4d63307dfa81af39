"""Demo content for coaching: the published training modules and a few managers' goals."""

import datetime as dt
import random
from pathlib import Path

import yaml
from django.contrib.auth import get_user_model
from django.db import transaction

from scoring.demo import coaching_history
from scoring.models import Category, CategoryScore, Role, Store
from scoring.selectors import latest_scored_week, store_trends
from scoring.weeks import week_label, weeks_back

from .goals.services import create_goal
from .llm.playbook import choose_practice
from .models import (
    CoachingTip,
    Goal,
    ModuleCompletion,
    ModuleVersion,
    TrainingModule,
    WeeklyPlan,
)
from .modules.services import publish_snapshot, validate_quiz

MODULES = Path(__file__).parent / "demo_modules"


def read_module_file(path: Path) -> dict:
    _, front, body = path.read_text(encoding="utf-8").split("---\n", 2)
    meta = yaml.safe_load(front)
    meta["body"] = body.strip() + "\n"
    return meta


@transaction.atomic
def load_demo_modules() -> int:
    """Publishes the demo modules; loading them again publishes a new version only of those whose
    file changed."""
    categories = dict(Category.objects.values_list("code", "id"))
    originals: dict[str, int] = {}
    count = 0
    # The English originals first, then their language versions (demo_modules/fr, es, ...).
    paths = sorted(MODULES.glob("*.md")) + sorted(MODULES.glob("*/*.md"))
    for path in paths:
        meta = read_module_file(path)
        secondary = meta.get("secondary_category")
        module, _ = TrainingModule.objects.update_or_create(
            slug=meta["slug"],
            defaults={
                "language": meta.get("language", "en"),
                "translation_of_id": originals.get(meta.get("translation_of", "")),
                "title": meta["title"],
                "category_id": categories[meta["category"]],
                "secondary_category_id": categories[secondary] if secondary else None,
                "summary": meta["summary"],
                "body": meta["body"],
                "minutes": meta["minutes"],
                "level": meta.get("level", TrainingModule.Level.FOUNDATION),
                "quiz": validate_quiz(meta["quiz"]),
            },
        )
        publish_snapshot(module)
        originals[module.slug] = module.id
        count += 1
    return count


DEMO_GOALS = [
    # (store code, category, points above today's score, weeks to due, the manager's words)
    ("S001", "customer_advocacy", 6, 6, "Get advocacy up before the holiday season."),
    ("S002", "team_retention", 10, 8, "Stop losing weekend staff; keep the team together."),
    ("S004", "customer_satisfaction", 8, 5, "Quicker checkout at lunchtime."),
    ("S005", "brand_loyalty", 12, 10, "More regulars coming back every week."),
    ("S007", "team_engagement", 7, 6, "A team that enjoys the Saturday rush."),
]


@transaction.atomic
def create_demo_goals() -> int:
    User = get_user_model()
    week = latest_scored_week()
    if week is None:
        return 0
    created = 0
    for code, category, lift, weeks, intent in DEMO_GOALS:
        manager = User.objects.filter(
            profile__role=Role.STORE_MANAGER, profile__stores__code=code
        ).first()
        if manager is None:
            continue
        store = manager.profile.stores.get(code=code)
        if Goal.objects.filter(manager=manager, store=store, category__code=category).exists():
            continue
        current = next(
            (t.score for t in store_trends(store, week) if t.category.code == category), None
        )
        create_goal(
            manager=manager,
            store=store,
            category=Category.objects.get(code=category),
            target_score=min(95.0, round((current or 60.0) + lift)),
            due_date=week + dt.timedelta(weeks=weeks),
            intent=intent,
        )
        created += 1
    return created


@transaction.atomic
def create_demo_history(*, seed: int = 1) -> int:
    """Past weekly plans for the demo chain, one focus category each, from the same schedule that
    gave the demo's scores their coaching lift (`scoring.demo.coaching_history`): tips marked done
    where the lift was applied, so tracking and the impact estimate have something to show."""
    stores = {
        s.code: s
        for s in Store.objects.filter(code__regex=r"^S[0-9]{3}$").prefetch_related("managers__user")
    }
    weeks = sorted(
        set(CategoryScore.objects.filter(store__in=stores.values()).values_list("week", flat=True))
    )
    if not stores or not weeks:
        return 0
    categories = {c.code: c for c in Category.objects.filter(active=True)}
    modules, versions = {}, {}
    # The originals: a past tip links the module its manager's coach would have picked, and a
    # language version sorting first would hand an English manager a Spanish title.
    published = TrainingModule.objects.filter(status=TrainingModule.Status.PUBLISHED)
    for module in published.filter(translation_of__isnull=True):
        modules.setdefault(module.category_id, module)
    for version in ModuleVersion.objects.order_by("module", "-version"):
        versions.setdefault(version.module_id, version)
    rng = random.Random(seed)  # noqa: S311 - demo data
    created = 0
    for event in coaching_history(stores=len(stores), weeks=weeks, seed=seed):
        store = stores[event.store_code]
        profile = next(iter(store.managers.all()), None)
        if profile is None:
            continue
        plan, new = WeeklyPlan.objects.get_or_create(
            manager=profile.user,
            store=store,
            week=event.week,
            defaults={
                "data_week": weeks_back(event.week, 1),
                "status": WeeklyPlan.Status.READY,
                "provider": "playbook",
                "model": "playbook",
                "prompt_version": "playbook.v1",
                "focus": [{"category": event.category, "priority": 1.0, "reason": "demo history"}],
                "read_at": _at(event.week, 1),
                "emailed_at": _at(event.week, 0),
            },
        )
        if not new:
            continue
        category = categories[event.category]
        practice = choose_practice(
            event.category, "low", week=week_label(event.week), store=store.code, recent=()
        )
        CoachingTip.objects.create(
            plan=plan,
            category=category,
            order=1,
            title=practice.title,
            why=f"{category.name} was this week's focus (demo history).",
            steps=list(practice.steps[:4]),
            module=modules.get(category.id),
            practice_key=practice.key,
            done_at=_at(event.week, 3) if event.tips_done else None,
            helpful=(rng.random() < 0.75) if event.tips_done else None,
        )
        module = modules.get(category.id)
        if event.tips_done and module and module.id in versions and rng.random() < 0.5:
            _complete(profile.user, store, versions[module.id], _at(event.week, 5), rng)
        created += 1
    return created


def _complete(manager, store, version: ModuleVersion, at: dt.datetime, rng) -> None:
    answers = [q["answer"] if rng.random() < 0.8 else (q["answer"] + 1) % 4 for q in version.quiz]
    right = sum(a == q["answer"] for a, q in zip(answers, version.quiz, strict=True))
    score = round(100 * right / len(version.quiz))
    completion, new = ModuleCompletion.objects.get_or_create(
        manager=manager,
        version=version,
        defaults={
            "module_id": version.module_id,
            "store": store,
            "answers": answers,
            "score": score,
            "best_score": score,
        },
    )
    if new:  # completed_at is set on creation; the demo dates it in the past
        ModuleCompletion.objects.filter(pk=completion.pk).update(completed_at=at)


def _at(week: dt.date, days: int) -> dt.datetime:
    return dt.datetime.combine(week + dt.timedelta(days=days), dt.time(10), tzinfo=dt.UTC)
