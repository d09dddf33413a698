"""The gap report reads the question's language stored with each search (the one the search
chose its model and bar with) instead of detecting it again, and counts a topic's demand in
it; searches logged before it was stored (blank) still work: detected again for the rule,
counted in their locale."""

from collections import Counter

import pytest

from insights import gaps
from insights.models import CallOutcome, SearchEvent

pytestmark = [pytest.mark.model, pytest.mark.django_db]

OLD_ENGLISH = [  # logged before the question's language was stored
    "the coffee machine on the third floor shows error C12",
    "coffee machine error C12 on floor three",
    "coffee machine third floor says C12 and gives no coffee",
]
DUTCH_ON_THE_ENGLISH_PAGE = [
    "de koffiemachine op de derde verdieping geeft foutcode C12",
    "koffieautomaat op de derde verdieping toont fout C12 en geeft geen koffie",
]


def _log(texts, *, stored):
    for i, text in enumerate(texts):
        SearchEvent.objects.create(
            channel=SearchEvent.CHANNEL_PUBLIC,
            locale="en",
            question_language=stored,
            query=text,
            no_good_match=True,
            session_key=f"visitor-{stored or 'old'}-{i}",
        )


def _languages(report):
    counted = Counter()
    for topic in report.topics:
        counted.update(topic.languages)
    return counted


def test_old_and_new_rows_count_in_the_questions_language_and_only_old_ones_are_detected(
    monkeypatch,
):
    _log(OLD_ENGLISH, stored="")
    _log(DUTCH_ON_THE_ENGLISH_PAGE, stored="nl")
    # A call closed with "no article found" without a search: the call's own language.
    CallOutcome.objects.create(
        outcome=CallOutcome.NO_ARTICLE, locale="fr", query="machine à café 3e étage erreur C12"
    )
    detected = []
    detect = gaps.question_language
    monkeypatch.setattr(
        gaps,
        "question_language",
        lambda text, stated: detected.append(text) or detect(text, stated),
    )

    report = gaps.knowledge_gaps(days=1, min_volume=1)

    assert report.items == 6
    assert _languages(report) == {"en": 3, "nl": 2, "fr": 1}
    # Detected again: the three old searches and the call (no search to take it from), not
    # the Dutch searches whose language the search stored.
    assert sorted(detected) == sorted([*OLD_ENGLISH, "machine à café 3e étage erreur C12"])

    dutch = gaps.knowledge_gaps(days=1, min_volume=1, locale="nl")
    assert _languages(dutch) == {"nl": 2}
    english = gaps.knowledge_gaps(days=1, min_volume=1, locale="en")
    assert _languages(english) == {"en": 3}
