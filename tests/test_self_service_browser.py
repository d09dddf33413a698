"""A customer in a real browser: Dutch search, article, 'no' with a reason, 'still need help'."""

import pytest

from insights.models import ArticleFeedback, ContactRequest, SearchEvent
from tests.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def test_dutch_customer_searches_votes_no_and_asks_for_help(browser_page):
    page = browser_page
    page.goto("/nl/")
    assert page.locator("html").get_attribute("lang") == "nl"
    screenshot(page, "home-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, "home-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.fill("#home-q", "mijn printer doet niks meer, staat offline")
    page.press("#home-q", "Enter")
    page.wait_for_url("**/nl/search/?q=*")
    first = page.locator(".results-list li .result-title a").first
    assert "rinter" in first.inner_text()
    screenshot(page, "search-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, "search-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    first.click()
    page.wait_for_selector("article.solution h1")
    assert page.locator("ol.steps li.step").count() >= 2
    screenshot(page, "article-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, "article-phone")
    page.set_viewport_size({"width": 1280, "height": 900})
    article_title = page.locator("article.solution h1").inner_text()

    page.click("#helpful-no")
    page.check("input[name=reason][value=did_not_work]")
    page.fill("textarea[name=comment]", "Stap 2 bestaat niet op mijn printer")
    page.click("form.stacked button[type=submit]")
    page.wait_for_selector("#feedback-thanks")
    page.click("#still-need-help")
    page.fill("input[name=name]", "An Janssens")
    page.fill("input[name=email]", "an.janssens@example.be")
    page.fill("textarea[name=message]", "De printer blijft offline na alle stappen.")
    page.click("form.stacked button[type=submit]")
    page.wait_for_selector("#contact-done")

    feedback = ArticleFeedback.objects.get()
    assert not feedback.helpful and feedback.reason == "did_not_work" and feedback.locale == "nl"
    assert feedback.article.title == article_title
    request = ContactRequest.objects.get()
    assert request.article_id == feedback.article_id and request.locale == "nl"
    assert list(request.searches.values_list("query", flat=True)) == [
        "mijn printer doet niks meer, staat offline"
    ]
    assert SearchEvent.objects.filter(channel="public", locale="nl").count() == 1


def test_results_appear_while_typing(browser_page):
    page = browser_page
    page.goto("/en/search/")
    page.locator("#public-q").type("vpn certificate expired", delay=40)
    page.wait_for_selector("#public-results .results-list li")
    assert "VPN" in page.locator("#public-results .result-title").first.inner_text()
    assert page.locator("#public-results mark").count() >= 1
