"""Hybrid retrieval: dense (FAISS) + lexical (Wagtail database search), fused, filtered, collapsed.

`search()` is the one read path used by the operator console, the public pages and the APIs.
Visibility is enforced here, before anything leaves: anonymous and customer callers only
ever get live public articles; staff get live public + internal.
"""

import logging
import re
import time
import unicodedata
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Model
from django.db.models.sql import Query
from wagtail.models import Locale, Page

from articles.models import EscalationTeam, Service, SolutionArticlePage
from articles.selectors import visible_articles
from articles.visibility import user_is_staff_reader
from dbutils.prepared import PreparedStatement, kept
from embeddings import calibration, replica
from embeddings import vectors as embedding_vectors
from embeddings.chunking import without_title
from embeddings.encoder import EncoderUnavailable, comparison_model_id, model_for_language
from embeddings.models import Chunk
from embeddings.vectors import nearest_chunks, query_vector
from insights.learning import LEARNED_KIND
from textutils.language import question_language

from . import lexical
from .stopwords import content_terms, stem_prefixes

logger = logging.getLogger("kb.search")

# Chosen by measurement (bench/tune_search.py, docs/search-quality.md).
DEFAULTS = {
    # Dense weight per query language (with the model that serves it); lexical gets the rest.
    # "default": a language the site has no content in (a German question): the full-text
    # query only matches stray shared words there, so dense only (German -> English test
    # half Hit@1 72.8 against 51.6 at 0.9). French dense only too since session 5 (chosen
    # per model on the tune halves: an English-only article never matches French words).
    # nl/fr 0.98 since session 6: e5's cosines for one query spread over a few hundredths,
    # so a 2 % full-text share breaks its near-ties between the caller's-language articles
    # (chosen on the nl+fr tune halves on a grid fine near 1, jointly with
    # KB_LEXICAL_NO_VERSION_CREDIT; German, without content of its own, keeps dense only:
    # bench/tune_search.py, docs/search-quality.md).
    # Session 9: 0.985, chosen jointly with KB_CROSS_LANGUAGE_LIFT on the enlarged tune half.
    "KB_FUSION_DENSE_WEIGHT": {"en": 0.9, "nl": 0.985, "fr": 0.985, "default": 1.0},
    "KB_DENSE_CANDIDATES": 100,
    "KB_LEXICAL_CANDIDATES": 50,
    "KB_FUSION_LEXICAL_NORM": "max",
    # "raw": cosines as they are. "minmax" (spread over 0..1 per query) looked better on the
    # nl/fr tune halves but lost on every test half it changed (bench/tune_search.py).
    "KB_FUSION_DENSE_NORM": "raw",
    # Also match words that start with the stem of a query word (Snowball, query language).
    "KB_LEXICAL_STEMS": True,
    "KB_FALLBACK_LOCALE_FACTOR": 1.0,
    # Share of the full-text score an article in another language than the caller's keeps,
    # per query language (shared words such as product names still match across languages,
    # but mostly it is noise: bench/tune_search.py chooses it on the tune halves).
    "KB_LEXICAL_OTHER_LANGUAGE_FACTOR": {"default": 1.0},
    # Full text cannot judge an article that has no version in the question's language (a
    # Dutch question's words never match an English-only article): such an article gets
    # this share of the best full-text score instead of 0, so a word shared with some Dutch
    # article about something else does not push the English-only answer down (session 6,
    # chosen with the dense weight on the nl+fr tune halves by bench/tune_search.py).
    "KB_LEXICAL_NO_VERSION_CREDIT": {"nl": 1.0, "fr": 1.0, "default": 0.0},
    # A learned phrasing's similarity counts for this share of an own phrasing's
    # (bench/learning_curve.py: tuned on one half of banking77, reported on the other).
    "KB_LEARNED_CHUNK_WEIGHT": 1.0,
    # ... and this share in the confidence (the no-good-match flag), per model; ranking
    # keeps KB_LEARNED_CHUNK_WEIGHT. In e5 space any short wording sits close to any short
    # question, so there a learned wording ranks but does not make a search confident
    # (chosen on the demo tune half and banking77 half A: bench/learning_curve.py, session 8).
    "KB_LEARNED_CONFIDENCE_WEIGHT": {"multilingual-e5-small-q4": 0.0, "default": 1.0},
    # An article's dense score for ranking: (1 - s) * its best chunk's cosine + s * the mean
    # of its best TOP_CHUNKS chunks', per model (bench/model_choice.py, tune halves: e5's
    # single best chunk is noisy across languages; MiniLM neutral, so left at 0).
    "KB_DENSE_TOP_CHUNKS_SHARE": {"multilingual-e5-small-q4": 0.5, "default": 0.0},
    # "best": an article ranks by its best-matching language version, and the caller's
    # language version is the one shown; "own" (before session 7): by the score of the
    # version shown, the caller's whenever it matched at all, so a Dutch question typed
    # while the console says English ranked each article by its English version's weaker
    # cross-language match (tune halves, console in English: nl Hit@1 58.8 -> 82.4, fr
    # 56.2 -> 75.0 with the full-text side in the question's language; unchanged when the
    # console's language is the question's: bench/xling_variants.py). Per model: MiniLM
    # does not compare across languages (its cosine against a Dutch version is noise), so
    # English keeps "own".
    "KB_ARTICLE_SCORE_VERSION": {"multilingual-e5-small-q4": "best", "default": "own"},
    # e5 matches a question a few hundredths higher against text in the question's own
    # language (median 0.02 over the version pairs of translated articles, measured without
    # labels: bench/xling_variants.py). An article with NO version in the question's language
    # can only be matched across languages, so its dense score (ranking and confidence) gets
    # this lift, per model; only for questions in a content language (a German question's
    # articles are all in another language). Translated articles keep their scores: their
    # own-language version already carries the bias. Session 9: chosen with the dense weight
    # and KB_LEXICAL_NO_VERSION_CREDIT on the nl+fr tune halves (bench/tune_search.py, pooled
    # MRR 86.8 -> 88.1) among the lifts that keep the requirement tests: from 0.0075 up, a
    # Dutch question about stopping a direct debit went to the English-only out-of-office
    # article (bench/xling_requirements.py); the tune half alone preferred 0.02 (89.7).
    "KB_CROSS_LANGUAGE_LIFT": {"multilingual-e5-small-q4": 0.005, "default": 0.0},
    # Learned phrasings vote (kNN style): an article's dense score for ranking gains this
    # weight times the mean of its 2nd..Kth best learned cosines (K = KB_LEARNED_VOTES), so
    # several customer wordings near the query count for more than one. Ranking only: the
    # confidence (no-good-match) stays the best single cosine (bench/learning_curve.py).
    "KB_LEARNED_VOTES": 5,
    "KB_LEARNED_VOTE_WEIGHT": 0.0,
    # Which version of an article to show when none is in the caller's language: the first
    # of these languages it has (among the versions the search retrieved), per caller
    # language. The site's own language comes first: a French-speaking caller is shown the
    # English version of an article written in English and Dutch, not whichever of the two
    # matched a few hundredths better. Ranking does not change: the article keeps the score
    # of its best-matching version. A language missing from the list comes after the listed.
    "KB_LANGUAGE_FALLBACKS": {
        "en": ["nl", "fr"],
        "nl": ["en", "fr"],
        "fr": ["en", "nl"],
        "default": ["en", "nl", "fr"],
    },
}
TOP_CHUNKS = 3
MODES = ("hybrid", "dense", "lexical")
_LEXICAL_SAFE = re.compile(r"[^\w]+", re.UNICODE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _locale_ids():
    global _LOCALE_IDS
    if _LOCALE_IDS is None:
        _LOCALE_IDS = dict(Locale.objects.values_list("language_code", "pk"))
    return _LOCALE_IDS


_LOCALE_IDS = None


def _locale_codes():
    """Locale id -> language code: the inverse of _locale_ids(), rebuilt whenever that map is
    (it is cached with the very dict it inverts)."""
    global _LOCALE_CODES
    ids = _locale_ids()
    if _LOCALE_CODES is None or _LOCALE_CODES[0] is not ids:
        _LOCALE_CODES = (ids, {pk: code for code, pk in ids.items()})
    return _LOCALE_CODES[1]


_LOCALE_CODES = None


def _setting(name):
    return getattr(settings, name, DEFAULTS[name])


class InvalidQuery(ValueError):
    """The query cannot be searched; the message is meant for the person who typed it.
    `code` ("empty", "too_long", "limit") lets a customer-facing page say it in its own words."""

    def __init__(self, message, code="invalid", **params):
        super().__init__(message)
        self.code = code
        self.params = params


@dataclass
class Hit:
    page: SolutionArticlePage
    score: float
    dense_score: float
    lexical_score: float
    snippet: str
    chunk_kind: str
    matched_step: int | None
    fallback: bool  # a version in another language than the caller's
    # For a fallback hit: the languages the article was found in (none is the caller's),
    # the one shown first: what "only available in ..." lists.
    languages: tuple = ()

    @property
    def locale(self):
        return self.page.locale.language_code


@dataclass
class SearchResponse:
    query: str
    locale: str
    hits: list = field(default_factory=list)
    confidence: float = 0.0
    no_good_match: bool = True
    took_ms: float = 0.0
    mode: str = "hybrid"
    question_language: str = ""
    model_id: str = ""  # the embedding model that encoded the query (its vector is cached)


_SERVICE_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,255}")


