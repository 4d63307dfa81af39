"""The trainer studio: write a module and its quiz, draft with AI, preview, publish."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from coaching.models import ModuleVersion, TrainingModule
from scoring.models import Category, Role
from tests.factories import StoreFactory, user_with_role

pytestmark = pytest.mark.django_db

QUIZ = [
    ("Which greeting works best?", ["A nod", "A smile and hello", "Nothing", "A sign"], 1),
    ("When do you follow up?", ["Never", "Within two days", "Next month", "Next year"], 1),
    ("Who owns the rota?", ["Nobody", "Head office", "The manager", "The customer"], 2),
]


def module_post(title="Greeting guests", body="## Why\n\nPeople come back.", quiz=QUIZ, **extra):
    category = Category.objects.get(code="customer_satisfaction")
    data = {
        "m-title": title,
        "m-category": category.pk,
        "m-secondary_category": "",
        "m-summary": "Say hello like you mean it.",
        "m-minutes": "15",
        "m-level": "foundation",
        "m-body": body,
        "quiz-TOTAL_FORMS": "3",
        "quiz-INITIAL_FORMS": "0",
    }
    for n in range(3):
        question, choices, answer = quiz[n] if n < len(quiz) else ("", ["", "", "", ""], 0)
        data[f"quiz-{n}-question"] = question
        for c, choice in enumerate(choices, start=1):
            data[f"quiz-{n}-choice_{c}"] = choice
        data[f"quiz-{n}-answer"] = str(answer)
        data[f"quiz-{n}-explanation"] = "Because it works." if question else ""
    return {**data, **extra}


@pytest.fixture
def trainer(client):
    user = user_with_role(Role.TRAINER)
    client.force_login(user)
    return user


def test_a_trainer_writes_a_module_with_its_quiz_and_publishes_it(client, trainer):
    response = client.post("/studio/new/", module_post())
    module = TrainingModule.objects.get(title="Greeting guests")
    assert response["Location"] == f"/studio/{module.pk}/"
    assert module.status == "draft" and len(module.quiz) == 3 and module.author == trainer
    assert module.quiz[2]["answer"] == 2

    client.post(f"/studio/{module.pk}/publish/")
    module.refresh_from_db()
    assert module.status == "published"
    assert ModuleVersion.objects.get(module=module).body.startswith("## Why")

    manager = user_with_role(Role.STORE_MANAGER, stores=[StoreFactory()])
    client.force_login(manager)
    page = client.get(f"/modules/{module.slug}/").content.decode()
    assert "<h2>Why</h2>" in page and "Which greeting works best?" in page


def test_a_form_error_keeps_what_the_trainer_typed(client, trainer):
    response = client.post("/studio/new/", module_post(title="", body="My **careful** draft"))
    assert response.status_code == 400
    page = response.content.decode()
    assert "My **careful** draft" in page and "Which greeting works best?" in page
    assert "<strong>careful</strong>" in page  # the preview works without JavaScript
    assert not TrainingModule.objects.exists()


def test_a_quiz_breaking_the_rules_is_refused_with_the_reason(client, trainer):
    two = module_post(quiz=QUIZ[:2])
    response = client.post("/studio/new/", two)
    assert response.status_code == 400
    assert "a quiz has 3-5 questions, not 2" in response.content.decode()
    same_choices = [*QUIZ[:2], ("Dup?", ["a", "a", "b", "c"], 0)]
    response = client.post("/studio/new/", module_post(quiz=same_choices))
    assert "question 3: 4 different, non-empty choices" in response.content.decode()


def test_publishing_without_a_quiz_shows_why_and_publishes_nothing(client, trainer):
    client.post("/studio/new/", module_post(quiz=[]))
    module = TrainingModule.objects.get()
    response = client.post(f"/studio/{module.pk}/publish/", follow=True)
    assert "a module needs its quiz before it is published" in response.content.decode()
    module.refresh_from_db()
    assert module.status == "draft" and not module.versions.exists()


def test_draft_with_ai_saves_a_draft_and_opens_it_in_the_editor(client, trainer):
    data = {
        "category": Category.objects.get(code="team_retention").pk,
        "objective": "Run stay interviews that keep good people",
        "minutes": "20",
    }
    response = client.post("/studio/draft/", data)
    module = TrainingModule.objects.get()
    assert response["Location"] == f"/studio/{module.pk}/"
    # No AI is configured in the tests: the draft says it comes from the template.
    assert module.template_draft and module.status == "draft" and len(module.quiz) >= 3
    followed = client.get(response["Location"]).content.decode()
    assert "No AI service is set up, so this draft comes from the built-in template" in followed
    assert module.category.code == "team_retention"

    response = client.post("/studio/draft/", {**data, "objective": ""})
    assert response.status_code == 400 and "This field is required" in response.content.decode()


def test_the_preview_is_sanitised(client, trainer):
    response = client.post("/studio/preview/", {"body": "**b** <script>alert(1)</script>"})
    assert response.status_code == 200
    assert "<strong>b</strong>" in response.content.decode()
    assert "<script" not in response.content.decode()
    too_long = client.post("/studio/preview/", {"body": "x" * 50_001})
    assert too_long.status_code == 400


def test_an_archived_module_is_read_only(client, trainer):
    client.post("/studio/new/", module_post())
    module = TrainingModule.objects.get()
    client.post(f"/studio/{module.pk}/publish/")
    client.post(f"/studio/{module.pk}/archive/")
    response = client.post(f"/studio/{module.pk}/", module_post(title="Changed"))
    assert response.status_code == 400
    assert "an archived module is read-only" in response.content.decode()
    module.refresh_from_db()
    assert module.title == "Greeting guests"


@pytest.mark.parametrize("role", [Role.STORE_MANAGER, Role.REGIONAL_LEAD])
def test_only_trainers_reach_the_studio(client, role):
    client.force_login(user_with_role(role))
    for url in ["/studio/", "/studio/new/", "/studio/1/"]:
        assert client.get(url).status_code == 403
    for url in ["/studio/draft/", "/studio/preview/", "/studio/1/publish/"]:
        assert client.post(url).status_code == 403


def test_anonymous_users_are_sent_to_log_in_and_transitions_need_a_post(client):
    assert client.get("/studio/")["Location"].startswith("/accounts/login/")
    client.force_login(user_with_role(Role.TRAINER))
    assert client.get("/studio/1/publish/").status_code == 405
    assert client.post("/studio/1/explode/").status_code == 404


def test_the_studio_index_runs_the_same_queries_for_2_or_10_modules(client, trainer):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/studio/").status_code == 200
        return len(queries)

    for n in range(2):
        client.post("/studio/new/", module_post(title=f"Module {n}"))
    few = count()
    for n in range(2, 10):
        client.post("/studio/new/", module_post(title=f"Module {n}"))
    assert count() == few


# --- issue 12: publishing saves first, four-eyes review, the right answer beside its choice ------


def edit_post(**changes):
    """The editor's form for a saved module, as a browser posts it: its questions are the
    formset's initial forms (a question the same as before is still kept)."""
    return module_post(**{"quiz-INITIAL_FORMS": "3", **changes})


