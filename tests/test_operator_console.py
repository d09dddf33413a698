"""The operator console in a real browser (Playwright driving Debian's Chromium)."""

import pytest

from insights.models import CallOutcome
from tests.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def titles(page):
    return page.locator("#results .hit .hit-title").all_inner_texts()


def test_operator_types_navigates_opens_card_and_records_outcome(login_browser, users):
    page = login_browser(users["operator"])
    page.goto("/operator/")
    search = page.locator("#q")
    assert search.evaluate("el => el === document.activeElement")

    search.type("printer offline", delay=30)
    page.wait_for_selector("#results .hit")
    first_titles = titles(page)
    assert any("rinter" in t for t in first_titles[:3])

    search.fill("")
    search.type("sim card blocked puk code", delay=30)
    page.wait_for_function(
        "() => /SIM|PUK/.test(document.querySelector('#results .hit-title')?.innerText || '')"
    )
    second_titles = titles(page)
    assert second_titles != first_titles
    assert any("PUK" in t or "SIM" in t for t in second_titles[:3])

    search.press("ArrowDown")
    assert page.locator("#hit-1").get_attribute("aria-selected") == "true"
    search.press("ArrowUp")
    assert page.locator("#hit-0").get_attribute("aria-selected") == "true"
    chosen = page.locator("#hit-0 .hit-title").inner_text()
    page.select_option("#level", "premium")
    search.press("Enter")
    page.wait_for_selector("#card:not([hidden]) #card-title")
    assert page.locator("#card-title").inner_text() == chosen
    assert page.locator("#card .steps .step").count() >= 2
    page.wait_for_selector("#card .coverage")
    assert "Premium" in page.locator("#card .coverage").inner_text()
    assert page.locator("#card .team").count() == 1
    screenshot(page, "operator-console-card")

    page.keyboard.press("Alt+s")
    page.wait_for_function(
        "() => document.querySelector('#outcome-status').innerText.includes('solved')"
    )
    outcome = CallOutcome.objects.get()
    assert outcome.outcome == "solved" and outcome.user == users["operator"]
    assert outcome.article.title == chosen
    assert outcome.query == "sim card blocked puk code"
    assert outcome.search_event is not None

    page.keyboard.press("Escape")
    assert search.evaluate("el => el === document.activeElement")
    assert page.locator("#card").is_hidden()


def test_no_article_found_note_is_recorded_redacted(login_browser, users):
    page = login_browser(users["operator"])
    page.goto("/operator/")
    with page.expect_navigation():
        page.click(".console-lang button[value=nl]")
    assert page.locator("label[for=q]").inner_text() == "Wat vraagt de klant?"
    page.locator("#q").type("decoder toont foutcode E-202", delay=20)
    page.wait_for_selector("#status:not(:empty)")
    page.keyboard.press("Alt+n")
    page.locator("#note").type("klant belt terug op 0475 12 34 56", delay=5)
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.querySelector('#outcome-status').innerText.includes('geen artikel gevonden')"
    )
    outcome = CallOutcome.objects.get()
    assert outcome.outcome == "no_article"
    assert "0475" not in outcome.note and "[PHONE]" in outcome.note


def test_copy_self_service_link_only_for_public_articles(login_browser, users):
    page = login_browser(users["operator"])
    page.goto("/operator/")
    page.locator("#q").type("someone used the customer's account to order things fraud", delay=10)
    page.wait_for_selector("#results .hit")
    hits = page.locator("#results .hit")
    internal_index = next(i for i in range(hits.count()) if "internal" in hits.nth(i).inner_text())
    for _ in range(internal_index):
        page.locator("#q").press("ArrowDown")
    page.locator("#q").press("Enter")
    page.wait_for_selector("#card:not([hidden]) #card-title")
    assert page.locator("#copy-link").count() == 0
