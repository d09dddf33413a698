"""Customers in a real browser: guided troubleshooting end to end (with and without
JavaScript), branding from Wagtail settings, and axe-core on every public screen and the
operator console (no serious or critical violation)."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth import get_user_model

from articles.branding import SiteBranding, SiteBrandingLanguage
from articles.models import CategoryPage, SolutionArticlePage
from insights.models import ArticleFeedback, ContactRequest
from tests.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _article(external_id, locale):
    return SolutionArticlePage.objects.get(external_id=external_id, locale__language_code=locale)


def _shots(page, name):
    page.set_viewport_size(DESKTOP)
    screenshot(page, f"{name}-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, f"{name}-phone")
    page.set_viewport_size(DESKTOP)


def test_guided_troubleshooting_from_first_question_to_the_operators_screen(
    browser_page, login_browser
):
    page = browser_page
    wifi = _article("demo-wifi-cannot-connect", "nl")
    page.goto(wifi.url)
    html = page.content()
    assert "de beller" not in html.lower() and "Network Operations" not in html
    assert page.locator("#guide-question").inner_text().startswith("Ziet u het netwerk CORP")
    _shots(page, "after-article-wifi-nl")

    page.click("#guide-yes")  # with JavaScript: the guide changes in place
    page.wait_for_selector("#guide-question:has-text('collega')")
    assert "answers=y" in page.url
    page.click("#guide-no")
    page.wait_for_selector("#guide-contact")
    assert "Hier moet onze helpdesk naar kijken." in page.locator("#guide").inner_text()
    _shots(page, "after-guide-contact-nl")

    page.click("#guide-contact")
    page.wait_for_selector("#guide-summary-heading")
    assert "Ziet u het netwerk CORP" in page.locator(".guide-summary").inner_text()
    _shots(page, "after-contact-with-answers-nl")
    page.fill("input[name=name]", "An Janssens")
    page.fill("input[name=email]", "an.janssens@example.be")
    page.fill("textarea[name=message]", "Mijn wifi op kantoor werkt niet.")
    page.click("#contact-send")
    page.wait_for_selector("#contact-done")

    request = ContactRequest.objects.get()
    assert [a["answer"] for a in request.troubleshooting["answers"]] == ["yes", "no"]
    assert request.troubleshooting["team"] == "Network Operations Centre"

    # Whoever handles the request reads the answers, in the operator's wording.
    login_browser(get_user_model().objects.get(username="secondline"))
    page.goto(f"/admin/contactrequest/inspect/{request.pk}/")
    text = page.locator("main, #main").first.inner_text()
    assert "Ziet de beller het netwerk CORP in de lijst?" in text
    assert "Hebben collega's in dezelfde zone wel een werkende wifiverbinding?" in text
    assert "Network Operations Centre" in text
    _shots(page, "after-admin-contact-request-with-answers")


def test_guide_works_without_javascript_and_this_solved_it_counts_as_helpful(
    browser, live_server, demo_db
):
    context = browser.new_context(
        base_url=live_server.url, viewport=PHONE, java_script_enabled=False
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        printer = _article("demo-printer-offline", "fr")
        page.goto(printer.url)
        page.click("#guide-no")  # not on the office network: step 1
        page.wait_for_url("**answers=n**")
        assert "Essayez l'étape 1" in page.locator("#guide").inner_text()
        screenshot(page, "after-guide-step-fr-nojs-phone")
        page.click("#guide-solved")
        page.wait_for_selector("#feedback-thanks")
    finally:
        context.close()
    feedback = ArticleFeedback.objects.get()
    assert feedback.helpful and feedback.article_id == printer.pk and feedback.locale == "fr"


def test_branding_from_the_settings_shows_on_the_public_pages(browser_page):
    page = browser_page
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    branding = SiteBranding.load()
    branding.primary_colour = "#7a1f5c"
    branding.save()
    SiteBrandingLanguage.objects.create(
        branding=branding,
        language="nl",
        site_name="Servicedesk Brussel",
        phone="+32 2 555 01 23",
        email="hulp@example.be",
        opening_hours="Ma–vr 08:00–18:00",
    )
    page.goto("/nl/")
    assert page.locator(".brand-name").inner_text() == "Servicedesk Brussel"
    colour = page.locator(".big-search button").evaluate("b => getComputedStyle(b).backgroundColor")
    assert colour == "rgb(122, 31, 92)"
    assert "hulp@example.be" in page.locator(".site-footer").inner_text()
    assert page.title().endswith("Servicedesk Brussel")
    assert not [e for e in errors if "Content Security Policy" in e], errors
    _shots(page, "after-branding-home-nl")
    page.goto("/fr/")
    assert page.locator(".brand-name").inner_text() != "Servicedesk Brussel"


def test_category_search_and_article_screens(browser_page):
    page = browser_page
    category = CategoryPage.objects.filter(locale__language_code="nl").first()
    page.goto(category.url)
    assert page.locator("#category-count").is_visible()
    _shots(page, "after-category-nl")
    page.goto("/nl/search/?q=wifi+werkt+niet")
    page.wait_for_selector(".results-list li")
    page.set_viewport_size(PHONE)
    # Compact results: at least four fit on one phone screen (they were two).
    tallest = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('.results-list li')].slice(0, 5)"
        ".map(li => li.getBoundingClientRect().height))"
    )
    title_size = page.locator(".result-title").first.evaluate(
        "e => parseFloat(getComputedStyle(e).fontSize)"
    )
    page.set_viewport_size(DESKTOP)
    _shots(page, "after-search-nl")
    assert tallest * 4 <= PHONE["height"], tallest
    assert title_size <= 17, title_size


def _serious(results):
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_axe_finds_no_serious_or_critical_violation(browser_page, login_browser):
    page = browser_page
    axe = Axe()
    wifi = _article("demo-wifi-cannot-connect", "nl")
    category = CategoryPage.objects.filter(locale__language_code="fr").first()
    urls = [
        "/nl/",
        category.url,
        "/en/search/?q=printer+offline",
        wifi.url,
        f"{wifi.url}?guide=1&answers=n",
        f"/nl/contact/?article={wifi.pk}&guide=1&answers=yn",
        "/fr/status/",
    ]
    found = {}
    for url in urls:
        for viewport in (DESKTOP, PHONE):
            page.set_viewport_size(viewport)
            page.goto(url)
            problems = _serious(axe.run(page))
            if problems:
                found[f"{url} @{viewport['width']}"] = problems
    login_browser(get_user_model().objects.get(username="operator"))
    page.set_viewport_size(DESKTOP)
    page.goto("/operator/")
    page.locator("#q").fill("printer offline")
    page.wait_for_selector("#results .hit")
    problems = _serious(axe.run(page))
    if problems:
        found["/operator/"] = problems
    assert not found, found
