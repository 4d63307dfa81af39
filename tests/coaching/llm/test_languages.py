"""Coaching in the manager's language: the LLM is asked for it, a French or Spanish answer with
decimal commas is grounded like an English one, and an invented figure is still refused; the
playbook coach writes in the language too, and recommends the module's version in it."""

import pytest

from coaching.models import TrainingModule
from scoring.models import Profile
from tests.fakes.openai_server import ok

from .helpers import DECLINING, LOW, assert_fallback, assert_ready, generate, plan_data, the_plan

pytestmark = pytest.mark.django_db

FRENCH_STEPS = [
    "Faites le tour du magasin avec le responsable de service et choisissez le premier changement.",
    "Demandez à l'équipe au brief du matin ce qui bloque, et notez-le sur le tableau.",
    "Revenez-y vendredi et remerciez les personnes qui ont fait tenir le changement.",
]


def french_answer(body: dict, *, why=None) -> dict:
    """The fake model writes in French: the focus reason as its why (numbers with decimal
    commas), or what `why` makes of it."""
    data = plan_data(body)
    return {
        "tips": [
            {
                "category": item["category"],
                "title": f"Mettez la priorité sur {item['name'].lower()} cette semaine",
                "why": why(item) if why else item["reason"],
                "steps": FRENCH_STEPS,
                "module_slug": next(
                    (m["slug"] for m in data["modules"] if m["category"] == item["category"]),
                    None,
                ),
            }
            for item in data["focus"]
        ]
    }


@pytest.fixture
def french(chain):
    chain.store.language = "fr"
    chain.store.save()
    return chain


def test_a_french_store_is_coached_in_french_with_decimal_commas(french, llm):
    llm.default = ok(french_answer)

    generate(french)

    plan = the_plan(french)
    assert_ready(plan)
    data = plan_data(llm.requests[0])
    assert data["language"] == "fr"
    advocacy = plan.tips.get(category__code=DECLINING)
    assert "13,1" in advocacy.why and "61,4" in advocacy.why  # the reason, as French writes it
    assert advocacy.steps == FRENCH_STEPS
    # The module offered is the French version of the one an English manager gets.
    assert advocacy.module.language == "fr"
    assert advocacy.module.translation_of.slug == "turning-happy-customers-into-reviewers"


def test_an_invented_figure_in_french_is_refused(french, llm):
    def invented(item):
        return f"{item['reason']} Le magasin voisin est à 91,7 sur cette catégorie."

    llm.default = ok(lambda body: french_answer(body, why=invented))

    generate(french)

    plan = the_plan(french)
    assert_fallback(plan, "numbers not in the data: 91.7")
    # The playbook stands in, in French too.
    assert plan.tips.get(category__code=LOW).title in french_titles("team_retention")


def test_english_text_for_a_french_manager_is_sent_back(french, llm):
    from .helpers import good_answer

    llm.default = ok(good_answer)

    generate(french)

    assert_fallback(the_plan(french), "must be written in plain French")


def test_the_manager_own_language_wins_over_the_store(chain, llm):
    Profile.objects.filter(user=chain.manager).update(language="es")

    generate(chain)

    assert plan_data(llm.requests[0])["language"] == "es"


def test_the_playbook_coaches_a_spanish_manager_in_spanish(chain, settings):
    settings.COACH_LLM_PROVIDER = "playbook"
    chain.store.language = "es"
    chain.store.save()

    generate(chain)

    plan = the_plan(chain)
    for tip in plan.tips.select_related("category", "module"):
        assert tip.title in spanish_titles(tip.category.code)
        assert tip.module is None or tip.module.language == "es"
    advocacy = plan.tips.get(category__code=DECLINING)
    assert "13,1" in advocacy.why and "13.1" not in advocacy.why


def french_titles(category: str) -> set[str]:
    from coaching.llm.playbook import playbook

    return {p.title for p in playbook(category, "fr")}


def spanish_titles(category: str) -> set[str]:
    from coaching.llm.playbook import playbook

    return {p.title for p in playbook(category, "es")}


def test_every_language_version_of_the_demo_modules_is_published(chain):
    versions = TrainingModule.objects.exclude(language="en")
    assert versions.count() == 32
    assert all(m.translation_of_id and m.status == "published" for m in versions)


def test_a_french_manager_gets_the_digest_in_french(french, llm, mailoutbox):
    llm.default = ok(french_answer)
    french.manager.email = "alex@example.com"
    french.manager.save()

    generate(french)

    (digest,) = mailoutbox
    assert digest.subject.startswith("Votre coaching, semaine du 23 nov.")  # (+ year, if not this)
    assert digest.body.startswith("Bonjour Alex,")
    assert "Votre coaching pour" in digest.body and "semaine du 23 nov." in digest.body
    assert FRENCH_STEPS[0] in digest.body
    assert "Formation :" in digest.body  # the module line, in French


def test_a_french_trainer_drafts_a_french_module_from_the_french_playbook(settings):
    from django.utils import translation

    from coaching.modules.services import draft_with_ai
    from scoring.models import Category, Role
    from tests.factories import user_with_role

    settings.COACH_LLM_PROVIDER = "playbook"
    trainer = user_with_role(Role.TRAINER)
    category = Category.objects.get(code="team_retention")
    with translation.override("fr"):
        module, note = draft_with_ai(trainer, category=category, objective="Garder les nouveaux")

    assert module.language == "fr" and module.template_draft
    assert "provient donc du modèle intégré" in note  # the trainer is told so, in French
    assert module.body.startswith("## Pourquoi c'est important")
    assert "## Pratiquer cette semaine" in module.body
    assert any(title in module.body for title in french_titles("team_retention"))
    assert "Garder les nouveaux" in module.summary
