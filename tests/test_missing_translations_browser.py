"""Reports → Missing translations in Debian's Chromium (Playwright): a knowledge manager sees an
English-only article that a Dutch call was solved with, follows "Translate into Dutch" to
Wagtail's translation form for that article, which opens with Dutch (only) ticked, submits it
as it is, gets the Dutch copy and finds the report offering to edit that draft. Screenshots
at desktop and phone width."""

import re

import pytest
from wagtail.models import Locale

from articles.models import SolutionArticlePage
from tests.conftest import screenshot
from tests.test_reports import operator_search, record

pytestmark = [pytest.mark.browser, pytest.mark.model, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
REPORT = "/admin/kb-reports/missing-translations/"
DUTCH_CALL = "scherm van mijn laptop is gebarsten, valt dat onder garantie"


def _shot_at_both_widths(page, name, focus=None):
    """Desktop, then phone width; `focus` scrolled into view first (the admin scrolls its
    content inside the window, so a full-page screenshot shows only the top)."""
    for width, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        if focus is not None:
            focus.scroll_into_view_if_needed()
        screenshot(page, f"{name}-{width}")


def test_a_manager_follows_translate_into_dutch_to_wagtails_translation_form(
    login_browser, users, operator
):
    warranty = SolutionArticlePage.objects.get(
        external_id="demo-screen-warranty", locale__language_code="en"
    )
    assert {p.locale.language_code for p in warranty.get_translations(inclusive=True)} == {"en"}
    # A Dutch call solved with the English-only article, through the operator's endpoints.
    search = operator_search(operator, DUTCH_CALL, locale="nl")
    record(operator, "solved", search, warranty, locale="nl")

    page = login_browser(users["manager"])
    page.goto(REPORT)
    row = page.locator(f"tr[data-article='{warranty.translation_key}']")
    need = row.locator("[data-missing-language='nl']")
    assert "Broken laptop screen: warranty and repair" in row.inner_text()
    assert "calls solved: 1" in need.inner_text()
    assert "gebarsten" in need.inner_text()
    assert row.locator("[data-missing-language='fr']").count() == 0  # nobody asked in French
    translate = need.get_by_role("link", name="Translate into Dutch")
    assert translate.is_visible()
    _shot_at_both_widths(page, "missing-translations-report", focus=need)
    translate.scroll_into_view_if_needed()
    assert translate.is_visible()  # reachable on a phone too
    assert translate.bounding_box()["x"] >= 0
    # The wide table scrolls inside its section: the page's title stays in view on a phone.
    assert page.locator("h1").first.bounding_box()["x"] >= 0
    page.set_viewport_size(DESKTOP)

    translate.click()
    # Our address for Wagtail's form, with the language clicked in the report.
    page.wait_for_url(re.compile(rf".*/admin/articles/{warranty.pk}/translate/\?locale=nl$"))
    heading = page.locator("h1").first.inner_text()  # "Translate page <the article's title>"
    assert heading.strip().startswith("Translate page")
    assert "Broken laptop screen: warranty and repair" in heading
    dutch_locale = Locale.objects.get(language_code="nl")
    boxes = page.locator("input[name='locales']")
    assert boxes.count() == 2  # the two languages the article is not in: Dutch and French
    dutch = page.locator(f"input[name='locales'][value='{dutch_locale.pk}']")
    assert dutch.is_enabled()
    # Dutch is ticked on arrival, nothing else (French, "Select all").
    assert dutch.is_checked()
    ticked = [boxes.nth(i).get_attribute("value") for i in range(2) if boxes.nth(i).is_checked()]
    assert ticked == [str(dutch_locale.pk)]
    assert not page.locator("input[name='select_all']").is_checked()
    _shot_at_both_widths(page, "missing-translations-translate-form")
    page.set_viewport_size(DESKTOP)

    # Submitted as it opened: the manager ticks nothing.
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url("**/admin/pages/*/edit/")
    copy = SolutionArticlePage.objects.get(
        translation_key=warranty.translation_key, locale=dutch_locale
    )
    assert f"/admin/pages/{copy.pk}/edit/" in page.url and not copy.live
    # Only the Dutch draft: no French copy nobody asked for.
    assert {p.locale.language_code for p in warranty.get_translations(inclusive=True)} == {
        "en",
        "nl",
    }

    # Back in the report: Dutch is still missing (nothing published), now "edit the draft".
    page.goto(REPORT)
    need = page.locator(
        f"tr[data-article='{warranty.translation_key}'] [data-missing-language='nl']"
    )
    edit = need.get_by_role("link", name="Edit the Dutch draft")
    assert edit.get_attribute("href") == f"/admin/pages/{copy.pk}/edit/"
