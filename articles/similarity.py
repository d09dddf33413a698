"""Which existing articles is this one close to? Used while writing and before publishing.

An article is compared on its title and issue phrasings (what a caller would say), encoded
the way the index encodes them (`embeddings.chunking.phrasing_text`), in the space of the
comparison model (KB_COMPARISON_MODEL, the multilingual one by default), so an article's
translations are its nearest neighbours. Live articles use their stored issue
chunks (embeddings.Chunk); articles that are not live are encoded from their latest
revision on the fly and kept in a small in-process cache keyed by their text, so a draft is
encoded once per change. Every language is compared: the demo's en/nl/fr versions of one
article are near-duplicates across languages.

The score of a candidate is the mean, over the draft's phrasings, of the best cosine
similarity with any of the candidate's phrasings: one shared generic phrasing is not
enough to look like a duplicate, all of them close is.

DUPLICATE_THRESHOLD was chosen by measurement on the demo set (docs/authoring.md,
`python manage.py similarity_calibration`).
"""

import datetime
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from wagtail.models import Page, WorkflowState

from embeddings.chunking import phrasing_text
from embeddings.encoder import comparison_model_id, get_encoder
from embeddings.models import Chunk

from .models import SolutionArticlePage

ISSUE_KINDS = ("issue", "summary")
MAX_DRAFT_CACHE = 512


# Per comparison model: each model has its own similarity scale (docs/authoring.md,
# `python manage.py similarity_calibration`).
DUPLICATE_THRESHOLDS = {"all-MiniLM-L6-v2": 0.75, "multilingual-e5-small-q4": 0.95}


def duplicate_threshold(model_id=None):
    model_id = model_id or comparison_model_id()
    value = getattr(settings, "KB_DUPLICATE_THRESHOLD", None)
    if isinstance(value, dict):
        value = value.get(model_id)
    if value is None:
        value = DUPLICATE_THRESHOLDS.get(model_id, 0.75)
    return float(value)


# A draft that was never published, is not in review and has not been touched for this long
# is abandoned (usually a Wagtail autosave of an article someone started and left).
ABANDONED_DRAFT_DAYS = 14

DRAFT_MINE = "mine"  # the asking editor's own unpublished draft, not in review
DRAFT_ABANDONED = "abandoned"


def abandoned_draft_days():
    return int(getattr(settings, "KB_ABANDONED_DRAFT_DAYS", ABANDONED_DRAFT_DAYS))


def unfinished_drafts():
    """Solution articles never published and not in review (Wagtail autosaves them as soon
    as a title is typed: many are abandoned starts, not articles anyone is writing)."""
    in_review = WorkflowState.objects.active().filter(
        base_content_type=ContentType.objects.get_for_model(Page)
    )
    # object_id is text: compare as numbers in Python (PostgreSQL will not mix the types).
    in_review_ids = [int(i) for i in in_review.values_list("object_id", flat=True) if i.isdigit()]
    return SolutionArticlePage.objects.filter(live=False, first_published_at__isnull=True).exclude(
        pk__in=in_review_ids
    )