def test_publish_in_the_editor_saves_the_forms_edits_first_then_publishes(client, trainer):
    client.post("/studio/new/", module_post())
    module = TrainingModule.objects.get()
    edited = edit_post(title="Greeting guests warmly", action="publish")
    response = client.post(f"/studio/{module.pk}/", edited)
    assert response["Location"] == f"/studio/{module.pk}/"
    module.refresh_from_db()
    assert (module.status, module.title) == ("published", "Greeting guests warmly")
    assert ModuleVersion.objects.get(module=module).title == "Greeting guests warmly"
    assert "Saved and published" in client.get(response["Location"]).content.decode()


def test_publish_with_form_errors_publishes_nothing_and_keeps_the_edits(client, trainer):
    client.post("/studio/new/", module_post())
    module = TrainingModule.objects.get()
    bad = edit_post(title="", body="My **unsaved** edit", action="publish")
    response = client.post(f"/studio/{module.pk}/", bad)
    assert response.status_code == 400
    page = response.content.decode()
    assert "My **unsaved** edit" in page and "This field is required" in page
    module.refresh_from_db()
    assert (module.status, module.title) == ("draft", "Greeting guests")
    assert not module.versions.exists()

    # A refusal by the publishing rules (no quiz) rolls the save back too.
    response = client.post(f"/studio/{module.pk}/", edit_post(quiz=[], action="publish"))
    assert response.status_code == 400
    assert "a module needs its quiz before it is published" in response.content.decode()
    module.refresh_from_db()
    assert module.status == "draft" and len(module.quiz) == 3