def clean_query(raw):
    """Normalise what was typed; raise InvalidQuery when nothing searchable remains."""
    if raw is None:
        raise InvalidQuery("Type what the customer is asking about.", code="empty")
    text = unicodedata.normalize("NFC", str(raw))
    text = _CONTROL.sub(" ", text)
    text = " ".join(text.split())
    max_chars = settings.KB_SEARCH_MAX_QUERY_CHARS
    if len(text) > max_chars:
        raise InvalidQuery(
            f"The question is too long: at most {max_chars} characters.",
            code="too_long",
            max_chars=max_chars,
        )
    if not any(ch.isalnum() for ch in text):
        raise InvalidQuery("Type what the customer is asking about.", code="empty")
    return text


# --- retrieval ------------------------------------------------------------------------


def dense_candidates(query, locale_codes, k, model_id):
    """{chunk_id: cosine} of one model over the given locales' FAISS indexes."""
    # This node's files are a replica of the chunk table: wakes the follower thread when
    # the node may be behind (a search never waits for a catch-up in a web process).
    replica.maybe_catch_up()
    return nearest_chunks(query_vector(query, model_id), locale_codes, k, model_id)


def cached_query_vector(query):
    """The query's vector in the comparison model's space if a search just encoded it (the
    event log keeps it for the gap report), else None. Never encodes."""
    try:
        return embedding_vectors.cached_query_vector(query, comparison_model_id())
    except EncoderUnavailable:
        return None


def lexical_terms(query, locale="en"):
    """The words of a query sent to the full-text index: punctuation is never query syntax
    (FTS5: "-" negates, ":" names a column), function words of the language are dropped."""
    return content_terms(_LEXICAL_SAFE.sub(" ", query).split(), locale)


def lexical_candidates(query, articles_qs, k, locale="en", direct=True):
    """{page id: full-text score} from Wagtail's database search index over `articles_qs`.

    One ranked query over the index the backend maintains (search/lexical.py); Wagtail's own
    `.search()` when the backend is not one that module knows, or with direct=False."""
    terms = lexical_terms(query, locale)
    if not terms or articles_qs.query.is_empty():
        return {}
    prefixes = stem_prefixes(terms, locale) if _setting("KB_LEXICAL_STEMS") else []
    try:
        found = lexical.ranked_pages(terms, articles_qs, k, prefixes) if direct else None
        if found is not None:
            return found
        results = articles_qs.search(
            " ".join(terms), operator="or", order_by_relevance=True
        ).annotate_score("_score")
        # SQLite's bm25() is negative (lower is better), PostgreSQL's rank positive: use magnitude.
        return {page.pk: abs(float(page._score or 0.0)) for page in results[:k]}
    except Exception:
        # A query the full-text engine rejects must not take the whole search down.
        logger.exception("lexical search failed for a query of %d characters", len(query))
        return {}


# --- fusion and ranking ------------------------------------------------------------------


