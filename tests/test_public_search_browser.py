"""A customer searching while typing, in a real browser: the page says what the submitted
page says (no good match, results in another language, errors in the customer's words)."""

import pytest

from tests.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def both_widths(page, name):
    page.set_viewport_size(DESKTOP)
    screenshot(page, f"{name}-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, f"{name}-phone")
    page.set_viewport_size(DESKTOP)


def test_typing_nonsense_in_french_says_nothing_matches_well(browser_page):
    page = browser_page
    page.goto("/fr/search/")
    page.locator("#public-q").type("zorglub flibuste quantique des marmottes", delay=20)
    page.wait_for_selector("#public-results #no-good-match")
    assert "Nous n'avons rien trouvé qui corresponde clairement" in page.inner_text(
        "#no-good-match"
    )
    assert page.locator("#public-results .badge").count() == 0  # no other-language filler
    marked = [m.lower() for m in page.locator("#public-results mark").all_inner_texts()]
    assert "des" not in marked  # a function word, like on the submitted page
    assert "Encore besoin d'aide" in page.inner_text("#public-results .still-need-help")
    both_widths(page, "public-search-no-good-match-fr")


def test_typing_marks_an_english_only_article_like_the_submitted_page(browser_page):
    page = browser_page
    page.goto("/nl/search/")
    page.locator("#public-q").type("VPN error certificate expired", delay=20)
    page.wait_for_selector("#public-results .results-list li")
    badge = page.locator("#public-results .badge").first
    assert badge.inner_text() == "Enkel beschikbaar in EN"
    assert badge.get_attribute("lang") == "en"
    assert page.locator("#no-good-match").count() == 0
    both_widths(page, "public-search-typing-nl")


def test_a_question_that_cannot_be_searched_gets_a_dutch_message_while_typing(browser_page):
    page = browser_page
    page.goto("/nl/search/")
    page.locator("#public-q").type("?!?!", delay=20)
    page.wait_for_selector("#public-search-error:not([hidden])")
    assert page.inner_text("#public-search-error") == "Beschrijf je probleem in een paar woorden."
    page.locator("#public-q").fill("printer offline")
    page.wait_for_selector("#public-results .results-list li")
    assert page.locator("#public-search-error").is_hidden()