def test_submit_for_review_in_the_editor_saves_first(client, trainer):
    client.post("/studio/new/", module_post())
    module = TrainingModule.objects.get()
    client.post(f"/studio/{module.pk}/", edit_post(title="Reviewed greeting", action="submit"))
    module.refresh_from_db()
    assert (module.status, module.title, module.edited_by) == (
        "in_review",
        "Reviewed greeting",
        trainer,
    )


def test_the_right_answer_is_a_radio_button_beside_each_choice(client, trainer):
    page = client.get("/studio/new/").content.decode()
    assert page.count('type="radio" name="quiz-0-answer"') == 4
    assert '<select name="quiz-0-answer"' not in page
    first = page.index('name="quiz-0-choice_1"')
    assert page.index('type="radio" name="quiz-0-answer" value="0"') < first
    assert page.index('value="1"', first) < page.index('name="quiz-0-choice_2"')

    client.post("/studio/new/", module_post())
    module = TrainingModule.objects.get()
    page = client.get(f"/studio/{module.pk}/").content.decode()
    assert 'name="quiz-2-answer" value="2" id="id_quiz-2-answer_2" checked' in page


def test_four_eyes_review_in_the_studio(client, trainer, settings):
    settings.MODULE_FOUR_EYES = True
    client.post("/studio/new/", module_post(action="submit"))
    module = TrainingModule.objects.get()
    assert module.status == "in_review"
    page = client.get(f"/studio/{module.pk}/").content.decode()
    assert 'value="publish"' not in page and "you made the last changes" in page
    # Posting it anyway (a stale page, a crafted request) publishes nothing.
    response = client.post(f"/studio/{module.pk}/", edit_post(action="publish"))
    assert response.status_code == 400 and "you made the last changes" in response.content.decode()

    reviewer = user_with_role(Role.TRAINER)
    client.force_login(reviewer)
    index = client.get("/studio/").content.decode()
    assert "Waiting for your review" in index and f"/studio/{module.pk}/" in index
    note = "Say why the follow-up matters."
    client.post(f"/studio/{module.pk}/send-back/", {"note": note})
    module.refresh_from_db()
    assert module.status == "draft"

    client.force_login(trainer)
    page = client.get(f"/studio/{module.pk}/").content.decode()
    assert note in page and f"Sent back by {reviewer.username}" in page
    client.post(f"/studio/{module.pk}/", edit_post(action="submit"))

    client.force_login(reviewer)
    page = client.get(f"/studio/{module.pk}/").content.decode()
    assert "Approve and publish" in page
    client.post(f"/studio/{module.pk}/", edit_post(action="publish"))  # unchanged: approved
    module.refresh_from_db()
    assert module.status == "published" and module.edited_by == trainer


def test_the_editor_says_a_template_draft_is_not_from_ai(client, trainer):
    data = {
        "category": Category.objects.get(code="team_retention").pk,
        "objective": "Keep new starters past their first month",
        "minutes": "15",
    }
    response = client.post("/studio/draft/", data)
    page = client.get(response["Location"]).content.decode()
    assert "This draft came from the built-in template, not from AI" in page
    assert "Keep new starters past their first month" in page