@dataclass
class RankingParams:
    dense_weight: float
    lexical_weight: float
    lexical_norm: str = "max"  # "max": score / best score; "rrf": 1 / (60 + rank)
    fallback_factor: float = 0.9
    learned_weight: float | None = None  # None: KB_LEARNED_CHUNK_WEIGHT, as gathered
    dense_norm: str = "raw"  # "raw": cosine as is; "minmax": spread over 0..1 per query
    top_chunks_share: float | None = None  # None: KB_DENSE_TOP_CHUNKS_SHARE of the model
    lexical_other_factor: float = 1.0  # full-text share kept by other-language articles
    learned_votes: int | None = None  # None: KB_LEARNED_VOTES
    learned_vote_weight: float | None = None  # None: KB_LEARNED_VOTE_WEIGHT
    # Share of the best full-text score given to articles without a version in the
    # question's language (KB_LEXICAL_NO_VERSION_CREDIT).
    no_version_credit: float = 0.0
    # "own": an article ranks by the score of the version shown (the caller's language when
    # it matched); "best": by its best-matching version; None: KB_ARTICLE_SCORE_VERSION
    # of the query's model.
    version_score: str | None = None

    @classmethod
    def for_mode(cls, mode, locale="en"):
        factor = _setting("KB_FALLBACK_LOCALE_FACTOR")
        if mode == "dense":
            return cls(1.0, 0.0, fallback_factor=factor)
        if mode == "lexical":
            return cls(0.0, 1.0, fallback_factor=factor)
        dense = _setting("KB_FUSION_DENSE_WEIGHT")
        if isinstance(dense, dict):
            dense = dense.get(locale, dense.get("default", 0.7))
        other = _setting("KB_LEXICAL_OTHER_LANGUAGE_FACTOR")
        if isinstance(other, dict):
            other = other.get(locale, other.get("default", 1.0))
        credit = _setting("KB_LEXICAL_NO_VERSION_CREDIT")
        if isinstance(credit, dict):
            credit = credit.get(locale, credit.get("default", 0.0))
        return cls(
            dense,
            1.0 - dense,
            _setting("KB_FUSION_LEXICAL_NORM"),
            factor,
            dense_norm=_setting("KB_FUSION_DENSE_NORM"),
            lexical_other_factor=float(other),
            no_version_credit=float(credit or 0.0),
        )


@dataclass
class Candidates:
    """Everything retrieved for one query, already restricted to what the caller may see."""

    dense_by_page: dict  # page id -> best cosine of its own chunks (model serving the language)
    best_chunk: dict  # page id -> (text, kind, step number) of that chunk: the snippet
    lexical_by_page: dict  # page id -> full-text score magnitude
    visible: dict  # page id -> (translation key, locale id)
    caller_locale_id: int | None
    model_id: str = ""  # the embedding model that encoded the query
    # Learned phrasings (insights/learning.py) rank an article but are never shown.
    learned_by_page: dict = field(default_factory=dict)  # page id -> best learned cosine
    learned_weight: float = 1.0
    # page id -> its TOP_CHUNKS best own cosines, best first (padded with the lowest cosine
    # retrieved for the query: chunks not retrieved scored at most that).
    top_chunks_by_page: dict = field(default_factory=dict)
    top_chunks_share: float = 0.0  # KB_DENSE_TOP_CHUNKS_SHARE of the query's model
    # page id -> its learned cosines among the dense candidates, best first (the votes)
    learned_scores: dict = field(default_factory=dict)
    # Translation keys of the candidates that have a version in the question's language the
    # caller may see (None: not looked up, as when no full-text query ran).
    own_version_keys: frozenset | None = None
    # page id -> what its own chunks' cosines gain (KB_CROSS_LANGUAGE_LIFT): the articles
    # without a version in the question's language.
    lift_by_page: dict = field(default_factory=dict)
    _versions: dict | None = field(default=None, init=False, repr=False, compare=False)

    def versions(self):
        """{translation key: [(page id, locale id), ...]}: the retrieved versions of each
        article (worked out once per query)."""
        if self._versions is None:
            self._versions = {}
            for page_id, (key, locale_id) in self.visible.items():
                self._versions.setdefault(key, []).append((page_id, locale_id))
        return self._versions

    def dense(self, page_id, learned_weight=None, top_chunks_share=0.0):
        """The article's dense score: its best own chunk (blended with the mean of its best
        few with `top_chunks_share`), or a weighted learned one."""
        weight = self.learned_weight if learned_weight is None else learned_weight
        own = self.dense_by_page.get(page_id)
        top = self.top_chunks_by_page.get(page_id)
        if own is not None and top and top_chunks_share > 0.0:
            own = (1.0 - top_chunks_share) * own + top_chunks_share * sum(top) / len(top)
        if own is not None:
            own += self.lift_by_page.get(page_id, 0.0)
        scores = [own, self.learned_by_page.get(page_id)]
        if scores[1] is not None:
            scores[1] *= weight
        present = [score for score in scores if score is not None]
        return max(present) if present else 0.0

    def ranking_dense(
        self, page_id, learned_weight=None, votes=None, vote_weight=None, top_chunks_share=0.0
    ):
        """dense() plus the votes of the article's further learned phrasings: vote_weight
        times the mean of its 2nd..votes-th best learned cosines (missing ones count 0)."""
        score = self.dense(page_id, learned_weight, top_chunks_share)
        votes = _setting("KB_LEARNED_VOTES") if votes is None else votes
        weight = _setting("KB_LEARNED_VOTE_WEIGHT") if vote_weight is None else vote_weight
        further = self.learned_scores.get(page_id, ())[1:votes]
        if weight and votes > 1 and further:
            score += weight * sum(max(0.0, s) for s in further) / (votes - 1)
        return score


def normalise_lexical(lexical_by_page, method):
    if not lexical_by_page:
        return {}
    if method == "rrf":
        order = sorted(lexical_by_page, key=lexical_by_page.get, reverse=True)
        return {pid: 60.0 / (60 + rank) for rank, pid in enumerate(order, start=1)}
    top = max(lexical_by_page.values())
    return {pid: (v / top if top > 0 else 0.0) for pid, v in lexical_by_page.items()}


