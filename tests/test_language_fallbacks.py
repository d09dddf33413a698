"""Which version a caller sees when an article has none in their language: the first of
KB_LANGUAGE_FALLBACKS it has (the site's language first), not whichever version happened
to match a few hundredths better. The article's rank does not change."""

import pytest

from search import service

pytestmark = [pytest.mark.model, pytest.mark.django_db]

# "Activate an eSIM" exists in English and Dutch only (demo data).
ESIM_FR = "comment activer ma eSIM"


def search_fr(client, **extra):
    params = {"q": ESIM_FR, "locale": "fr", "limit": 5, **extra}
    return client.get("/api/v1/public/search/", params).json()


def test_a_french_caller_gets_the_english_version_not_the_dutch_one(client):
    data = search_fr(client)
    top = data["results"][0]
    assert top["external_id"] == "demo-esim-activation"
    assert (top["locale"], top["fallback_language"]) == ("en", True)
    assert not any(
        r["locale"] == "nl" and r["external_id"] == top["external_id"] for r in data["results"]
    )


def test_the_order_is_configurable_and_does_not_move_the_article(client, settings):
    default = search_fr(client)
    settings.KB_LANGUAGE_FALLBACKS = {"fr": ["nl", "en"]}
    dutch_first = search_fr(client)
    assert dutch_first["results"][0]["locale"] == "nl"
    assert [r["external_id"] for r in dutch_first["results"]] == [
        r["external_id"] for r in default["results"]
    ]
    assert dutch_first["confidence"] == default["confidence"]


def test_the_callers_own_language_still_wins_when_it_exists(operator):
    data = operator.get(
        "/api/v1/search/", {"q": "wachtwoord vergeten", "locale": "nl", "limit": 3}
    ).json()
    top = data["results"][0]
    assert (top["external_id"], top["locale"], top["fallback_language"]) == (
        "demo-password-reset",
        "nl",
        False,
    )


def test_fallback_languages_put_the_listed_ones_first_then_the_other_content_languages(settings):
    settings.KB_LANGUAGE_FALLBACKS = {"fr": ["nl"], "default": ["en"]}
    assert service.fallback_languages("fr") == ["nl", "en"]
    assert service.fallback_languages("de") == ["en", "nl", "fr"]
    assert service.fallback_languages("en") == ["nl", "fr"]


def test_the_badge_lists_every_language_the_article_was_found_in(client):
    top = search_fr(client)["results"][0]
    assert top["available_languages"] == ["en", "nl"]
    html = client.get("/fr/search/", {"q": ESIM_FR}).content.decode()
    assert '<p class="badge" lang="en">Disponible uniquement en EN, NL</p>' in html
