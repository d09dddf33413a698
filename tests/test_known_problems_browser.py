"""Known problems in a real browser: the console card with Alt+K, the customer banner that
disappears once the problem is resolved, the status page, the deflection on the 'still need
help' form, the early-warning list with its declare action. Screenshots at desktop and phone."""

import datetime

import pytest
from django.utils import timezone

from incidents import early_warnings, services
from incidents.models import Deflection, EarlyWarning, IncidentLink, KnownProblem
from insights.models import ContactRequest
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

    # Following the banner to the status page is counted for the report.
    page.locator("[data-testid=known-problem-banner-link]").click()
    page.wait_for_url("**/fr/status/")
    assert problem.title_fr in page.locator(".kp-status-section").first.inner_text()
    assert problem.deflections.filter(source=Deflection.SOURCE_BANNER).count() == 1
    screenshot(page, "known-problem-status-page-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, "known-problem-status-page-phone")
    page.set_viewport_size(DESKTOP)

    services.change_status(problem, KnownProblem.STATUS_RESOLVED)
    page.goto("/fr/")
    assert page.locator("[data-testid=known-problem-banner]").count() == 0
    page.goto("/fr/status/")
    recent = page.locator(".kp-status-section").nth(1).inner_text()
    assert problem.title_fr in recent


def test_contact_form_shows_the_known_problem_and_the_customer_stops(browser_page):
    page = browser_page
    problem = _e301()
    page.goto("/nl/contact/")
    page.fill("#id_name", "An Peeters")
    page.fill("#id_email", "an@example.be")
    page.fill("#id_message", "Mijn decoder toont foutcode E-301 en alle zenders zijn zwart")
    page.click("#contact-send")
    deflection = page.locator("[data-testid=known-problem-deflection]")
    deflection.wait_for()
    # Shown before anything is sent: the problem in the customer's language, with its status.
    assert problem.title_nl in deflection.inner_text()
    assert "Tijdelijke oplossing beschikbaar" in deflection.inner_text()
    assert ContactRequest.objects.count() == 0
    screenshot(page, "known-problem-deflection-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, "known-problem-deflection-phone")
    page.set_viewport_size(DESKTOP)
    page.locator(".kp-deflect-yes").first.click()
    page.locator("#kp-deflected").wait_for()
    assert ContactRequest.objects.count() == 0  # the customer stopped
    recorded = problem.deflections.get(source=Deflection.SOURCE_CONTACT_FORM)
    assert recorded.locale == "nl"


def test_early_warning_list_and_declare_on_the_prefilled_form(login_browser, users):
    now = timezone.now()
    warning = early_warnings.raise_warning(
        topic="desk phone stuck on registering",
        locale="en",
        examples=[
            "desk phone stuck on registering",
            "bureautelefoon blijft hangen op registreren",
            "téléphone fixe du bureau sans tonalité",
        ],
        languages={"en": 5, "nl": 4, "fr": 2},
        observed=11,
        expected=0.3,
        window_minutes=20,
        first_rise_at=now - datetime.timedelta(minutes=18),
    )
    page = login_browser(users["secondline"])
    page.goto("/admin/")
    panel = page.locator("[data-testid=early-warning-home-panel]")
    assert "desk phone stuck on registering" in panel.inner_text()
    page.goto("/admin/early-warnings/")
    card = page.locator(f"[data-early-warning='{warning.pk}']")
    assert "bureautelefoon blijft hangen op registreren" in card.inner_text()
    screenshot(page, "early-warning-list-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, "early-warning-list-phone")
    page.set_viewport_size(DESKTOP)

    card.locator("[data-action=declare]").click()
    page.wait_for_url("**/knownproblem/add/**")
    assert page.locator("#id_title_en").input_value() == "desk phone stuck on registering"
    assert (
        "téléphone fixe du bureau sans tonalité" in page.locator("#id_internal_notes").input_value()
    )
    screenshot(page, "early-warning-declare-form-desktop")
    page.locator("button.action-save").first.click()
    page.wait_for_url("**/knownproblem/**")
    page.locator(".messages").wait_for()
    problem = KnownProblem.objects.get(title_en="desk phone stuck on registering")
    warning.refresh_from_db()
    assert warning.status == EarlyWarning.STATUS_DECLARED and warning.known_problem == problem
    assert warning.handled_by == users["secondline"]
    page.goto("/admin/early-warnings/")
    page.locator("[data-testid=no-early-warnings]").wait_for()