def normalise_dense(
    candidates, learned_weight, method, top_chunks_share=None, votes=None, vote_weight=None
):
    """{page id: dense score} for fusion: raw cosines (own chunks blended with the mean of
    the best few per `top_chunks_share`, learned phrasings with their votes), or spread over
    0..1 across this query's candidates ("minmax"; a lone candidate gets 1). Pages found
    only by the full-text query have no dense score (0)."""
    if top_chunks_share is None:
        top_chunks_share = candidates.top_chunks_share
    found = set(candidates.dense_by_page) | set(candidates.learned_by_page)
    dense = {
        pid: candidates.ranking_dense(pid, learned_weight, votes, vote_weight, top_chunks_share)
        for pid in found
    }
    if method != "minmax" or not dense:
        return dense
    low, high = min(dense.values()), max(dense.values())
    if high - low < 1e-9:
        return dict.fromkeys(dense, 1.0)
    return {pid: (score - low) / (high - low) for pid, score in dense.items()}


def rank(candidates, params):
    """[(page id, score, is_fallback)] best first, one entry per article (translation key)."""
    lexical = normalise_lexical(candidates.lexical_by_page, params.lexical_norm)
    if params.no_version_credit > 0.0 and lexical and candidates.own_version_keys is not None:
        credit = params.no_version_credit * max(lexical.values())
        for page_id, (key, _locale_id) in candidates.visible.items():
            if key not in candidates.own_version_keys:
                lexical[page_id] = max(lexical.get(page_id, 0.0), credit)
    dense = normalise_dense(
        candidates,
        params.learned_weight,
        params.dense_norm,
        params.top_chunks_share,
        params.learned_votes,
        params.learned_vote_weight,
    )
    by_article, best_version = {}, {}
    for page_id, (key, locale_id) in candidates.visible.items():
        is_fallback = locale_id != candidates.caller_locale_id
        lexical_score = lexical.get(page_id, 0.0)
        if is_fallback:
            lexical_score *= params.lexical_other_factor
        score = (
            params.dense_weight * dense.get(page_id, 0.0) + params.lexical_weight * lexical_score
        )
        if is_fallback:
            score *= params.fallback_factor
        best_version[key] = max(best_version.get(key, score), score)
        current = by_article.get(key)
        # The caller's language version of an article wins whenever it matched at all.
        if (
            current is None
            or (current[2] and not is_fallback)
            or (current[2] == is_fallback and score > current[1])
        ):
            by_article[key] = (page_id, score, is_fallback)
    if (params.version_score or version_score(candidates.model_id)) == "best":
        # The article ranks by its best-matching version; the caller's version is shown.
        by_article = {
            key: (pid, best_version[key], fb) for key, (pid, _s, fb) in by_article.items()
        }
    _show_preferred_fallbacks(by_article, candidates)
    return sorted(by_article.values(), key=lambda item: item[1], reverse=True)


def fallback_languages(language):
    """The languages, in order, whose version is shown to a caller in `language` when an
    article has none in it (KB_LANGUAGE_FALLBACKS; unlisted content languages last)."""
    table = _setting("KB_LANGUAGE_FALLBACKS") or {}
    listed = table.get(language, table.get("default", []))
    content = [code for code, _name in settings.WAGTAIL_CONTENT_LANGUAGES]
    order = [code for code in listed if code != language]
    return order + [code for code in content if code != language and code not in order]


def _show_preferred_fallbacks(by_article, candidates):
    """For an article shown in another language than the caller's, show the version in the
    first fallback language it has among the retrieved versions; its score stays."""
    fallbacks = [key for key, (_pid, _score, fb) in by_article.items() if fb]
    if not fallbacks:
        return
    codes = _locale_codes()
    order = fallback_languages(codes.get(candidates.caller_locale_id, ""))
    preference = {code: position for position, code in enumerate(order)}
    versions = candidates.versions()
    for key in fallbacks:
        page_id, score, _fb = by_article[key]
        shown = min(
            versions.get(key, [(page_id, None)]),
            key=lambda v: (preference.get(codes.get(v[1]), len(preference)), v[0] != page_id),
        )
        by_article[key] = (shown[0], score, True)


def _found_languages(candidates, page_id):
    """The languages of the article's retrieved versions, the shown version's first, then in
    the caller's fallback order."""
    codes = _locale_codes()
    found = {
        codes.get(locale_id)
        for _pid, locale_id in candidates.versions().get(candidates.visible[page_id][0], ())
    }
    shown = codes.get(candidates.visible[page_id][1])
    order = fallback_languages(codes.get(candidates.caller_locale_id, ""))
    rest = [code for code in order if code in found and code != shown]
    return (shown, *rest)


def article_versions(candidates, page_id):
    """The retrieved versions (page ids) of the article `page_id` is a version of."""
    key = candidates.visible.get(page_id, (None,))[0]
    return [pid for pid, _loc in candidates.versions().get(key, ())] or [page_id]


def no_good_match_threshold(locale, model_id=None):
    """The confidence below which a search is flagged: calibrated per model and language
    (embeddings/calibration.py)."""
    return calibration.no_good_match_threshold(locale, model_id or model_for_language(locale))


def confidence_of(candidates, ranked, learned_weight=None):
    """How sure we are the top hit answers the query, comparable across queries (0..1):
    the top hit's dense score (fused scores are per-query relative): its best chunk's
    cosine, blended with its best 3 chunks' mean where the model ranks that way
    (KB_DENSE_TOP_CHUNKS_SHARE; e5: chosen over the best chunk alone on the tune halves,
    no-good-match AUROC nl 0.814 vs 0.804, fr 0.823 both, bench/model_choice.py).
    Where an article ranks by its best-matching version (KB_ARTICLE_SCORE_VERSION "best"),
    so does its confidence: a Dutch question answered by an article shown in English (the
    console's language) is as sure as its Dutch version's match, the match the Dutch
    threshold was calibrated on (session 7, tune halves with the console in English:
    answered Dutch questions flagged 12 of 17 -> 6 of 17, French 7 of 16 -> 2 of 16,
    unanswerable ones flagged as before: bench/xling_variants.py).
    A learned phrasing's cosine counts for KB_LEARNED_CONFIDENCE_WEIGHT of the query's
    model (`learned_weight` overrides it)."""
    if not ranked:
        return 0.0
    share = candidates.top_chunks_share
    if learned_weight is None:
        learned_weight = learned_confidence_weight(candidates.model_id)
    top, _score, top_is_fallback = ranked[0]
    pages = [top]
    if version_score(candidates.model_id) == "best":
        pages = article_versions(candidates, top)
    elif top_is_fallback:
        # No version in the caller's language: the article ranked by its best other version
        # (the one shown follows KB_LANGUAGE_FALLBACKS), and so is its confidence.
        pages = [
            pid
            for pid in article_versions(candidates, top)
            if candidates.visible[pid][1] != candidates.caller_locale_id
        ] or [top]
    best = max(float(candidates.dense(pid, learned_weight, share)) for pid in pages)
    return round(max(0.0, best), 4)


