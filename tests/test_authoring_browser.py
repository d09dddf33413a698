"""Second line writes a new article in the Wagtail editor (Playwright driving Debian's Chromium):
the similar-articles panel shows the existing article, the duplicate warning appears, and
submitting for review asks for confirmation before the article goes to review."""

import pytest
from wagtail.models import WorkflowState

from articles.models import CategoryPage, SolutionArticlePage
from tests.conftest import (
    screenshot,
    wait_for_editor_idle,
    wait_for_message,
    wait_until_wagtail_tracks_edits,
    watch_wagtail_edit_tracking,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_editor_sees_similar_articles_and_confirms_a_duplicate_before_review(
    login_browser, users, article
):
    existing = article("demo-printer-offline")
    nl_version = article("demo-printer-offline", "nl")
    parent = CategoryPage.objects.get(pk=existing.get_parent().pk)
    page = login_browser(users["secondline"])
    watch_wagtail_edit_tracking(page)
    page.goto(f"/admin/pages/add/articles/solutionarticlepage/{parent.pk}/")

    # The new article starts from the content standard: one step to fill in.
    page.wait_for_selector("#kb-similar")
    assert (
        page.locator("[data-contentpath='resolution'] [data-contentpath='instruction']").count()
        >= 1
    )

    wait_until_wagtail_tracks_edits(page)
    page.locator("#id_title").fill("")
    page.locator("#id_title").type("Printer shows offline", delay=10)
    page.locator("#id_issue").type("\n".join(existing.issue_phrasings[:3]), delay=5)
    page.wait_for_selector(f"#kb-similar-list li[data-id='{existing.pk}']")
    page.wait_for_selector("#kb-duplicate-warning:not([hidden])")
    listed = page.locator("#kb-similar-list li").all_inner_texts()
    assert existing.title in listed[0] and "EN" in listed[0]
    assert any(li for li in page.locator(f"#kb-similar-list li[data-id='{nl_version.pk}']").all())
    screenshot(page, "authoring-similar-articles")

    editor = page.locator(
        "[data-contentpath='resolution'] [data-contentpath='instruction'] [contenteditable='true']"
    ).first
    editor.click()
    page.keyboard.type("Switch the printer off and on again.")

    # Wagtail autosaves a new page as a draft and moves the form to its edit URL: wait
    # for that, so the submission below goes to the page that now exists.
    page.wait_for_url("**/pages/*/edit/**", timeout=60_000)
    wait_for_editor_idle(page)
    page.locator("footer .w-dropdown__toggle").click()
    page.locator("footer button[name='action-submit']").click()

    page.wait_for_selector("#kb-duplicate-confirm")
    assert existing.title in page.locator("#kb-duplicate-confirm").inner_text()
    # Nothing went to review yet (the editor may have autosaved a draft, which is fine).
    drafts = SolutionArticlePage.objects.filter(title="Printer shows offline")
    assert not WorkflowState.objects.filter(object_id__in=[str(d.pk) for d in drafts]).exists()
    assert not drafts.filter(live=True).exists()
    screenshot(page, "authoring-duplicate-confirmation")
    page.locator("#kb-confirm-anyway").click()

    wait_for_message(page, "submitted")
    new = SolutionArticlePage.objects.get(title="Printer shows offline")
    assert not new.live
    assert new.kcs_state == SolutionArticlePage.KCS_NOT_VALIDATED
    state = WorkflowState.objects.get(object_id=str(new.pk))
    assert state.status == WorkflowState.STATUS_IN_PROGRESS
    assert state.requested_by == users["secondline"]


def test_operator_flags_from_the_card_and_captures_a_draft_from_the_call(login_browser, users):
    from articles.models import ArticleFlag

    page = login_browser(users["operator"])
    page.goto("/operator/")
    with page.expect_navigation():
        page.click(".console-lang button[value=fr]")
    page.locator("#q").type("printer offline", delay=20)
    page.wait_for_selector("#results .hit")
    page.locator("#q").press("Enter")
    page.wait_for_selector("#card:not([hidden]) #card-title")
    title = page.locator("#card-title").inner_text()

    page.keyboard.press("Alt+f")
    assert page.locator("#flag-reason").evaluate("el => el === document.activeElement")
    assert "Étape manquante" in page.locator("#flag-reason").inner_text()
    page.select_option("#flag-reason", "missing_step")
    page.locator("#flag-comment").type("le pilote a changé, client 0475 12 34 56", delay=5)
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.querySelector('#flag-status').innerText.includes('Signalement envoyé')"
    )
    flag = ArticleFlag.objects.get()
    assert flag.article.title == title and flag.reason == "missing_step"
    assert flag.source == "console" and "[PHONE]" in flag.comment

    page.keyboard.press("Escape")
    page.locator("#q").fill("")
    page.locator("#q").type("le décodeur affiche E-202", delay=10)
    page.wait_for_selector("#status:not(:empty)")
    page.keyboard.press("Alt+n")
    page.locator("#note").type("client jan@example.be", delay=5)
    page.keyboard.press("Enter")
    page.wait_for_selector("#capture-row:not([hidden])")
    page.keyboard.press("Alt+d")
    page.wait_for_function(
        "() => document.querySelector('#capture-status').innerText.includes('deuxième ligne')"
    )
    draft = SolutionArticlePage.objects.get(title="le décodeur affiche E-202")
    assert not draft.live and draft.kcs_state == "wip" and draft.locale.language_code == "fr"
    assert "[EMAIL]" in draft.issue and "@" not in draft.issue
    screenshot(page, "operator-console-capture")
