"""One encoding per question on a search request, and the gap report's inputs kept anyway.

A search request encodes the question once, with the model that serves its language
(English: all-MiniLM-L6-v2; Dutch and French: multilingual e5). The known-problem matcher
compares that same vector, with a threshold per model (incidents/matching.py); an unanswered
English search is no longer encoded a second time, in the comparison model the gap report
clusters in: the worker's `gap_vectors` job does it off the request (search/jobs.py). Each
encoding costs 20-30 ms of CPU on the two shared cores (bench/request_cpu.py), so an extra
one is latency every operator feels. Real models throughout; the encoders are only watched.
"""

import datetime

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from wagtail.models import Page

from embeddings.encoder import comparison_model_id, encoders, model_for_language
from embeddings.vectors import clear_query_cache
from incidents.models import KnownProblem
from insights.gaps import REFINEMENT_WINDOW, embed_texts, knowledge_gaps, normalise
from insights.models import QueryVector, SearchEvent
from search import jobs

pytestmark = [pytest.mark.model, pytest.mark.django_db]

OPERATOR_URL = "/api/v1/search/"
PUBLIC_URL = "/api/v1/public/search/"
# Nothing in the demo knowledge base answers these (no good match in every language).
COFFEE_EN = [
    "the coffee machine on the third floor shows error C12",
    "coffee machine error C12 on floor three",
    "coffee machine on floor 3 shows error C12, call me on 0475 12 34 56",
]
COFFEE_NL = [
    "de koffiemachine op de derde verdieping geeft foutcode c12",
    "koffieautomaat derde verdieping toont fout c12 en geeft geen koffie",
]


@pytest.fixture
def encodings(monkeypatch):
    """{model id: texts it encoded as queries}, from the real encoders (calls pass through)."""
    seen = {}
    for encoder in encoders():
        original = encoder.encode_queries
        seen[encoder.model_id] = []

        def watched(texts, original=original, model_id=encoder.model_id):
            texts = list(texts)
            seen[model_id] += texts
            return original(texts)

        monkeypatch.setattr(encoder, "encode_queries", watched)
    clear_query_cache()
    return seen


def _after_refinement_window():
    return timezone.now() + REFINEMENT_WINDOW + datetime.timedelta(seconds=1)


@pytest.mark.parametrize(
    "locale,question",
    [
        ("nl", "alle tv-zenders zijn zwart op de decoder"),
        ("fr", "toutes les chaînes télé sont noires sur le décodeur"),
    ],
)
def test_a_dutch_or_french_search_encodes_once_and_finds_the_outage_with_that_vector(
    operator, encodings, locale, question
):
    e301 = KnownProblem.objects.get(title_en__startswith="TV decoder error E-301")
    data = operator.get(OPERATOR_URL, {"q": question, "locale": locale, "limit": 8}).json()
    # Found by meaning (no error code in the question), in e5's space with e5's threshold.
    assert [(p["id"], p["matched_by"]) for p in data["known_problems"]][:1] == [
        (e301.pk, "meaning")
    ]
    served_by = model_for_language(locale)
    assert encodings[served_by] == [question]
    assert all(not texts for model, texts in encodings.items() if model != served_by)


def test_an_unanswered_english_search_encodes_once_on_the_request(client, encodings):
    data = client.get(PUBLIC_URL, {"q": COFFEE_EN[0], "locale": "en"}).json()
    assert data["no_good_match"] and data["search_id"]
    assert encodings[model_for_language("en")] == [COFFEE_EN[0]]
    assert encodings[comparison_model_id()] == []  # not for the gap report either
    assert not QueryVector.objects.exists()


def test_the_worker_gives_unanswered_english_searches_their_vector_for_the_gap_report(
    operator, encodings
):
    customer = Client()
    for query in COFFEE_EN:
        assert customer.get(PUBLIC_URL, {"q": query, "locale": "en"}).json()["no_good_match"]
    # An operator types: the prefix the console sent first is refined, not demand of its own.
    for text in ("coffee machine thi", "coffee machine third floor error C12"):
        assert operator.get(OPERATOR_URL, {"q": text, "locale": "en", "source": "console"}).json()[
            "no_good_match"
        ]
    assert encodings[comparison_model_id()] == []  # nothing encoded for the report yet

    summary = jobs.gap_vectors(now=_after_refinement_window())
    assert summary.startswith("4 of 4"), summary
    keys = [normalise(q) for q in COFFEE_EN[:2]] + [
        normalise("coffee machine third floor error C12")
    ]
    assert set(keys) <= {normalise(t) for t in encodings[comparison_model_id()]}
    assert normalise("coffee machine thi") not in {
        normalise(t) for t in encodings[comparison_model_id()]
    }
    # The redacted text (the phone number replaced) was encoded, never the raw one.
    assert not any("0475" in t for t in encodings[comparison_model_id()])

    # The report and early warning find every vector stored: they encode nothing now...
    _vectors, encoded_now = embed_texts(keys)
    assert encoded_now == 0
    report = knowledge_gaps(days=1)
    assert report.encoded == 0
    topic = next(t for t in report.topics if "coffee" in t.label.lower())
    assert topic.volume == 4 and set(topic.languages) == {"en"}
    # ... and a second run of the job (every minute) encodes nothing again.
    assert jobs.gap_vectors(now=_after_refinement_window()).startswith("0 of 4")


def test_an_unanswered_dutch_search_keeps_its_vector_and_reaches_the_gap_report(encodings):
    customer = Client()
    for query in COFFEE_NL:
        data = customer.get(PUBLIC_URL, {"q": query, "locale": "nl"}).json()
        assert data["no_good_match"], query
    # The search's own e5 vector (the comparison model) was kept when it was logged.
    assert encodings[comparison_model_id()] == COFFEE_NL
    assert QueryVector.objects.filter(model_id=comparison_model_id()).count() == 2
    # Through the worker as deployed (run_worker --once), the searches two minutes old. The
    # articles were there before them: a page published after a search counts as answering it
    # in the gap report, and the test database may have been built less than two minutes ago.
    SearchEvent.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=2))
    Page.objects.update(last_published_at=timezone.now() - datetime.timedelta(hours=1))
    call_command("run_worker", "--once", "--no-tasks", "--job", "gap_vectors")
    assert encodings[comparison_model_id()] == COFFEE_NL  # nothing encoded again
    report = knowledge_gaps(days=1)
    assert report.encoded == 0
    topic = next(t for t in report.topics if t.languages.get("nl"))
    assert topic.volume == 2 and topic.main_locale == "nl"
    assert set(topic.examples) == set(COFFEE_NL)
