"""A knowledge manager reviews what solved calls taught the search, in the Wagtail editor
(Playwright driving Debian's Chromium): "customers also describe this as …" with counts and
languages; one wording goes into the issue field, another is rejected for good."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from articles.models import SolutionArticlePage
from articles.roles import OPERATORS
from insights import events, learning
from insights.models import LearnedPhrasing
from tests.conftest import screenshot, wait_for_editor_idle, wait_for_message

pytestmark = [pytest.mark.browser, pytest.mark.model, pytest.mark.django_db(transaction=True)]

PROMOTED = "the big Ricoh by reception is greyed out on my laptop"
REJECTED = "my boss says the printer hates him personally"


def _teach(page):
    group = Group.objects.get(name=OPERATORS)
    callers = []
    for number in range(1, 3):
        user = get_user_model().objects.create_user(f"browser-op{number}", password="x-pass-123")
        user.groups.add(group)
        callers.append(user)
    wordings = {
        PROMOTED: ["the Ricoh near reception shows grey on my laptop"],
        REJECTED: ["my boss says the printer hates him personally, again"],
    }
    for first, others in wordings.items():
        for user, text in zip(callers, [first, *others], strict=True):
            events.record_outcome(
                user=user, outcome="solved", query=text, locale="en", article=page
            )
    learning.apply_learning()  # what run_worker's "learning" job does


def test_knowledge_manager_promotes_one_learned_wording_and_rejects_another(
    login_browser, users, article
):
    printer = article("demo-printer-offline")
    _teach(printer)
    active = LearnedPhrasing.objects.filter(article=printer, status="active")
    assert active.filter(text=PROMOTED).exists() and active.filter(text=REJECTED).exists()

    page = login_browser(users["manager"])
    page.goto(f"/admin/pages/{printer.pk}/edit/")
    page.wait_for_selector("#kb-learned-list li")
    assert "Customers also describe this as" in page.locator("#kb-learned").inner_text()
    promoted = page.locator("#kb-learned-list li", has_text=PROMOTED)
    assert "call" in promoted.inner_text() and "EN" in promoted.inner_text()
    assert "searchable" in promoted.inner_text()
    screenshot(page, "learned-phrasings-panel")

    promoted.locator("button.kb-learned-promote").click()
    page.wait_for_function(
        "text => document.querySelector('#id_issue').value.includes(text)", arg=PROMOTED
    )
    page.locator("#kb-learned-list li", has_text=REJECTED).locator(
        "button.kb-learned-reject"
    ).click()
    page.wait_for_selector("#kb-learned-status:has-text('Rejected')")
    assert page.locator("#kb-learned-list li", has_text=PROMOTED).count() == 0
    assert page.locator("#kb-learned-list li", has_text=REJECTED).count() == 0

    wait_for_editor_idle(page)
    page.locator("footer .w-dropdown__toggle").click()
    page.locator("footer button[name='action-publish']").click()
    confirm = page.locator("#kb-confirm-anyway")
    page.wait_for_selector("#kb-confirm-anyway, .messages")
    if confirm.count():  # the duplicate check may ask first (its translations are similar)
        confirm.click()
    wait_for_message(page, "published")

    printer = SolutionArticlePage.objects.get(pk=printer.pk)
    assert PROMOTED in printer.issue_phrasings
    statuses = dict(LearnedPhrasing.objects.filter(article=printer).values_list("text", "status"))
    assert statuses[PROMOTED] == "promoted" and statuses[REJECTED] == "rejected"
    # The promoted wording is now the article's own text, the rejected one is gone from search.
    learned = list(printer.chunks.filter(kind="learned").values_list("text", flat=True))
    assert not any(PROMOTED in text or REJECTED in text for text in learned)