def _snippet(text, title, limit=220):
    text = without_title(text, title)
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _articles_for(user, channel, service):
    """(articles the caller may see, a cheaper superset for the full-text query, chunk visibilities).

    The full-text query runs on the superset because `.public()` adds one path condition per
    restricted page to every scored row; the exact set is applied to the merged candidates."""
    # "integration": the ticketing system, authenticated by a scoped API key (incidents/).
    staff = (channel == "operator" and user_is_staff_reader(user)) or channel == "integration"
    articles = visible_articles(staff=staff)
    prefilter = SolutionArticlePage.objects.searchable()
    if not staff:
        prefilter = prefilter.for_audience(SolutionArticlePage.AUDIENCE_PUBLIC)
    if service:
        keys = Service.objects.filter(slug=service).values("translation_key")
        # The full-text backend filters on indexed fields only (id), not on relations.
        with_service = list(
            SolutionArticlePage.objects.filter(services__translation_key__in=keys).values_list(
                "pk", flat=True
            )
        )
        articles = articles.filter(pk__in=with_service)
        # No article has the service: nothing to search (an empty IN list cannot be written
        # into the full-text statement; Django raises EmptyResultSet for it).
        prefilter = prefilter.filter(pk__in=with_service) if with_service else prefilter.none()
    else:
        # The same SQL for every search: the full-text statement is written once (lexical.py).
        lexical.same_statement(prefilter, "searchable" if staff else "searchable, public")
        if staff:
            # Exactly `searchable()`: the same SQL for every search (visible_pages keeps it).
            setattr(articles, _STAFF_RULE, True)
    allowed = (
        {Chunk.VISIBILITY_PUBLIC, Chunk.VISIBILITY_INTERNAL} if staff else {Chunk.VISIBILITY_PUBLIC}
    )
    return articles, prefilter, allowed


_STAFF_RULE = "_kb_staff_rule"


