"""A manager's training pages: the list with their results and what is recommended for them (in a
fixed number of queries), a quiz marked answer by answer with the pass mark, and retakes."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from coaching.models import CoachingTip, ModuleCompletion, WeeklyPlan
from coaching.modules import services as authoring
from scoring.models import Category
from scoring.weeks import week_start
from tests.coaching.modules.test_modules import quiz

pytestmark = pytest.mark.django_db


def published(trainer, title, category="customer_advocacy"):
    module = authoring.create_module(
        trainer,
        title=title,
        category=Category.objects.get(code=category),
        summary="Ask, listen, act.",
        body="## Why\n\nIt matters.",
        quiz=quiz(),
    )
    return authoring.publish_module(trainer, module)


def plan_for(manager, store, *, focus, tips):
    """This week's plan for the manager: `focus` category codes, `tips` (category, module)."""
    plan = WeeklyPlan.objects.create(
        manager=manager,
        store=store,
        week=week_start(timezone.localdate()),
        status=WeeklyPlan.Status.READY,
        focus=[{"category": code, "priority": 1, "reason": "low"} for code in focus],
    )
    for order, (code, module) in enumerate(tips):
        CoachingTip.objects.create(
            plan=plan,
            category=Category.objects.get(code=code),
            order=order,
            title=f"Tip {order}",
            why="Because.",
            steps=["Do it"],
            module=module,
        )
    return plan


@pytest.fixture
def manager_client(client, people):
    client.force_login(people["manager"])
    return client


def test_a_submitted_quiz_is_marked_answer_by_answer_with_the_pass_mark(manager_client, people):
    module = published(people["trainer"], "Closing the loop")
    # Answers of quiz(): 0, 1, 2. The second one is wrong.
    page = manager_client.post(f"/modules/{module.slug}/", {"q0": 0, "q1": 3, "q2": 2})
    html = page.content.decode()
    assert "You scored 67%." in html and "Not passed (pass mark 80%)" in html
    assert html.count("Your answer: ") == 3 and html.count("Right answer: ") == 3
    assert "Your answer: Delta" in html and "Right answer: Bravo" in html
    assert html.count('class="badge ok">Right<') == 2 and html.count(">Wrong<") == 1
    assert html.count("Because.") == 3  # each explanation
    assert "Take the quiz again" in html

    html = manager_client.post(f"/modules/{module.slug}/", {"q0": 0, "q1": 1, "q2": 2})
    html = html.content.decode()
    assert "You scored 100%." in html and "Passed (pass mark 80%)" in html
    assert "Attempt 2; your best score is 100%." in html


def test_the_pass_mark_setting_decides_passed(manager_client, people, settings):
    settings.MODULE_PASS_MARK = 60
    module = published(people["trainer"], "Closing the loop")
    html = manager_client.post(f"/modules/{module.slug}/", {"q0": 0, "q1": 3, "q2": 2})
    assert "Passed (pass mark 60%)" in html.content.decode()


def test_a_manager_retakes_a_quiz_and_the_one_completion_is_updated(manager_client, people):
    module = published(people["trainer"], "Closing the loop")
    manager_client.post(f"/modules/{module.slug}/", {"q0": 0, "q1": 1, "q2": 2})
    page = manager_client.get(f"/modules/{module.slug}/").content.decode()
    assert "You took this quiz once: 100% (best 100%)" in page
    assert "Submit answers again" in page
    manager_client.post(f"/modules/{module.slug}/", {"q0": 3, "q1": 3, "q2": 3})
    completion = ModuleCompletion.objects.get()
    assert (completion.score, completion.best_score, completion.attempts) == (0, 100, 2)
    page = manager_client.get(f"/modules/{module.slug}/").content.decode()
    assert "You took this quiz 2 times: latest 0%, best 100%" in page


def test_the_list_shows_results_and_what_is_recommended(manager_client, people):
    trainer, manager, store = people["trainer"], people["manager"], people["store"]
    done = published(trainer, "Closing the loop")
    tipped = published(trainer, "Greeting guests", category="customer_satisfaction")
    focused = published(trainer, "Keeping people", category="team_retention")
    other = published(trainer, "Unrelated", category="team_engagement")
    failed = published(trainer, "Half learnt", category="team_retention")
    authoring.complete_module(manager, done, [0, 1, 2])  # 100%
    authoring.complete_module(manager, failed, [0, 0, 0])  # 33%
    plan_for(manager, store, focus=["team_retention"], tips=[("customer_satisfaction", tipped)])

    html = manager_client.get("/modules/").content.decode()

    def entry(module):
        start = html.index(f'data-module="{module.slug}"')
        return html[start : html.index("</li>", start)]

    assert "Completed: 100%, passed" in entry(done) and "Recommended" not in entry(done)
    assert "Completed: 33%, not passed yet" in entry(failed) and "Recommended" in entry(failed)
    assert "Recommended" in entry(tipped) and "Completed" not in entry(tipped)
    assert "Recommended" in entry(focused)
    assert "Recommended" not in entry(other) and "Completed" not in entry(other)
    recommended = html[html.index('id="recommended"') : html.index("</section>")]
    assert "for your tip “Tip 0”" in recommended and "Greeting guests" in recommended
    assert "for your focus on" in recommended and "Unrelated" not in recommended


def test_a_done_tip_no_longer_recommends_its_module(manager_client, people):
    trainer, manager, store = people["trainer"], people["manager"], people["store"]
    tipped = published(trainer, "Greeting guests", category="customer_satisfaction")
    plan = plan_for(manager, store, focus=[], tips=[("customer_satisfaction", tipped)])
    assert 'id="recommended"' in manager_client.get("/modules/").content.decode()
    plan.tips.update(done_at=timezone.now())
    plan.focus = []
    plan.save()
    # The tip's category is still a focus of this week's plan; done, the tip no longer links it.
    html = manager_client.get("/modules/").content.decode()
    assert "for your tip" not in html


def test_the_list_runs_the_same_queries_for_few_or_many_modules_and_tips(manager_client, people):
    trainer, manager, store = people["trainer"], people["manager"], people["store"]

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert manager_client.get("/modules/").status_code == 200
        return len(queries)

    first = published(trainer, "Module 0")
    authoring.complete_module(manager, first, [0, 1, 2])
    plan_for(manager, store, focus=["customer_advocacy"], tips=[("customer_advocacy", first)])
    few = count()
    codes = ["team_retention", "customer_satisfaction", "team_engagement"]
    modules = [published(trainer, f"Module {n}", category=codes[n % 3]) for n in range(1, 9)]
    for module in modules[:4]:
        authoring.complete_module(manager, module, [0, 0, 0])
    WeeklyPlan.objects.all().delete()
    plan_for(manager, store, focus=codes, tips=[(codes[n % 3], m) for n, m in enumerate(modules)])
    assert count() == few
