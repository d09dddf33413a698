"""Known problems in a real browser: the console card with Alt+K, the customer banner that
disappears once the problem is resolved, the status page. Screenshots at desktop and phone."""

import pytest

from incidents import services
from incidents.models import IncidentLink, KnownProblem
from tests.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.model, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _e301():
    return KnownProblem.objects.get(title_en__startswith="TV decoder error E-301")


def test_console_shows_the_known_problem_card_above_articles_and_alt_k_links(login_browser, users):
    page = login_browser(users["operator"])
    page.goto("/operator/?lang=nl")
    page.select_option("#locale", "nl")
    page.fill("#ticket-ref", "INC-246810")
    page.fill("#q", "decoder foutmelding E-301, alle zenders zwart")
    card = page.locator("#known-problems .kp-card-console").first
    card.wait_for()
    page.locator("#results .hit").first.wait_for()
    problem = _e301()
    assert card.locator(".kp-title").inner_text() == problem.title_nl
    assert "Tijdelijke oplossing beschikbaar" in card.inner_text()  # status, in the UI language
    assert problem.workaround_nl in card.inner_text()
    # The card comes before the article results and does not look like one.
    card_box, first_hit = card.bounding_box(), page.locator("#results .hit").first.bounding_box()
    assert card_box["y"] < first_hit["y"]
    assert card.evaluate("e => getComputedStyle(e).backgroundColor") != page.locator(
        "#results .hit"
    ).first.evaluate("e => getComputedStyle(e).backgroundColor")
    screenshot(page, "known-problem-console-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, "known-problem-console-phone")
    page.set_viewport_size(DESKTOP)

    page.focus("#q")
    page.keyboard.press("Alt+k")
    page.locator("#outcome-status", has_text="INC-246810").wait_for()
    link = IncidentLink.objects.get(ticket_reference="INC-246810")
    assert (link.known_problem_id, link.user_id) == (problem.pk, users["operator"].pk)


def test_banner_while_active_gone_after_resolving(browser_page):
    page = browser_page
    problem = _e301()
    page.goto("/fr/")
    banner = page.locator("[data-testid=known-problem-banner]")
    assert problem.title_fr in banner.inner_text()
    screenshot(page, "known-problem-banner-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, "known-problem-banner-phone")
    page.set_viewport_size(DESKTOP)

    page.goto("/fr/status/")
    assert problem.title_fr in page.locator(".kp-status-section").first.inner_text()
    screenshot(page, "known-problem-status-page-desktop")

    services.change_status(problem, KnownProblem.STATUS_RESOLVED)
    page.goto("/fr/")
    assert page.locator("[data-testid=known-problem-banner]").count() == 0
    page.goto("/fr/status/")
    recent = page.locator(".kp-status-section").nth(1).inner_text()
    assert problem.title_fr in recent
