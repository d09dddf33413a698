"""Turning what a caller said into a work-in-progress article (capture and gap drafts)."""

import pytest

from articles.authoring import DraftError, create_wip_article
from articles.models import SolutionArticlePage
from articles.roles import SECOND_LINE

pytestmark = pytest.mark.django_db


def test_draft_is_unpublished_wip_with_redacted_phrasings(users):
    page = create_wip_article(
        phrasings=[
            "my badge reader beeps red, mail me at jan.peeters@example.be",
            "badge reader beeps red, call +32 470 12 34 56",
            "my badge reader beeps red, mail me at jan.peeters@example.be",
        ],
        locale="nl",
        user=users["secondline"],
    )
    page.refresh_from_db()
    assert not page.live
    assert page.kcs_state == SolutionArticlePage.KCS_WIP
    assert page.audience == SolutionArticlePage.AUDIENCE_INTERNAL
    assert page.locale.language_code == "nl"
    assert "@" not in page.issue and "470" not in page.issue
    assert page.issue.splitlines() == [
        "my badge reader beeps red, mail me at [EMAIL]",
        "badge reader beeps red, call [PHONE]",
    ]
    assert page.title == "my badge reader beeps red, mail me at [EMAIL]"
    assert page.owner_group.name == SECOND_LINE
    assert page.owner_user == users["secondline"]
    assert page.get_latest_revision() is not None


def test_draft_needs_a_phrasing_and_a_known_language():
    with pytest.raises(DraftError):
        create_wip_article(phrasings=["  ", ""], locale="en")
    with pytest.raises(DraftError):
        create_wip_article(phrasings=["printer jams"], locale="de")
