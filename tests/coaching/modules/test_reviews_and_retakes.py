"""Issue 12 for modules: four-eyes review (MODULE_FOUR_EYES), the last editor of a module, the
template draft built around the trainer's objective, per-answer marking, the pass mark
(MODULE_PASS_MARK) and retakes that update one completion."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from rest_framework.test import APIClient

from coaching.models import ModuleCompletion, TrainingModule
from coaching.modules import services as authoring
from coaching.modules.quiz import mark, passed
from coaching.modules.selectors import (
    readable_version,
    review_note,
    studio_modules,
    waiting_for_review_by,
)
from coaching.tracking.selectors import engagement_totals
from scoring.weeks import week_start
from tests.coaching.modules.test_modules import advocacy, new_module, quiz

pytestmark = pytest.mark.django_db
Status = TrainingModule.Status


@pytest.fixture
def four_eyes(settings):
    settings.MODULE_FOUR_EYES = True


# --- the last editor -----------------------------------------------------------------------------


def test_every_content_save_records_its_editor_and_an_unchanged_save_does_not(people):
    trainer, admin = people["trainer"], people["admin"]
    module = new_module(trainer)
    assert module.edited_by == trainer
    module = authoring.edit_module(admin, module, title=module.title, summary=module.summary)
    assert module.edited_by == trainer, "saving unchanged content changes no one's authorship"
    module = authoring.edit_module(admin, module, summary="Admin's words.")
    assert module.edited_by == admin


# --- four-eyes review ---------------------------------------------------------------------------


def test_with_four_eyes_off_a_trainer_publishes_their_own_draft_directly(people, settings):
    settings.MODULE_FOUR_EYES = False
    trainer = people["trainer"]
    assert authoring.publish_module(trainer, new_module(trainer)).status == Status.PUBLISHED


def test_with_four_eyes_on_nobody_publishes_content_they_last_edited(people, four_eyes):
    trainer, admin = people["trainer"], people["admin"]
    module = new_module(trainer)
    with pytest.raises(ValidationError, match="submit the module for review"):
        authoring.publish_module(trainer, module)
    module = authoring.submit_module(trainer, module)
    with pytest.raises(PermissionDenied, match="you made the last changes to this module"):
        authoring.publish_module(trainer, module)
    assert not module.versions.exists()

    assert waiting_for_review_by(admin, studio_modules(admin)) == [module]
    assert waiting_for_review_by(trainer, studio_modules(trainer)) == []
    published = authoring.publish_module(admin, module)
    assert (published.status, published.versions.count()) == (Status.PUBLISHED, 1)


def test_a_reviewer_who_changes_the_content_must_leave_publishing_to_someone_else(
    people, four_eyes
):
    trainer, admin = people["trainer"], people["admin"]
    module = authoring.submit_module(trainer, new_module(trainer))
    module = authoring.edit_module(admin, module, summary="Tightened by the reviewer.")
    with pytest.raises(PermissionDenied):
        authoring.publish_module(admin, module)
    assert authoring.publish_module(trainer, module).status == Status.PUBLISHED


def test_a_reviewer_sends_a_module_back_with_a_note_for_its_author(people, four_eyes):
    trainer, admin = people["trainer"], people["admin"]
    module = authoring.submit_module(trainer, new_module(trainer))
    with pytest.raises(ValidationError, match="say what to change"):
        authoring.send_back(admin, module, note="  ")
    module = authoring.send_back(admin, module, note="Question 2 has two right answers.")
    assert module.status == Status.DRAFT
    note = review_note(module)
    assert (note.note, note.by) == ("Question 2 has two right answers.", admin.username)
    with pytest.raises(ValidationError, match="a draft module has nothing to send back"):
        authoring.send_back(admin, module, note="Again")
    with pytest.raises(PermissionDenied):  # managers neither review nor publish
        authoring.send_back(people["manager"], module, note="No")


def test_with_four_eyes_on_changes_to_a_published_module_wait_for_another_trainer(
    people, four_eyes
):
    trainer, admin, manager = people["trainer"], people["admin"], people["manager"]
    module = authoring.submit_module(trainer, new_module(trainer))
    module = authoring.publish_module(admin, module)

    module = authoring.edit_module(trainer, module, title="Closing the loop, revised")

    assert module.status == Status.PUBLISHED and module.versions.count() == 1
    assert readable_version(manager, module).title == "Closing the loop"  # managers keep v1
    assert authoring.has_unpublished_changes(module)
    [held] = waiting_for_review_by(admin, studio_modules(admin))
    assert held == module and held.held
    with pytest.raises(PermissionDenied):
        authoring.publish_module(trainer, module)
    module = authoring.publish_module(admin, module)
    assert readable_version(manager, module).title == "Closing the loop, revised"
    assert module.version == 2 and not authoring.has_unpublished_changes(module)


def test_the_api_publishes_through_the_same_four_eyes_rule(people, four_eyes):
    trainer, admin = people["trainer"], people["admin"]
    module = authoring.submit_module(trainer, new_module(trainer))
    api = APIClient()
    api.force_authenticate(trainer)
    response = api.post(f"/api/v1/modules/{module.slug}/publish/")
    assert response.status_code == 403
    assert "you made the last changes to this module" in str(response.json())
    api.force_authenticate(admin)
    sent = api.post(f"/api/v1/modules/{module.slug}/send-back/", {"note": "Fix question 2."})
    assert (sent.status_code, sent.json()["status"]) == (200, "draft")
    assert review_note(module).note == "Fix question 2."
    api.force_authenticate(trainer)
    assert api.post(f"/api/v1/modules/{module.slug}/submit/").status_code == 200
    api.force_authenticate(admin)
    assert api.post(f"/api/v1/modules/{module.slug}/publish/").status_code == 200


# --- the template draft -------------------------------------------------------------------------


def test_the_template_draft_is_built_around_the_trainers_objective(people, settings):
    settings.COACH_LLM_PROVIDER = "playbook"
    module, note = authoring.draft_with_ai(
        people["trainer"], category=advocacy(), objective="Call back every detractor within a day"
    )
    assert note.startswith(
        "No AI service is set up, so this draft comes from the built-in template"
    )
    assert module.template_draft and not module.ai_draft
    assert module.title == "Call back every detractor within a day"
    assert "Call back every detractor within a day" in module.summary
    intro = module.body.split("\n## ")[0]
    assert "*Call back every detractor within a day*" in intro
    assert "**Learning outcome:** after this module you can call back every detractor" in intro
    assert all(
        "call back every detractor within a day" in q["explanation"].lower() for q in module.quiz
    )
    assert authoring.validate_quiz(module.quiz) == module.quiz


# --- taking a quiz: marking, the pass mark, retakes --------------------------------------------


def test_each_answer_is_marked_with_the_right_answer_and_its_explanation():
    marked = mark(quiz(3), [0, 0, 2])
    assert [m.right for m in marked] == [True, False, True]
    second = marked[1]
    assert (second.chosen_text, second.answer_text, second.explanation) == (
        "Alpha",
        "Bravo",
        "Because.",
    )


def test_the_pass_mark_is_a_setting(settings):
    assert passed(80) and not passed(79) and not passed(None)  # default 80
    settings.MODULE_PASS_MARK = 60
    assert passed(67) and not passed(59)


def test_a_retake_updates_the_one_completion_and_it_counts_once(people):
    trainer, manager, store = people["trainer"], people["manager"], people["store"]
    module = authoring.publish_module(trainer, new_module(trainer))

    first = authoring.complete_module(manager, module, [0, 1, 0])  # two of three
    assert (first.score, first.best_score, first.attempts) == (67, 67, 1)
    again = authoring.complete_module(manager, module, [0, 1, 2])
    assert (again.pk, again.score, again.best_score, again.attempts) == (first.pk, 100, 100, 2)
    worse = authoring.complete_module(manager, module, [3, 3, 3])
    assert (worse.score, worse.best_score, worse.attempts, worse.answers) == (0, 100, 3, [3, 3, 3])
    assert worse.completed_at == first.completed_at and worse.store == store

    assert ModuleCompletion.objects.count() == 1
    this_week = week_start(first.completed_at.date())
    totals = engagement_totals([store.pk], start=this_week, end=this_week)
    assert totals[store.code]["modules"] == 1
