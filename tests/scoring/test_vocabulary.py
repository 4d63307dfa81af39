"""The seeded taxonomy reads in every language: each category's name and each question."""

import pytest
from django.utils import translation

from scoring.models import Category, Question

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language", ["fr", "es"])
def test_every_seeded_category_and_question_has_a_translation(language):
    with translation.override(language):
        untranslated = [c.name for c in Category.objects.all() if c.label == c.name]
        untranslated += [q.text for q in Question.objects.all() if q.label == q.text]
    assert untranslated == []
    assert Question.objects.count() >= 24


def test_a_question_written_for_one_chain_carries_its_own_translations():
    question = Question.objects.first()
    question.text = "Our staff wore the new uniform."
    question.translations = {"fr": "Notre équipe portait le nouvel uniforme."}
    with translation.override("fr"):
        assert question.label == "Notre équipe portait le nouvel uniforme."
    with translation.override("es"):
        assert question.label == "Our staff wore the new uniform."  # none given: as written
