"""AI module drafts under the same failure policy as weekly plans: a transient failure is retried,
an off-schema answer or a quiz that breaks the rules is repaired once (with the versioned repair
prompt, recorded on the call), and only then does the playbook draft stand in."""

import json

import pytest

from coaching.llm import prompts
from coaching.models import LLMCall
from coaching.modules import services as authoring
from scoring.models import Category, Role
from tests.coaching.modules.test_modules import good_draft, quiz
from tests.factories import user_with_role
from tests.fakes.openai_server import error, ok

pytestmark = pytest.mark.django_db
NO_SECTIONS = '{"title": "No sections"}'


@pytest.fixture
def drafts(llm):
    llm.default = ok(good_draft)
    return llm


def draft():
    return authoring.draft_with_ai(
        user_with_role(Role.TRAINER),
        category=Category.objects.get(code="customer_advocacy"),
        objective="Win back detractors",
        minutes=20,
    )


def calls_of(module) -> list[tuple[str, str, str, int]]:
    return list(
        LLMCall.objects.filter(module=module, purpose="module_draft")
        .order_by("id")
        .values_list("provider", "outcome", "prompt_version", "attempt")
    )


def test_a_draft_that_fails_transiently_is_retried_then_used(drafts):
    drafts.enqueue(error(503))

    module, reason = draft()

    assert reason == ""
    assert module.title == "Winning back detractors within a day"
    assert calls_of(module) == [
        ("openai", "transient", "module_draft.v2", 1),
        ("openai", "ok", "module_draft.v2", 2),
    ]
    assert drafts.requests[0] == drafts.requests[1]


def test_an_off_schema_draft_is_repaired_once_with_the_repair_prompt(drafts):
    drafts.enqueue(ok(NO_SECTIONS))

    module, reason = draft()

    assert reason == "" and module.quiz == quiz(3)
    assert calls_of(module) == [
        ("openai", "invalid", "module_draft.v2", 1),
        ("openai", "ok", "module_draft.v2+repair.v1", 2),
    ]
    first, repair = drafts.requests
    assert repair["messages"][:2] == first["messages"]
    assistant, ask_again = repair["messages"][2:]
    assert json.loads(assistant["content"]) == {"title": "No sections"}
    assert ask_again["content"].startswith("That answer cannot be used: off-schema answer: ")
    assert ask_again["content"].endswith(". Answer again with corrected JSON only.")


def test_a_draft_whose_quiz_breaks_the_rules_is_repaired_once(drafts):
    drafts.enqueue(ok(lambda body: good_draft(body) | {"quiz": quiz(1)}))

    module, reason = draft()

    assert reason == "" and len(module.quiz) == 3
    first = LLMCall.objects.filter(module=module).order_by("id").first()
    assert first.outcome == "invalid"
    assert first.error == "rejected first answer: a quiz has 3-5 questions, not 1"
    problem = "a quiz has 3-5 questions, not 1"
    assert drafts.requests[1]["messages"][3]["content"] == prompts.render(
        prompts.REPAIR, problems=problem
    )


def test_a_draft_still_unusable_after_the_repair_falls_back_to_the_playbook(drafts):
    drafts.default = ok(NO_SECTIONS)

    module, reason = draft()

    assert reason.startswith("The AI's answer could not be used, so this draft comes from the")
    assert module.template_draft and not module.ai_draft
    assert "off-schema" in LLMCall.objects.filter(module=module, outcome="invalid").first().error
    assert [(p, o, a) for p, o, _, a in calls_of(module)] == [
        ("openai", "invalid", 1),
        ("openai", "invalid", 2),
        ("playbook", "ok", 3),
    ]
    assert drafts.request_count == 2