def chunk_rows(chunk_ids):
    """(pk, page id, text, kind, step number, visibility) of the given chunks: one statement
    written out, as the ORM would write it (`Chunk.objects.filter(pk__in=...).values_list(...)`,
    same WHERE, no ORDER BY, so the same rows in the same order): building that statement
    through the ORM for ~100 ids cost ~2 ms of CPU per search, the statement itself ~0.3 ms
    (bench/request_cpu.py). By primary key only, visibility checked by the caller: with a
    visibility condition in the SQL, SQLite walks the (unselective) visibility index over
    every chunk row."""
    if not chunk_ids:
        return []
    meta = Chunk._meta
    columns = ", ".join(
        connection.ops.quote_name(meta.get_field(name).column)
        for name in ("id", "page", "text", "kind", "step_number", "visibility")
    )
    sql = (
        f"SELECT {columns} FROM {connection.ops.quote_name(meta.db_table)} "
        f"WHERE {connection.ops.quote_name(meta.pk.column)} IN ({', '.join(['%s'] * len(chunk_ids))})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [int(pk) for pk in chunk_ids])
        return cursor.fetchall()


def visible_pages(articles, page_ids):
    """{page id: (translation key, locale id)} of the given pages that `articles` (the
    caller's visibility: live, not archived, not restricted for them) keeps.

    For staff (`searchable()`, marked by _articles_for) the statement does not depend on the
    data: it is built once per process and number of ids (_visible_statement) instead of on
    every search, as the page hydration's. The public rule (Wagtail's `.public()`) reads the
    view restrictions while the queryset is built, so it goes through the ORM each time."""
    page_ids = [int(pk) for pk in page_ids]
    if not page_ids:
        return {}
    statement = _visible_statement(articles, len(page_ids))
    if statement is None:
        rows = articles.filter(pk__in=page_ids).values_list("pk", "translation_key", "locale_id")
    else:
        rows = statement.rows(page_ids)
    return {pid: (key, locale_id) for pid, key, locale_id in rows}


def _visible_statement(articles, count):
    if not getattr(articles, _STAFF_RULE, False):
        return None
    return kept(
        articles.db, "_kb_visible_statements", count, _write_visible_statement, articles, count
    )


def _write_visible_statement(articles, count):
    # Written once with stand-in ids (negative: no page has one) found again in the params.
    stand_ins = [-(n + 1) for n in range(count)]
    query = articles.filter(pk__in=stand_ins).values_list("pk", "translation_key", "locale_id")
    return PreparedStatement.from_queryset(query, stand_ins)


def own_versions_of(articles, keys, locale_id):
    """The translation keys among `keys` with a version in the locale `locale_id` that
    `articles` keeps: frozenset(articles.filter(translation_key__in=keys,
    locale_id=locale_id).values_list("translation_key", flat=True)). For staff's rule the
    statement is written once per process and number of keys (as _visible_statement)."""
    keys = list(keys)
    statement = None
    if keys and type(locale_id) is int:
        statement = _own_versions_statement(articles, len(keys))
    if statement is None:
        return frozenset(
            articles.filter(translation_key__in=keys, locale_id=locale_id).values_list(
                "translation_key", flat=True
            )
        )
    prep = SolutionArticlePage._meta.get_field("translation_key").get_db_prep_value
    wrapper = connections[articles.db]
    rows = statement.rows([locale_id, *(prep(key, wrapper) for key in keys)])
    return frozenset(row[0] for row in rows)


def _own_versions_statement(articles, count):
    if not getattr(articles, _STAFF_RULE, False):
        return None
    return kept(
        articles.db,
        "_kb_own_versions_statements",
        count,
        _write_own_versions_statement,
        articles,
        count,
    )


def _write_own_versions_statement(articles, count):
    # Written once with stand-ins (a locale id no locale has, keys no page has) found again
    # in the params, as the database receives them.
    key_field = SolutionArticlePage._meta.get_field("translation_key")
    wrapper = connections[articles.db]
    locale_stand_in = -(10**9 + 7)
    stand_ins = [uuid.UUID(int=n + 1) for n in range(count)]
    query = articles.filter(translation_key__in=stand_ins, locale_id=locale_stand_in)
    query = query.values_list("translation_key", flat=True)
    prepared = [key_field.get_db_prep_value(key, wrapper) for key in stand_ins]
    return PreparedStatement.from_queryset(query, [locale_stand_in, *prepared])


def hydrate_pages(page_ids):
    """{page id: SolutionArticlePage} with everything the cards show (locale, escalation team,
    services with their owning team) in two statements, not two or three more per hit.

    The same instances as `SolutionArticlePage.objects.filter(pk__in=...).select_related(
    "locale", "escalation_team")` with the services prefetched (every concrete field, Django's
    own converters), but the pages' statement is written once per process and number of ids
    (_page_statement): building it through the ORM, with its converters, cost more CPU than
    running it (bench/request_cpu.py, docs/performance.md)."""
    page_ids = list(dict.fromkeys(int(pk) for pk in page_ids))
    if not page_ids:
        return {}
    statement = _page_statement(len(page_ids))
    rows = statement.rows(page_ids)
    layout = statement.layout
    locale_field = SolutionArticlePage._meta.get_field("locale")
    team_field = SolutionArticlePage._meta.get_field("escalation_team")
    page_end, locale_end = layout.page_end, layout.locale_end
    pages = {}
    for row in rows:
        row = tuple(row)
        if layout.light_pages:
            page = _page_from_db(row[:page_end])
        else:
            page = SolutionArticlePage.from_db("default", layout.page_names, row[:page_end])
        locale = Locale.from_db("default", layout.locale_names, row[page_end:locale_end])
        locale_field.set_cached_value(page, locale)
        team = None
        if row[locale_end] is not None:
            team = EscalationTeam.from_db("default", layout.team_names, row[locale_end:])
        team_field.set_cached_value(page, team)
        pages[page.pk] = page
    _attach_services(pages)
    return pages


# The constructors an article page runs besides Django's Model.__init__: Wagtail's
# AbstractPage and ShowInMenusMixin act only on a page without an id (a new page), and
# modelcluster's ClusterableModel only on child relations passed as keyword arguments, but
# the latter scans the model's fields for them on every page (~0.05 ms each, 8 per search).
_PAGE_INITS = frozenset(
    {
        "builtins.object",
        "django.db.models.base.Model",
        "modelcluster.models.ClusterableModel",
        "wagtail.models.pages.AbstractPage",
        "wagtail.models.pages.ShowInMenusMixin",
    }
)


def _only_known_page_inits():
    """True when SolutionArticlePage runs no constructor but _PAGE_INITS (a new Wagtail or
    modelcluster version, or a mixin added to the model, turns the shortcut off)."""
    inits = {
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in SolutionArticlePage.__mro__
        if "__init__" in cls.__dict__
    }
    return inits == _PAGE_INITS


def _page_from_db(values):
    """SolutionArticlePage.from_db("default", every concrete field, values) for a row with
    its id: Django's Model.__init__ alone, which is all the page's constructors do for it."""
    page = SolutionArticlePage.__new__(SolutionArticlePage)
    Model.__init__(page, *values)
    page._state.adding = False
    page._state.db = "default"
    return page


def _with_results(base, results):
    """What a prefetch leaves on a page: a QuerySet like `base` holding `results`, made
    without cloning base's query (~0.05 ms a page). The Query object is shared, as between
    a queryset and its clones until one is narrowed: Django chains (clones) the query
    before any change, so a filter on one page's services never changes another's."""
    services = type(base).__new__(type(base))
    services.__dict__.update(base.__dict__)
    services._hints = dict(base._hints)
    services._result_cache = results
    services._prefetch_done = True
    return services


def _attach_services(pages):
    """Each page's services (with their owning team), as `prefetch_related_objects(pages,
    Prefetch("services", queryset=Service.objects.select_related("owning_team")))` leaves
    them (`page.services.all()` runs no query), from one statement written once per process
    and number of pages: the prefetch built its queryset and statement on every search, ~2 ms
    of CPU (bench/wall_profile.py, session 10)."""
    if not pages:
        return
    statement = _service_statement(len(pages))
    rows = statement.rows(list(pages))
    layout = statement.layout
    team_field = Service._meta.get_field("owning_team")
    by_page = {pk: [] for pk in pages}
    team_start, team_end = len(layout.service_names), layout.page_column
    for row in rows:
        row = tuple(row)
        service = Service.from_db("default", layout.service_names, row[:team_start])
        team = None
        if row[team_start] is not None:
            team = EscalationTeam.from_db("default", layout.team_names, row[team_start:team_end])
        team_field.set_cached_value(service, team)
        by_page[row[team_end]].append(service)
    base = Service.objects.select_related("owning_team")
    for pk, page in pages.items():
        page._prefetched_objects_cache = {"services": _with_results(base, by_page[pk])}


def _service_statement(count):
    """The services' SELECT for `count` pages, kept per connection wrapper (_page_statement):
    (service columns, owning team columns, page id), Service's ordering (name; then id)."""
    return kept(DEFAULT_DB_ALIAS, "_kb_service_statements", count, _write_service_statement, count)


def _write_service_statement(count):
    wrapper = connections[DEFAULT_DB_ALIAS]
    qn = wrapper.ops.quote_name
    parts = [(model, list(model._meta.concrete_fields)) for model in (Service, EscalationTeam)]
    columns, converters, start = [], {}, 0
    compiler = wrapper.ops.compiler("SQLCompiler")(Query(Service), wrapper, DEFAULT_DB_ALIAS)
    for _model, fields in parts:
        columns += [f"{qn(f.model._meta.db_table)}.{qn(f.column)}" for f in fields]
        found = compiler.get_converters([f.get_col(f.model._meta.db_table) for f in fields])
        converters.update({start + i: value for i, value in found.items()})
        start += len(fields)
    through = SolutionArticlePage._meta.get_field("services").remote_field.through
    link = qn(through._meta.db_table)
    page_column = f"{link}.{qn(through._meta.get_field('solutionarticlepage').column)}"
    service = qn(Service._meta.db_table)
    team = qn(EscalationTeam._meta.db_table)
    sql = (
        f"SELECT {', '.join(columns)}, {page_column} FROM {service} "
        f"INNER JOIN {link} ON ({service}.{qn(Service._meta.pk.column)} = "
        f"{link}.{qn(through._meta.get_field('service').column)}) "
        f"LEFT OUTER JOIN {team} ON ({service}.{qn(Service._meta.get_field('owning_team').column)} = "
        f"{team}.{qn(EscalationTeam._meta.pk.column)}) "
        f"WHERE {page_column} IN ({', '.join(['%s'] * count)}) "
        f"ORDER BY {service}.{qn('name')} ASC, {service}.{qn(Service._meta.pk.column)} ASC"
    )
    names = [[f.attname for f in fields] for _model, fields in parts]
    layout = _ServiceLayout(names[0], names[1], start)
    return PreparedStatement(
        sql, alias=DEFAULT_DB_ALIAS, compiler=compiler, converters=converters, layout=layout
    )


@dataclass
class _ServiceLayout:
    """The services statement's columns: the service's, its owning team's, the page id."""

    service_names: list
    team_names: list
    page_column: int


@dataclass
class _PageLayout:
    """The pages statement's columns: the page's, its locale's, its escalation team's."""

    page_names: list
    locale_names: list
    team_names: list
    page_end: int
    locale_end: int
    light_pages: bool


def _page_statement(count):
    """The pages' SELECT for `count` ids and its converters, kept on this thread's database
    connection wrapper (settings and schema do not change while a process runs)."""
    return kept(DEFAULT_DB_ALIAS, "_kb_page_statements", count, _write_page_statement, count)


def _write_page_statement(count):
    wrapper = connections[DEFAULT_DB_ALIAS]  # this thread's (the converters are its own)
    qn = wrapper.ops.quote_name
    parts = [
        (model, list(model._meta.concrete_fields))
        for model in (SolutionArticlePage, Locale, EscalationTeam)
    ]
    columns, converters, start = [], {}, 0
    compiler = wrapper.ops.compiler("SQLCompiler")(
        Query(SolutionArticlePage), wrapper, DEFAULT_DB_ALIAS
    )
    for _model, fields in parts:
        columns += [f"{qn(f.model._meta.db_table)}.{qn(f.column)}" for f in fields]
        found = compiler.get_converters([f.get_col(f.model._meta.db_table) for f in fields])
        converters.update({start + i: value for i, value in found.items()})
        start += len(fields)
    article = qn(SolutionArticlePage._meta.db_table)
    base = qn(Page._meta.db_table)
    locale = qn(Locale._meta.db_table)
    team = qn(EscalationTeam._meta.db_table)
    pk = f"{article}.{qn(SolutionArticlePage._meta.pk.column)}"
    sql = (
        f"SELECT {', '.join(columns)} FROM {article} "
        f"INNER JOIN {base} ON ({pk} = {base}.{qn(Page._meta.pk.column)}) "
        f"INNER JOIN {locale} ON ({base}.{qn(Page._meta.get_field('locale').column)} = "
        f"{locale}.{qn(Locale._meta.pk.column)}) "
        f"LEFT OUTER JOIN {team} ON ({article}.{qn(SolutionArticlePage._meta.get_field('escalation_team').column)} = "
        f"{team}.{qn(EscalationTeam._meta.pk.column)}) "
        f"WHERE {pk} IN ({', '.join(['%s'] * count)})"
    )
    names = [[f.attname for f in fields] for _model, fields in parts]
    page_end = len(names[0])
    layout = _PageLayout(*names, page_end, page_end + len(names[1]), _only_known_page_inits())
    return PreparedStatement(
        sql, alias=DEFAULT_DB_ALIAS, compiler=compiler, converters=converters, layout=layout
    )


def gather(
    query,
    *,
    user=None,
    channel="public",
    locale="en",
    service=None,
    mode="hybrid",
    model_id=None,
    language=None,
    own_versions=True,
):
    """Retrieve dense and lexical candidates for a cleaned query, limited to what the caller
    may see. `locale`: the caller's language (the version to show); `language`: the one the
    question is written in (default `locale`), which the full-text query's stop words and
    stems and the articles its words can match (KB_LEXICAL_NO_VERSION_CREDIT) follow.
    `model_id` overrides the model that serves the language (calibration).
    `own_versions=False` skips looking up which candidates exist in the question's language
    (one query), for a ranking that gives no KB_LEXICAL_NO_VERSION_CREDIT (English)."""
    language = language or locale
    languages = [code for code, _ in settings.WAGTAIL_CONTENT_LANGUAGES]
    articles, lexical_scope, allowed_visibility = _articles_for(user, channel, service)
    dense_by_page, best_chunk, learned_by_page, own_scores, learned_scores = {}, {}, {}, {}, {}
    # The query's language picks the model; that model's vectors cover every language, so
    # a Dutch question reaches an article that exists only in English or French.
    model_id = model_id or model_for_language(locale)
    if mode in ("hybrid", "dense"):
        chunk_scores = dense_candidates(query, languages, _setting("KB_DENSE_CANDIDATES"), model_id)
        if chunk_scores:
            # By primary key only, visibility checked here: with a visibility condition in
            # the SQL, SQLite walks the (unselective) visibility index over every chunk row.
            rows = chunk_rows(list(chunk_scores))
            for chunk_id, page_id, text, kind, step, visibility in rows:
                if visibility not in allowed_visibility:
                    continue
                score = chunk_scores[chunk_id]
                if kind == LEARNED_KIND:
                    learned_scores.setdefault(page_id, []).append(score)
                    continue
                own_scores.setdefault(page_id, []).append(score)
                if score > dense_by_page.get(page_id, -1.0):
                    dense_by_page[page_id] = score
                    best_chunk[page_id] = (text, kind, step)
    top_chunks = {}
    if own_scores:
        floor = min(chunk_scores.values())
        for page_id, scores in own_scores.items():
            best = sorted(scores, reverse=True)[:TOP_CHUNKS]
            top_chunks[page_id] = tuple(best + [floor] * (TOP_CHUNKS - len(best)))
    lexical_by_page = {}
    if mode in ("hybrid", "lexical"):
        lexical_by_page = lexical_candidates(
            query, lexical_scope, _setting("KB_LEXICAL_CANDIDATES"), language
        )
    for page_id, scores in learned_scores.items():
        scores.sort(reverse=True)
        learned_by_page[page_id] = scores[0]
    # The page queryset has the last word: live, not archived, not restricted for this caller.
    pool = set(dense_by_page) | set(learned_by_page) | set(lexical_by_page)
    visible = visible_pages(articles, pool)
    caller_locale_id = _locale_ids().get(locale)
    own_version_keys = None
    lift = cross_language_lift(model_id) if language in languages else 0.0
    if visible and ((own_versions and lexical_by_page) or (lift and dense_by_page)):
        # One query: which candidates' articles exist in the question's language, the only
        # ones its words can match (a Dutch question typed while the console says English
        # still cannot match an English-only article's words).
        own_version_keys = own_versions_of(
            articles, {key for key, _ in visible.values()}, _locale_ids().get(language)
        )
    lift_by_page = {}
    if lift and own_version_keys is not None:
        lift_by_page = {
            pid: lift
            for pid, (key, _locale_id) in visible.items()
            if pid in dense_by_page and key not in own_version_keys
        }
    return Candidates(
        {p: s for p, s in dense_by_page.items() if p in visible},
        best_chunk,
        {p: s for p, s in lexical_by_page.items() if p in visible},
        visible,
        caller_locale_id,
        model_id,
        {p: s for p, s in learned_by_page.items() if p in visible},
        _setting("KB_LEARNED_CHUNK_WEIGHT"),
        {p: s for p, s in top_chunks.items() if p in visible},
        top_chunks_share(model_id),
        {p: s for p, s in learned_scores.items() if p in visible},
        own_version_keys,
        lift_by_page,
    )


def version_score(model_id):
    """KB_ARTICLE_SCORE_VERSION for a model ({model id: "best" | "own", "default": ...})."""
    value = _setting("KB_ARTICLE_SCORE_VERSION")
    if isinstance(value, dict):
        value = value.get(model_id, value.get("default", "own"))
    return value


def cross_language_lift(model_id):
    """KB_CROSS_LANGUAGE_LIFT for a model ({model id: lift, "default": lift})."""
    value = _setting("KB_CROSS_LANGUAGE_LIFT")
    if isinstance(value, dict):
        value = value.get(model_id, value.get("default", 0.0))
    return float(value or 0.0)


def learned_confidence_weight(model_id):
    """KB_LEARNED_CONFIDENCE_WEIGHT for a model ({model id: weight, "default": weight})."""
    value = _setting("KB_LEARNED_CONFIDENCE_WEIGHT")
    if isinstance(value, dict):
        value = value.get(model_id, value.get("default", 1.0))
    return float(value)


def top_chunks_share(model_id):
    """KB_DENSE_TOP_CHUNKS_SHARE for a model ({model id: share, "default": share})."""
    value = _setting("KB_DENSE_TOP_CHUNKS_SHARE")
    if isinstance(value, dict):
        value = value.get(model_id, value.get("default", 0.0))
    return float(value or 0.0)


def search(
    query, *, user=None, channel="public", locale="en", service=None, limit=10, mode="hybrid"
):
    """Search articles the caller may see. Raises InvalidQuery for unusable input."""
    started = time.perf_counter()
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    query = clean_query(query)
    # The language the question is written in picks the embedding model, also when the site
    # has no content in it (a German question goes to the multilingual model); results and
    # the caller's own-language preference use a content language.
    # When the question is clearly in another language than the one stated (a Dutch question
    # while the console still says English), the question's own language wins.
    language = question_language(query, str(locale or "")[:16])
    if locale not in dict(settings.WAGTAIL_CONTENT_LANGUAGES):
        locale = settings.LANGUAGE_CODE
    if service is not None and not (
        _SERVICE_SLUG.fullmatch(service) and Service.objects.filter(slug=service).exists()
    ):
        raise InvalidQuery(
            f"Unknown service {service[:60]!r}: give the slug of a service in the catalogue."
        )
    limit = max(1, min(int(limit), 50))
    params = RankingParams.for_mode(mode, language or locale)
    candidates = gather(
        query,
        user=user,
        channel=channel,
        locale=locale,
        service=service,
        mode=mode,
        model_id=model_for_language(language or locale),
        language=language or locale,
        own_versions=params.no_version_credit > 0.0,
    )
    ranked = rank(candidates, params)[:limit]
    pages = hydrate_pages([r[0] for r in ranked])
    threshold = no_good_match_threshold(language or locale, candidates.model_id)
    hits = []
    for page_id, score, is_fallback in ranked:
        if (
            is_fallback
            and channel == "public"
            and max(
                (
                    candidates.dense(pid, 0.0, candidates.top_chunks_share)
                    for pid in article_versions(candidates, page_id)
                    if pid in candidates.dense_by_page
                ),
                default=-1.0,
            )
            < threshold
        ):
            # A customer sees another language's article only when it clearly answers the
            # question (above the no-good-match bar), never as filler for a weak match.
            continue
        page = pages[page_id]
        default = (page.issue_phrasings[0] if page.issue_phrasings else page.title, "issue", None)
        text, kind, step = candidates.best_chunk.get(page_id, default)
        hits.append(
            Hit(
                page=page,
                score=round(score, 4),
                dense_score=round(candidates.dense(page_id), 4),
                lexical_score=round(candidates.lexical_by_page.get(page_id, 0.0), 4),
                snippet=_snippet(text, page.title),
                chunk_kind=kind,
                matched_step=step,
                fallback=is_fallback,
                languages=_found_languages(candidates, page_id) if is_fallback else (),
            )
        )
    response = SearchResponse(
        query=query,
        locale=locale,
        hits=hits,
        mode=mode,
        question_language=language,
        model_id=candidates.model_id,
    )
    response.confidence = confidence_of(candidates, ranked)
    response.no_good_match = response.confidence < threshold
    response.took_ms = round((time.perf_counter() - started) * 1000, 2)
    # An unanswered search feeds the gap report and early warning, which compare in the
    # comparison model's space. When that model served it, the log keeps its cached vector
    # (cached_query_vector); otherwise (English) the worker's "gap_vectors" job encodes it
    # off the request (search/jobs.py): it cost an e5 encoding here, bench/request_cpu.py.
    return response
