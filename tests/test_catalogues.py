"""The French and Spanish catalogues are whole and compiled: every message translated, none
fuzzy, and the committed .mo files say what the .po files say (a fresh install needs no gettext).
`.ci/run` runs `makemessages` first, so a string marked since the last update fails here too."""

import gettext
from pathlib import Path

import polib
import pytest
from django.conf import settings

LOCALE = Path(settings.BASE_DIR) / "locale"
LANGUAGES = [code for code, _ in settings.LANGUAGES if code != "en"]


def catalogue(language: str) -> polib.POFile:
    return polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_and_none_is_fuzzy(language):
    po = catalogue(language)
    live = [e for e in po if not e.obsolete]
    assert len(live) > 300, "the catalogue holds the app's messages"
    assert [e.msgid for e in po.untranslated_entries()] == []
    assert [e.msgid for e in po.fuzzy_entries()] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalogue_is_up_to_date(language):
    po = catalogue(language)
    with open(LOCALE / language / "LC_MESSAGES" / "django.mo", "rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    for entry in po.translated_entries():
        context = f"{entry.msgctxt}\x04" if entry.msgctxt else ""
        if entry.msgid_plural:
            for n, text in entry.msgstr_plural.items():
                assert compiled._catalog[(context + entry.msgid, int(n))] == text, entry.msgid
        else:
            assert compiled._catalog[context + entry.msgid] == entry.msgstr, entry.msgid


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_survive_translation(language):
    """A translation that drops or renames a %(name)s would raise at render time."""
    import re

    placeholder = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w+\}")
    for entry in catalogue(language).translated_entries():
        wanted = sorted(placeholder.findall(entry.msgid))
        if entry.msgid_plural:
            for text in entry.msgstr_plural.values():
                found = sorted(placeholder.findall(text))
                assert set(found) <= set(wanted + placeholder.findall(entry.msgid_plural)), (
                    entry.msgid
                )
        else:
            assert sorted(placeholder.findall(entry.msgstr)) == wanted, entry.msgid
