"""Staff screens in Debian's Chromium (Playwright): Wagtail's real autosave with an abandoned
draft of the same title, and the report screens at 1280 px (issue 18)."""

import datetime

import pytest
from django.utils import timezone

from articles.models import ArticleFlag, CategoryPage, SolutionArticlePage
from tests.conftest import (
    screenshot,
    wait_for_editor_idle,
    wait_until_wagtail_tracks_edits,
    watch_wagtail_edit_tracking,
)

pytestmark = [pytest.mark.browser, pytest.mark.model, pytest.mark.django_db(transaction=True)]

TITLE = "Badge reader at the car park beeps red"
ISSUE = "badge reader at the car park entrance beeps red\nthe barrier stays closed"


def _start_article(page, parent):
    page.goto(f"/admin/pages/add/articles/solutionarticlepage/{parent.pk}/")
    page.wait_for_selector("#kb-similar")
    page.wait_for_selector("#w-autosave-indicator", state="attached")
    page.wait_for_load_state("networkidle")  # Wagtail's controllers are connected
    wait_until_wagtail_tracks_edits(page)
    page.locator("#id_title").fill("")
    page.locator("#id_title").type(TITLE, delay=10)
    page.locator("#id_issue").type(ISSUE, delay=5)
    # Wagtail autosaves the new page as a draft and moves the form to its edit URL.
    try:
        page.wait_for_url("**/pages/*/edit/**", timeout=60_000)
    except Exception as error:
        screenshot(page, "failed-autosave-start")
        raise AssertionError(
            f"autosave did not create the page: still at {page.url}, autosave state "
            f"{_autosave_state(page)!r}, slug {page.locator('#id_slug').input_value()!r}, "
            f"messages {page.locator('.messages, .error-message').all_inner_texts()}"
        ) from error
    wait_for_editor_idle(page)
    return int(page.url.split("/pages/")[1].split("/")[0])


def _autosave_state(page):
    return page.locator("#w-autosave-indicator").get_attribute("data-w-autosave-state-value")


def test_an_abandoned_autosave_neither_pauses_autosave_nor_looks_like_a_duplicate(
    login_browser, users
):
    parent = CategoryPage.objects.get(slug="network-vpn-wifi", locale__language_code="en")
    page = login_browser(users["secondline"])
    watch_wagtail_edit_tracking(page)
    page.on("dialog", lambda dialog: dialog.accept())  # "leave this page?" is answered yes
    abandoned = _start_article(page, parent)  # then the editor leaves the page

    started_again = _start_article(page, parent)
    assert started_again != abandoned
    assert _autosave_state(page) != "paused"
    assert not page.locator(".w-autosave-indicator__state--paused").is_visible()
    first, second = (SolutionArticlePage.objects.get(pk=pk) for pk in (abandoned, started_again))
    assert (first.title, second.title) == (TITLE, TITLE)
    assert second.slug == first.slug + "-2"

    # The similar-articles panel lists the earlier start as the editor's own draft, not as
    # a duplicate; the article being written is not listed at all.
    page.locator("#id_issue").press("End")
    page.locator("#id_issue").type(" ")
    item = page.wait_for_selector(f"#kb-similar-list li[data-id='{abandoned}']")
    assert "your unpublished draft" in item.inner_text()
    assert "kb-similar-duplicate" not in (item.get_attribute("class") or "")
    assert page.locator("#kb-duplicate-warning").is_hidden()
    assert page.locator(f"#kb-similar-list li[data-id='{started_again}']").count() == 0
    screenshot(page, "staff-after-autosave-started-again")


def _fits(page, selector):
    """The element's right edge is inside the window (nothing runs off the screen)."""
    return page.evaluate(
        "(s) => document.querySelector(s).getBoundingClientRect().right <= window.innerWidth",
        selector,
    )


def test_report_screens_fit_a_1280_px_window(login_browser, users, article):
    from search.demo.events import load_demo_events

    load_demo_events(days=14, seed=2, calls_per_day=8, visits_per_day=6)
    printer = article("demo-printer-offline")
    ArticleFlag.objects.create(article=printer, reason="outdated", source="console")
    SolutionArticlePage.objects.filter(pk=printer.pk).update(
        kcs_state=SolutionArticlePage.KCS_VALIDATED,
        next_review_date=timezone.localdate() - datetime.timedelta(days=5),
    )
    page = login_browser(users["manager"])
    page.set_viewport_size({"width": 1280, "height": 1600})

    page.goto("/admin/kb-reports/knowledge-gaps/")
    page.get_by_role("heading", name="Gap topics", exact=True).wait_for()
    assert page.locator("tr[data-gap-topic]").count() >= 1
    assert _fits(page, ".kb-gaps-table")
    panels = page.locator(".kb-multiples__panel")
    assert 1 <= panels.count() <= 5
    assert all(p.locator("polyline").count() == 1 for p in panels.all())
    first = page.locator("tr[data-gap-topic] .kb-gap-details").first
    first.locator("summary").click()
    assert first.locator("li").first.is_visible()  # an example query, behind "Details"
    assert _fits(page, ".kb-gaps-table")
    screenshot(page, "staff-after-knowledge-gaps-1280")

    page.goto("/admin/kb-reports/kcs-health/")
    page.get_by_role("heading", name="Searches and calls over time").wait_for()
    assert page.locator("td", has_text="No-good-match rate").count() == 1
    assert page.locator("td", has_text="No-result rate").count() == 0
    screenshot(page, "staff-after-kcs-health-1280")

    for url, name in [
        ("/admin/reports/flagged-articles/", "staff-after-flagged-articles-1280"),
        ("/admin/reports/reviews-due/", "staff-after-reviews-due-1280"),
        ("/admin/reports/unfinished-drafts/", "staff-after-unfinished-drafts-1280"),
    ]:
        page.goto(url)
        page.wait_for_load_state("networkidle")
        if "unfinished" not in url:
            assert printer.title in page.locator("main").inner_text()
            page.get_by_role("button", name="Actions").click()  # the header's "…" menu
            assert page.get_by_role("link", name="Download CSV").is_visible()
        screenshot(page, name)
