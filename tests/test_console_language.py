"""The console speaks the operator's language through Django's gettext and the .po files, and
remembers it per operator; customers read search errors in their own language."""

import gettext
import json
import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import logged_in, require_system

pytestmark = pytest.mark.django_db

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
# Words that are the same in English and the console's language.
SAME_WORD = {"nl": {"Contract", "— contract —"}, "fr": {"Cause", "Service", "Incorrect"}}


def console_labels(html):
    found = re.search(r'<script id="console-labels" type="application/json">(.*?)</script>', html)
    labels = json.loads(found.group(1))
    flat = []
    for value in labels.values():
        flat.extend(value.values() if isinstance(value, dict) else [value])
    return flat


@pytest.mark.parametrize("language", ["nl", "fr"])
def test_console_strings_are_all_translated(users, language):
    english = console_labels(logged_in(users["operator"]).get("/operator/").content.decode())
    client = logged_in(users["operator"])
    client.post("/operator/language/", {"language": language})
    html = client.get("/operator/").content.decode()
    assert f'<html lang="{language}">' in html
    translated = console_labels(html)
    untranslated = [
        en
        for en, tr in zip(english, translated, strict=True)
        if en == tr and en not in SAME_WORD[language]
    ]
    assert untranslated == []


def test_console_language_is_remembered_for_the_operator_not_the_browser(users):
    first_browser = logged_in(users["operator"])
    response = first_browser.post("/operator/language/", {"language": "fr"})
    assert response.status_code == 302 and response["Location"] == "/operator/"

    other_browser = logged_in(users["operator"])  # another session, no cookie
    html = other_browser.get("/operator/").content.decode()
    assert '<html lang="fr">' in html
    assert "Que demande le client ?" in html
    # Another operator keeps their own language.
    assert '<html lang="en">' in logged_in(users["admin"]).get("/operator/").content.decode()


def test_the_address_bar_no_longer_switches_the_console_language(users):
    client = logged_in(users["operator"])
    client.post("/operator/language/", {"language": "nl"})
    html = client.get("/operator/", {"lang": "fr"}).content.decode()
    assert '<html lang="nl">' in html


def test_a_language_the_console_does_not_speak_is_refused_with_a_message(users):
    response = logged_in(users["operator"]).post("/operator/language/", {"language": "de"})
    assert response.status_code == 400
    assert "nl" in response.json()["error"]


def test_card_shows_support_hours_in_the_operators_language(users, article):
    client = logged_in(users["operator"])
    client.post("/operator/language/", {"language": "nl"})
    client.get("/operator/")  # the console hands its language to the API calls it makes
    page = article("demo-printer-offline", "nl")
    card = client.get(f"/api/v1/articles/{page.pk}/", {"level": "standard"}).json()
    assert card["coverage"]["support_hours"] == "ma–vr 08:00–18:00"
    assert "Mon" not in json.dumps(card)


@pytest.mark.parametrize(
    ("path", "query", "expected"),
    [
        ("/nl/search/", "???", "Beschrijf je probleem in een paar woorden."),
        ("/fr/search/", "x" * 5000, "Votre question est trop longue"),
        ("/en/search/", "!!!", "Type a few words that describe your problem."),
    ],
)
def test_search_page_errors_speak_to_the_customer_in_their_language(client, path, query, expected):
    html = client.get(path, {"q": query}).content.decode()
    assert expected in html
    assert "customer is asking" not in html


def test_public_search_api_errors_follow_the_requested_language(client):
    response = client.get("/api/v1/public/search/", {"q": "?!", "locale": "fr"})
    assert response.status_code == 400
    assert response.json()["error"] == "Décrivez votre problème en quelques mots."


def test_operator_api_keeps_the_operators_wording(users):
    response = logged_in(users["operator"]).get("/api/v1/search/", {"q": "?!", "locale": "nl"})
    assert response.status_code == 400
    assert response.json()["error"] == "Type what the customer is asking about."


@pytest.mark.parametrize("language", ["nl", "fr"])
def test_committed_mo_files_match_the_po_files(tmp_path, language):
    """A translation added to a .po file but not compiled would silently show English."""
    msgfmt = require_system("msgfmt", "gettext")
    po = LOCALE_DIR / language / "LC_MESSAGES" / "django.po"
    fresh = tmp_path / "django.mo"
    subprocess.run([msgfmt, "--check-format", "-o", str(fresh), str(po)], check=True)
    committed = LOCALE_DIR / language / "LC_MESSAGES" / "django.mo"
    with fresh.open("rb") as a, committed.open("rb") as b:
        expected, actual = gettext.GNUTranslations(a)._catalog, gettext.GNUTranslations(b)._catalog
    assert actual == expected, f"run `python manage.py compilemessages` ({language})"
