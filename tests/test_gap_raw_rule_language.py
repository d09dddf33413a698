"""The gap report's raw-cosine "answered since" rule (used for the questions over
KB_GAP_ANSWERED_SEARCHES) reads the bar of the question's own language, as the search does:
a German question logged on the English page is judged by German's bar, not English's. The
language the search detected is stored with it; only items without one are detected again."""

import datetime
from types import SimpleNamespace

import numpy as np
import pytest

from embeddings import calibration
from insights import gaps
from insights.models import SearchEvent

pytestmark = pytest.mark.django_db

E5 = "multilingual-e5-small-q4"
ASKED = datetime.datetime(2026, 11, 2, 9, 0, tzinfo=datetime.UTC)


def _judged(text, cosine, stored=""):
    """Whether the raw rule calls `text` (asked on the English page; `stored`: the question
    language logged with its search) answered by a newer public article whose best chunk has
    `cosine` with it."""
    item = gaps.GapItem(
        gaps.KIND_SEARCH,
        text,
        SearchEvent.CHANNEL_PUBLIC,
        "en",
        ASKED,
        key=text.casefold(),
        question_language=stored,
    )
    live = SimpleNamespace(
        model_id=E5,
        public=np.array([True]),
        page_ids=np.array([7]),
        pages={7: {"published": ASKED + datetime.timedelta(days=1)}},
    )
    scores, chunks = np.array([[cosine]], "float32"), np.array([[0]], "int64")
    return bool(gaps._newer_article_candidates([item], {item.key: 0}, scores, chunks, live)[0])


def test_a_german_question_on_the_english_page_is_judged_by_the_german_bar():
    german, english = (calibration.no_good_match_threshold(lang, E5) for lang in ("de", "en"))
    assert german < english
    between = (german + english) / 2
    assert _judged("Ich habe mein Passwort vergessen und kann mich nicht anmelden", between)
    assert not _judged("I forgot my password and cannot log in to my account", between)


def test_the_language_stored_with_the_search_is_used_not_detected_again():
    """What the search decided holds, also when the stored (redacted) text alone would not
    say it: here a wording too short to detect, which the search had found to be German."""
    german, english = (calibration.no_good_match_threshold(lang, E5) for lang in ("de", "en"))
    between = (german + english) / 2
    assert not _judged("[PHONE] Drucker", between)  # detected again: English, the page's
    assert _judged("[PHONE] Drucker", between, stored="de")