def abandoned_drafts(now=None):
    """Unfinished drafts untouched for abandoned_draft_days()."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=abandoned_draft_days())
    return unfinished_drafts().filter(latest_revision_created_at__lt=cutoff)


def draft_statuses(page_ids, user=None, now=None):
    """{page id: DRAFT_MINE | DRAFT_ABANDONED} for the unfinished drafts among page_ids."""
    drafts = unfinished_drafts().filter(pk__in=page_ids)
    cutoff = (now or timezone.now()) - datetime.timedelta(days=abandoned_draft_days())
    statuses = {}
    for pk, owner_id, last in drafts.values_list("pk", "owner_id", "latest_revision_created_at"):
        if user is not None and user.pk and owner_id == user.pk:
            statuses[pk] = DRAFT_MINE
        elif last is None or last < cutoff:
            statuses[pk] = DRAFT_ABANDONED
    return statuses


@dataclass
class SimilarArticle:
    page: SolutionArticlePage
    score: float
    is_translation: bool
    draft_status: str = ""  # DRAFT_MINE, DRAFT_ABANDONED or ""

    @property
    def is_duplicate(self):
        # The editor's own unfinished drafts (often the autosave of this very article) and
        # abandoned starts are listed, never counted as the article this one duplicates.
        return self.score >= duplicate_threshold() and not self.draft_status


def article_texts(title, phrasings):
    title = " ".join((title or "").split())
    phrasings = [" ".join(p.split()) for p in phrasings if p and p.strip()]
    if not phrasings:
        return [title] if title else []
    return [phrasing_text(title, p) for p in phrasings]


def phrasings_of(issue):
    return [line.strip() for line in (issue or "").splitlines() if line.strip()]


_draft_cache: "OrderedDict[tuple, np.ndarray]" = OrderedDict()
_draft_lock = threading.Lock()


def _draft_vectors(encoder, page):
    """Vectors of a non-live page's latest revision (title + issue), cached by their text.

    Keyed by the texts, not by page and revision ids: ids can come back (SQLite reuses the
    highest row id after a delete, a rolled-back transaction gives its ids out again), and a
    stale vector would make a new draft look like an old one."""
    source = page
    if page.latest_revision_id:
        revision = page.latest_revision
        if revision is not None:
            source = revision.as_object()
    texts = tuple(article_texts(source.title, phrasings_of(source.issue)))
    key = (encoder.model_id, texts)
    with _draft_lock:
        if key in _draft_cache:
            _draft_cache.move_to_end(key)
            return _draft_cache[key]
    vectors = encoder.encode_chunks(list(texts))
    with _draft_lock:
        _draft_cache[key] = vectors
        while len(_draft_cache) > MAX_DRAFT_CACHE:
            _draft_cache.popitem(last=False)
    return vectors


def _candidate_vectors(encoder, exclude_ids):
    """{page_id: matrix of phrasing vectors} for every article except exclude_ids."""
    by_page = {}
    rows = (
        Chunk.objects.for_model(encoder.model_id)
        .filter(kind__in=ISSUE_KINDS)
        .exclude(page_id__in=exclude_ids)
        .values_list("page_id", "vector")
    )
    for page_id, vector in rows:
        by_page.setdefault(page_id, []).append(Chunk.decode(vector))
    matrices = {pid: np.vstack(vs) for pid, vs in by_page.items()}
    # Not live (drafts, captured WIP articles), or live but not yet indexed.
    others = SolutionArticlePage.objects.exclude(pk__in=[*exclude_ids, *matrices])
    for page in others.select_related("latest_revision"):
        vectors = _draft_vectors(encoder, page)
        if len(vectors):
            matrices[page.pk] = vectors
    return matrices


def score_against(query_vectors, candidate_vectors):
    """Mean over the query phrasings of the best cosine with any candidate phrasing."""
    sims = query_vectors @ candidate_vectors.T
    return float(sims.max(axis=1).mean())


def similar_articles(title, issue, *, page=None, user=None, limit=8, include_translations=True):
    """The articles most similar to a draft's title and issue, best first.

    `page` is the article being edited (excluded; its translations are kept but marked, as
    they are expected to be close). `user` is the editor asking: their unfinished drafts
    and abandoned drafts are marked (draft_status) and never count as duplicates. Returns
    [] when there is nothing to compare yet.
    """
    texts = article_texts(title, phrasings_of(issue))
    if not texts:
        return []
    encoder = get_encoder(comparison_model_id())
    query = encoder.encode_chunks(texts)
    exclude = [page.pk] if page is not None and page.pk else []
    matrices = _candidate_vectors(encoder, exclude)
    if not matrices:
        return []
    scored = sorted(
        ((score_against(query, m), pid) for pid, m in matrices.items()),
        reverse=True,
    )
    translation_key = getattr(page, "translation_key", None) if page is not None else None
    pages = SolutionArticlePage.objects.in_bulk([pid for _, pid in scored[: limit * 3]])
    statuses = draft_statuses(list(pages), user=user)
    results = []
    for score, pid in scored:
        candidate = pages.get(pid)
        if candidate is None:
            continue
        is_translation = bool(translation_key and candidate.translation_key == translation_key)
        if is_translation and not include_translations:
            continue
        results.append(SimilarArticle(candidate, score, is_translation, statuses.get(pid, "")))
        if len(results) == limit:
            break
    return results


def likely_duplicates(title, issue, *, page=None, user=None, limit=3):
    """Articles above the duplicate threshold; translations of `page`, archived articles
    (retired, out of search, still listed in the panel), `user`'s own unfinished drafts and
    abandoned drafts do not count."""
    return [
        s
        for s in similar_articles(
            title, issue, page=page, user=user, limit=limit, include_translations=False
        )
        if s.is_duplicate and s.page.kcs_state != SolutionArticlePage.KCS_ARCHIVED
    ]


def _pages_with_prefix(prefix):
    return SolutionArticlePage.objects.filter(external_id__startswith=prefix).values("pk")


def _issue_matrices(model_id, external_id_prefix):
    """{page id: matrix of its stored issue-chunk vectors} for live articles with the prefix."""
    by_page = {}
    for page_id, vector in (
        Chunk.objects.for_model(model_id)
        .filter(kind__in=ISSUE_KINDS, page__in=_pages_with_prefix(external_id_prefix))
        .values_list("page_id", "vector")
    ):
        by_page.setdefault(page_id, []).append(Chunk.decode(vector))
    return {pid: np.vstack(vs) for pid, vs in by_page.items()}


def calibration_pairs(model_id=None, external_id_prefix=""):
    """For each live article: its score against each of its own translations (near-duplicates
    across languages) and its best score against any article about another problem.

    Returns (same_problem_scores, other_problem_best_scores), computed from stored chunks.
    """
    model_id = model_id or comparison_model_id()
    matrices = _issue_matrices(model_id, external_id_prefix)
    keys = dict(
        SolutionArticlePage.objects.filter(pk__in=matrices).values_list("pk", "translation_key")
    )
    same, other = [], []
    for pid, query in matrices.items():
        best_other = 0.0
        for cid, candidate in matrices.items():
            if cid == pid:
                continue
            score = score_against(query, candidate)
            if keys.get(cid) == keys.get(pid):
                same.append(score)
            else:
                best_other = max(best_other, score)
        other.append(best_other)
    return same, other


def paraphrase_pairs(gold_lines, model_id=None, external_id_prefix=""):
    """Caller wordings from an evaluation gold set as stand-ins for a newly written issue:
    (score against the article that answers it, best score against any other article).
    Only queries with an answer are used; scores are over live articles in every language."""
    model_id = model_id or comparison_model_id()
    encoder = get_encoder(model_id)
    matrices = _issue_matrices(model_id, external_id_prefix)
    external = dict(
        SolutionArticlePage.objects.filter(pk__in=matrices).values_list("pk", "external_id")
    )
    positives, negatives = [], []
    lines = [g for g in gold_lines if g.get("relevant")]
    vectors = encoder.encode_chunks([g["query"] for g in lines])  # as a draft would be
    for gold, vector in zip(lines, vectors, strict=True):
        query = vector[None, :]
        relevant = set(gold["relevant"])
        best_rel, best_other = 0.0, 0.0
        for pid, matrix in matrices.items():
            score = score_against(query, matrix)
            if external.get(pid) in relevant:
                best_rel = max(best_rel, score)
            else:
                best_other = max(best_other, score)
        positives.append(best_rel)
        negatives.append(best_other)
    return positives, negatives
