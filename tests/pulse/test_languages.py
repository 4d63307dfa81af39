"""The questionnaire in the respondent's language: their browser's where we have it, else the
store's; the page's own links switch it; the thanks page follows."""

import pytest
from django.test import Client
from django.utils import translation

pytestmark = pytest.mark.django_db


def questions(page) -> list[str]:
    return [field.label for _, field in page.context["form"].question_fields]


def test_a_french_browser_reads_the_questions_in_french(link):
    page = Client(HTTP_ACCEPT_LANGUAGE="fr-CA,fr;q=0.9,en;q=0.5").get(f"/p/{link.token}/")

    assert page.status_code == 200
    assert page["Content-Language"] == "fr"
    assert "Comment s'est passée votre visite" in page.content.decode().replace("&#x27;", "'")
    with translation.override("fr"):
        expected = [q.label for q in page.context["form"].questions]
    assert questions(page) == expected
    assert all(q.label != q.text for q in page.context["form"].questions)


def test_a_browser_language_we_lack_gets_the_store_language(link):
    link.store.language = "es"
    link.store.save()

    page = Client(HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9").get(f"/p/{link.token}/")

    assert page["Content-Language"] == "es"
    assert 'lang="es"' in page.content.decode()[:200]


def test_the_page_links_switch_the_language_and_the_thanks_page_follows(link):
    client = Client(HTTP_ACCEPT_LANGUAGE="fr")
    page = client.get(f"/p/{link.token}/?lang=en")
    assert page["Content-Language"] == "en"
    assert 'href="?lang=fr"' in page.content.decode() and 'href="?lang=es"' in page.content.decode()

    page = client.get(f"/p/{link.token}/?lang=es")
    data = {"shown": [q.id for q in page.context["form"].questions], "website": ""}
    data |= {f"q{q.id}": q.scale for q in page.context["form"].questions}
    sent = client.post(f"/p/{link.token}/?lang=es", data)
    assert sent.status_code == 302 and sent["Location"].endswith("lang=es")
    assert client.get(sent["Location"])["Content-Language"] == "es"
