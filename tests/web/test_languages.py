"""Every page in the reader's language: no template text left unmarked, and every page of every
role rendered in French and Spanish holds none of the app's English sentences."""

import io
import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.template.base import Lexer, TokenType
from django.test import Client

from scoring.models import Profile

from .test_pages import PAGES, detail_pages, login

TEMPLATES = Path(settings.BASE_DIR) / "templates"
# Words that are the same in every language: the product, its score, acronyms.
SAME_EVERYWHERE = {"ROR", "Coach", "NPS", "CSV", "API", "KPI", "eNPS", "CSAT", "OK"}
TAG = re.compile(r"<[^>]*>")
ATTRIBUTE = re.compile(r'\b(?:title|aria-label|placeholder|alt)="([^"{]*[A-Za-z][^"{]*)"')
WORDS = re.compile("[A-Za-z][A-Za-z'\u2019-]+")


def unmarked_text(source: str) -> list[str]:
    """Literal text of a template outside any tag, variable, comment or translated block: what
    would stay English. Tags and variables become a marker, so an HTML tag holding one (an
    `action="{% url ... %}"`) is still a tag."""
    kept, skipping = [], None
    for token in Lexer(source).tokenize():
        words = token.split_contents() if token.token_type == TokenType.BLOCK else [""]
        if skipping:
            skipping = None if words[0] == skipping else skipping
            continue
        if words[0] in {"blocktranslate", "blocktrans", "comment"}:
            skipping = {"comment": "endcomment"}.get(words[0], f"end{words[0]}")
        kept.append(token.contents if token.token_type == TokenType.TEXT else "\x00")
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", "".join(kept), flags=re.S)
    found = ATTRIBUTE.findall(text)
    found += [part.strip() for part in TAG.sub("\n", text).replace("\x00", "\n").splitlines()]
    return [part for part in found if [w for w in WORDS.findall(part) if w not in SAME_EVERYWHERE]]


@pytest.mark.parametrize(
    "template", sorted(str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.html"))
)
def test_no_template_text_is_left_unmarked(template):
    source = (TEMPLATES / template).read_text(encoding="utf-8")
    assert unmarked_text(source) == []


def english_sentences(language: str) -> set[str]:
    """The catalogue's English of four words or more, cut at placeholders: none may show on a
    page in another language."""
    path = Path(settings.BASE_DIR) / "locale" / language / "LC_MESSAGES" / "django.po"
    found = set()
    for entry in polib.pofile(str(path)):
        if entry.msgstr == entry.msgid:
            continue  # the same in both languages
        for part in re.split(r"%\(\w+\)[sd]|%[sd]|<[^>]+>", entry.msgid):
            if len(part.split()) >= 4:
                found.add(" ".join(part.split()))
    return found


def page_text(response) -> str:
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(TAG.sub(" ", html).replace("&#x27;", "'").replace("&#39;", "'").split())


@pytest.mark.parametrize("language", ["fr", "es"])
def test_every_page_of_every_role_is_in_the_readers_language(chain, language):
    Profile.objects.update(language=language)
    # This week's coaching again, now written in the managers' language.
    call_command("generate_coaching", "--force", stdout=io.StringIO())
    english = english_sentences(language)
    for username, urls in PAGES.items():
        client = login(Client(), username)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            assert response["Content-Language"] == language
            text = page_text(response)
            assert f'lang="{language}"' in response.content.decode()[:300], url
            left = sorted(s for s in english if s in text)
            assert left == [], f"{username} {url}"
    for name, response in detail_pages(Client()).items():
        text = page_text(response)
        assert sorted(s for s in english if s in text) == [], name


def test_a_french_manager_reads_weeks_and_figures_the_french_way(chain, client):
    Profile.objects.filter(user__username="manager.s001").update(language="fr")
    text = page_text(login(client, "manager.s001").get("/week/"))
    assert re.search(r"semaine du \d{1,2} \w+\.?", text)
    assert re.search(r"\b\d{1,3},\d\b", text)  # a score with its decimal comma


def test_the_store_language_is_the_default_and_the_users_choice_wins(chain, client):
    from scoring.languages import forget_language
    from scoring.models import Store

    Store.objects.filter(code="S001").update(language="es")
    manager = Profile.objects.get(user__username="manager.s001")
    forget_language([manager.user_id])
    assert login(client, "manager.s001").get("/week/")["Content-Language"] == "es"
    manager.language = "fr"
    manager.save()
    assert client.get("/week/")["Content-Language"] == "fr"
    # A lead who never chose reads the browser's language.
    lead = login(Client(HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9"), "lead.north")
    assert lead.get("/regions/north/")["Content-Language"] == "es"
