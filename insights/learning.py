"""Search that learns from solved calls: customer wordings become match-only phrasings.

Evidence (PhrasingEvidence) comes from three places, always as redacted text:
  * a call closed "solved with this article" (POST /api/v1/outcomes/) with the words typed;
  * the same after the operator opened that article from a search (kind click_solved);
  * a public search followed by "helpful: yes" on an article it returned.

Recording evidence is all a request does (one redacted row). apply_learning() runs off the
request: run_worker's "learning" job (KB_PERIOD_LEARNING, search/jobs.py), and
replay_solved_calls before it returns. It turns evidence into LearnedPhrasing rows:
  1. near-duplicate wordings of one article merge (cosine >= KB_LEARNING_MERGE_SIMILARITY);
     a wording that merges into a rejected phrasing stays rejected, so it never comes back;
  2. a candidate becomes searchable ("active") once calls with a similar wording
     (cosine >= KB_LEARNING_SUPPORT_SIMILARITY) were solved with the article by at least
     KB_LEARNING_MIN_SOURCES independent sources (operators or customer sessions; identical
     wordings within KB_LEARNING_BURST_SECONDS count once), and no other article was linked
     to wordings like it (cosine >= KB_LEARNING_COMPETE_SIMILARITY) by more calls (one
     source repeating one wording counts once);
  3. at most KB_LEARNED_MAX_PER_ARTICLE active phrasings per article, favouring wordings
     confirmed by many sources recently (half-life KB_LEARNING_HALF_LIFE_DAYS).
Articles whose searchable set changed are re-indexed. learned_chunk_specs() is the one
place where learned phrasings enter the index (chunk kind "learned"); search.service never
shows a learned chunk's text, the snippet falls back to the article's own text.
"""

import datetime
import hashlib
import logging
import math
import re
from collections import defaultdict

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from embeddings.chunking import ChunkSpec, phrasing_text
from embeddings.encoder import get_encoder
from embeddings.indexing import process_pending
from embeddings.tasks import deferred_indexing, request_index
from textutils.redaction import redact

from .models import LearnedPhrasing, PhrasingEvidence, SearchClick, SearchEvent

logger = logging.getLogger("kb.learning")

LEARNED_KIND = "learned"
DEFAULTS = {
    # Measured with bench/learning_curve.py (docs/search-quality.md, "Search that learns").
    # Cosines in the comparison model's space (multilingual e5, where unrelated wordings
    # still score ~0.83): the values that select the same share of replayed-wording pairs
    # as 0.5 / 0.6 / 0.92 did with all-MiniLM-L6-v2 (bench/learning_thresholds.py).
    "KB_LEARNING_MIN_SOURCES": 2,
    "KB_LEARNING_MERGE_SIMILARITY": 0.97,
    # Support and compete re-chosen on banking77 half A (bench/learning_variants.py --grid,
    # 10 calls per article): 0.87 / 0.92 (was 0.89 / 0.9) confirm more wordings.
    "KB_LEARNING_SUPPORT_SIMILARITY": 0.87,
    "KB_LEARNING_COMPETE_SIMILARITY": 0.92,
    "KB_LEARNING_BURST_SECONDS": 600,
    "KB_LEARNED_MAX_PER_ARTICLE": 40,
    # Embed a learned phrasing as "Title: wording" (True) or as the wording alone (False,
    # session 7: chosen on banking77 half A, bench/learning_variants.py; learned_chunk_specs).
    "KB_LEARNED_CHUNK_TITLE": False,
    "KB_LEARNING_HALF_LIFE_DAYS": 90,
    # Experimental, off (0): a wording this close (cosine) to one of the article's own issue
    # phrasings counts the article's author as one more independent source.
    "KB_LEARNING_OWN_CONFIRM_SIMILARITY": 0.0,
}
# A customer's "helpful: yes" counts for the public search of the same session just before it.
HELPFUL_SEARCH_WINDOW = datetime.timedelta(minutes=30)
_WORD = re.compile(r"\w", re.UNICODE)


def setting(name):
    return getattr(settings, name, DEFAULTS[name])


def normalise(text):
    return " ".join(str(text or "").lower().split()).strip(" .,;:!?")


def text_hash(text):
    return hashlib.sha256(normalise(text).encode("utf-8")).hexdigest()


def source_for_user(user):
    return f"user:{user.pk}"


def source_for_session(session_key):
    # A session key is a credential: only a hash of it is kept, enough to tell sessions apart.
    return "session:" + hashlib.sha256(session_key.encode("utf-8")).hexdigest()[:24]


# --- evidence (called from insights.events; never breaks the request that records it) --------


def _usable(text):
    return len(_WORD.findall(text or "")) >= 3


def _add_evidence(*, article_id, kind, text, locale, source):
    text = redact(text or "")[:600].strip()  # redacted again: nothing unredacted is ever stored
    if not _usable(text) or not source:
        return None
    with transaction.atomic():  # a savepoint: a failure here never breaks the caller's request
        evidence = PhrasingEvidence.objects.create(
            article_id=article_id,
            kind=kind,
            text=text,
            text_hash=text_hash(text),
            locale=(locale or "")[:8],
            source=source[:80],
        )
    return evidence


def note_solved_call(outcome):
    """A call closed 'solved with this article': its wording is evidence for that article."""
    try:
        if outcome.outcome != "solved" or not outcome.article_id or outcome.user_id is None:
            return None
        event = outcome.search_event
        wording = outcome.query or (event.query if event is not None else "")
        kind = PhrasingEvidence.SOLVED
        if (
            event is not None
            and SearchClick.objects.filter(
                search_event=event, article_id=outcome.article_id
            ).exists()
        ):
            kind = PhrasingEvidence.CLICK_SOLVED
        locale = outcome.locale or (event.locale if event is not None else "")
        return _add_evidence(
            article_id=outcome.article_id,
            kind=kind,
            text=wording,
            locale=locale,
            source=source_for_user(outcome.user),
        )
    except Exception:
        logger.exception("could not learn from solved call %s", outcome.pk)
        return None


def note_helpful_feedback(feedback, now=None):
    """'Helpful: yes' on an article: the session's last public search that returned it."""
    try:
        if not feedback.helpful or not feedback.session_key:
            return None
        now = now or timezone.now()
        searches = SearchEvent.objects.filter(
            session_key=feedback.session_key,
            channel=SearchEvent.CHANNEL_PUBLIC,
            created_at__gte=now - HELPFUL_SEARCH_WINDOW,
            created_at__lte=now,
        ).order_by("-created_at")[:20]
        event = next((s for s in searches if feedback.article_id in s.result_page_ids), None)
        if event is None:
            return None
        return _add_evidence(
            article_id=feedback.article_id,
            kind=PhrasingEvidence.HELPFUL,
            text=event.query,
            locale=event.locale,
            source=source_for_session(feedback.session_key),
        )
    except Exception:
        logger.exception("could not learn from feedback %s", feedback.pk)
        return None


# --- applying what was learned ---------------------------------------------------------------


def _vectors(rows):
    return np.frombuffer(b"".join(bytes(r) for r in rows), dtype="float32").reshape(len(rows), -1)


def _encode_missing(encoder):
    """Give every evidence row and phrasing a vector from the current model."""
    for model in (PhrasingEvidence, LearnedPhrasing):
        stale = list(
            model.objects.exclude(model_id=encoder.model_id)
            .exclude(status=LearnedPhrasing.RETIRED)
            .only("pk", "text")
            if model is LearnedPhrasing
            else model.objects.exclude(model_id=encoder.model_id).only("pk", "text")
        )
        for start in range(0, len(stale), 512):
            batch = stale[start : start + 512]
            vectors = encoder.encode_queries([row.text for row in batch])
            for row, vector in zip(batch, vectors, strict=True):
                row.vector, row.model_id = vector.tobytes(), encoder.model_id
            model.objects.bulk_update(batch, ["vector", "model_id"])


def _merge_new_evidence(encoder, now):
    """Attach unassigned evidence to the article's nearest phrasing, or start a new candidate.
    Returns (vectors of the new evidence, articles touched)."""
    merge = setting("KB_LEARNING_MERGE_SIMILARITY")
    new = list(
        PhrasingEvidence.objects.filter(phrasing__isnull=True, model_id=encoder.model_id).order_by(
            "created_at", "pk"
        )
    )
    if not new:
        return np.zeros((0, encoder.dimension), "float32"), set()
    by_article = defaultdict(list)
    for evidence in new:
        by_article[evidence.article_id].append(evidence)
    for article_id, items in by_article.items():
        phrasings = list(
            LearnedPhrasing.objects.filter(article_id=article_id, model_id=encoder.model_id)
            .exclude(status=LearnedPhrasing.RETIRED)
            .order_by("pk")
        )
        matrix = _vectors([p.vector for p in phrasings]) if phrasings else None
        by_hash = {p.text_hash: p for p in phrasings}
        for evidence in items:
            vector = np.frombuffer(bytes(evidence.vector), dtype="float32")
            target = by_hash.get(evidence.text_hash)
            if target is None and matrix is not None:
                sims = matrix @ vector
                best = int(np.argmax(sims))
                if sims[best] >= merge:
                    target = phrasings[best]
            if target is None:
                target = LearnedPhrasing.objects.create(
                    article_id=article_id,
                    text=evidence.text,
                    text_hash=evidence.text_hash,
                    locale=evidence.locale,
                    vector=evidence.vector,
                    model_id=encoder.model_id,
                    first_seen=evidence.created_at,
                    last_seen=evidence.created_at,
                )
                phrasings.append(target)
                by_hash[target.text_hash] = target
                row = vector.reshape(1, -1)
                matrix = row if matrix is None else np.vstack([matrix, row])
            evidence.phrasing = target
        PhrasingEvidence.objects.bulk_update(items, ["phrasing"])
    _refresh_counts({e.phrasing_id for e in new})
    return _vectors([e.vector for e in new]), set(by_article)


def _refresh_counts(phrasing_ids):
    stats = defaultdict(lambda: {"calls": 0, "languages": set(), "first": None, "last": None})
    for pid, locale, created in PhrasingEvidence.objects.filter(
        phrasing_id__in=phrasing_ids
    ).values_list("phrasing_id", "locale", "created_at"):
        s = stats[pid]
        s["calls"] += 1
        if locale:
            s["languages"].add(locale)
        s["first"] = created if s["first"] is None else min(s["first"], created)
        s["last"] = created if s["last"] is None else max(s["last"], created)
    phrasings = list(LearnedPhrasing.objects.filter(pk__in=phrasing_ids))
    for p in phrasings:
        s = stats[p.pk]
        p.calls, p.languages = s["calls"], sorted(s["languages"])
        p.first_seen, p.last_seen = s["first"] or p.first_seen, s["last"] or p.last_seen
    LearnedPhrasing.objects.bulk_update(
        phrasings, ["calls", "languages", "first_seen", "last_seen"]
    )


def _effective_sources(rows):
    """Source per evidence row, with a burst of identical wordings for one article (within
    KB_LEARNING_BURST_SECONDS of the burst's first call) collapsed onto its first source."""
    burst = datetime.timedelta(seconds=setting("KB_LEARNING_BURST_SECONDS"))
    order = sorted(range(len(rows)), key=lambda i: (rows[i][1], rows[i][4], rows[i][5]))
    effective = [None] * len(rows)
    anchor = None
    for i in order:
        _, article_id, _, source, hashed, created, _ = rows[i]
        if (
            anchor is not None
            and anchor[0] == (article_id, hashed)
            and created - anchor[1] <= burst
        ):
            effective[i] = anchor[2]
        else:
            anchor = ((article_id, hashed), created, source)
            effective[i] = source
    return effective


def _recompute_statuses(encoder, new_vectors, touched_articles, now):
    """Confirm, cap and (de)activate the candidate/active phrasings the new evidence affects.
    Returns the article ids whose searchable set changed."""
    support = setting("KB_LEARNING_SUPPORT_SIMILARITY")
    compete = setting("KB_LEARNING_COMPETE_SIMILARITY")
    min_sources = setting("KB_LEARNING_MIN_SOURCES")
    cap = setting("KB_LEARNED_MAX_PER_ARTICLE")
    half_life = setting("KB_LEARNING_HALF_LIFE_DAYS")
    open_statuses = (LearnedPhrasing.CANDIDATE, LearnedPhrasing.ACTIVE)
    candidates = list(
        LearnedPhrasing.objects.filter(status__in=open_statuses, model_id=encoder.model_id)
    )
    if not candidates:
        return set()
    matrix = _vectors([p.vector for p in candidates])
    affected_articles = set(touched_articles)
    if len(new_vectors):
        near_new = (matrix @ new_vectors.T >= support).any(axis=1)
        affected_articles.update(
            p.article_id for p, hit in zip(candidates, near_new, strict=True) if hit
        )
    chosen = [i for i, p in enumerate(candidates) if p.article_id in affected_articles]
    if not chosen:
        return set()
    own_confirm = setting("KB_LEARNING_OWN_CONFIRM_SIMILARITY")
    own_vectors = (
        _own_phrasing_vectors(encoder, {candidates[i].article_id for i in chosen})
        if own_confirm
        else {}
    )
    rows = list(
        PhrasingEvidence.objects.filter(model_id=encoder.model_id, phrasing__isnull=False)
        .exclude(phrasing__status=LearnedPhrasing.RETIRED)
        .values_list(
            "pk", "article_id", "phrasing_id", "source", "text_hash", "created_at", "vector"
        )
    )
    evidence = _vectors([r[6] for r in rows])
    articles = np.array([r[1] for r in rows])
    members = np.array([r[2] for r in rows])
    sources = _effective_sources(rows)
    # One vote per source and wording: repeating the same words does not outvote others.
    votes = [(sources[j], rows[j][4]) for j in range(len(rows))]
    sims = matrix[chosen] @ evidence.T
    passing = defaultdict(list)
    updates = []
    for row, index in enumerate(chosen):
        phrasing = candidates[index]
        mine = members == phrasing.pk
        confirming = np.nonzero((sims[row] >= support) & (articles == phrasing.article_id) | mine)
        confirmed_by = {sources[j] for j in confirming[0]}
        mine_own = own_vectors.get(phrasing.article_id)
        if mine_own is not None and float((mine_own @ matrix[index]).max()) >= own_confirm:
            confirmed_by.add(f"article:{phrasing.article_id}")
        own = len(confirmed_by)
        by_article = defaultdict(set)
        for j in np.nonzero((sims[row] >= compete) | mine)[0]:
            by_article[int(articles[j])].add(votes[j])
        own_votes = len(by_article.pop(phrasing.article_id, ()))
        rival = max((len(v) for v in by_article.values()), default=0)
        phrasing.sources, phrasing.competing_calls = own, rival
        updates.append(phrasing)
        if own >= min_sources and own_votes >= rival:
            age_days = max(0.0, (now - phrasing.last_seen).total_seconds() / 86400)
            weight = own * math.pow(0.5, age_days / half_life)
            passing[phrasing.article_id].append((weight, phrasing.calls, phrasing.pk))
    active = set()
    for items in passing.values():
        items.sort(reverse=True)
        active.update(pk for _, _, pk in items[:cap])
    changed = set()
    for phrasing in updates:
        status = LearnedPhrasing.ACTIVE if phrasing.pk in active else LearnedPhrasing.CANDIDATE
        if status != phrasing.status:
            changed.add(phrasing.article_id)
            phrasing.status = status
    LearnedPhrasing.objects.bulk_update(updates, ["status", "sources", "competing_calls"])
    return changed


_OWN_VECTORS = {}


def _own_phrasing_vectors(encoder, article_ids):
    """{article id: matrix of its own issue phrasings' vectors} (query role, like evidence)."""
    from articles.models import SolutionArticlePage

    out = {}
    pages = SolutionArticlePage.objects.filter(pk__in=list(article_ids))
    for page_id, issue in pages.values_list("pk", "issue"):
        texts = [line.strip() for line in (issue or "").splitlines() if line.strip()]
        missing = [t for t in texts if (encoder.model_id, t) not in _OWN_VECTORS]
        if missing:
            for text, vector in zip(missing, encoder.encode_queries(missing), strict=True):
                _OWN_VECTORS[(encoder.model_id, text)] = vector
        if texts:
            out[page_id] = np.stack([_OWN_VECTORS[(encoder.model_id, t)] for t in texts])
    return out


def apply_learning(reindex=True, now=None):
    """Merge pending evidence, confirm and cap phrasings, re-index the articles that changed.
    Returns {"evidence": n new, "changed_articles": [...], "active": total searchable}."""
    encoder = get_encoder()
    now = now or timezone.now()
    with transaction.atomic():
        _encode_missing(encoder)
        new_vectors, touched = _merge_new_evidence(encoder, now)
        # Nothing new (the periodic job's usual case): nothing to confirm again.
        changed = _recompute_statuses(encoder, new_vectors, touched, now) if touched else set()
    if reindex and changed:
        reindex_articles(changed)
    return {
        "evidence": len(new_vectors),
        "changed_articles": sorted(changed),
        "active": LearnedPhrasing.objects.filter(status=LearnedPhrasing.ACTIVE).count(),
    }


def reindex_articles(article_ids):
    """Bring the articles' chunks (and so their learned chunks) and FAISS up to date now."""
    # Recorded as owed first (one task for all of them), so a failure leaves them pending.
    with transaction.atomic(), deferred_indexing():
        for page_id in article_ids:
            request_index(page_id, "learned")
    process_pending()  # a no-op when the (immediate) task already ran them


# --- the index: the one place learned phrasings become chunks ------------------------------


def learned_chunk_specs(page, first_position):
    """Extra chunk specs for an article: its searchable learned phrasings (kind "learned",
    match only). A customer's wording is embedded as it was typed, without the "Title: "
    prefix the article's own phrasings carry (KB_LEARNED_CHUNK_TITLE off): it is compared
    with what the next caller types, and the title pulls every learned chunk of an article
    towards the same point (banking77 half A, bench/learning_variants.py: 86.4 without the
    title against 85.65 with it at 10 calls per article). Wordings already in the issue
    field (for example after promotion) are left out."""
    if not hasattr(page, "issue_phrasings") or page.pk is None:
        return []
    texts = LearnedPhrasing.objects.filter(
        article_id=page.pk, status__in=(LearnedPhrasing.ACTIVE, LearnedPhrasing.PROMOTED)
    ).order_by("pk")
    own = {normalise(p) for p in page.issue_phrasings}
    title = page.title.strip()
    with_title = bool(setting("KB_LEARNED_CHUNK_TITLE"))
    specs = []
    for text in texts.values_list("text", flat=True):
        if normalise(text) in own:
            continue
        embedded = phrasing_text(title, text) if with_title else text
        specs.append(ChunkSpec(first_position + len(specs), LEARNED_KIND, embedded))
    return specs


# --- review and retirement ---------------------------------------------------------------


def retire_for_article(article_id):
    """An archived or unpublished article forgets what calls taught it: its phrasings (except
    rejected ones, which must stay rejected) are retired and their evidence is dropped."""
    retired = LearnedPhrasing.objects.filter(article_id=article_id).exclude(
        status__in=(LearnedPhrasing.REJECTED, LearnedPhrasing.RETIRED)
    )
    PhrasingEvidence.objects.filter(phrasing__in=retired).delete()
    PhrasingEvidence.objects.filter(article_id=article_id, phrasing__isnull=True).delete()
    return retired.update(status=LearnedPhrasing.RETIRED)


def evidence_from(sources):
    """The evidence rows one person left (operator ids or hashed customer sessions)."""
    return PhrasingEvidence.objects.filter(source__in=list(sources))


def forget_sources(sources, reindex=True):
    """A data-subject erasure: drop the evidence these sources gave. A candidate or searchable
    wording that only they gave goes with it; the others are recounted and re-confirmed
    without them (so a wording may stop being searchable). Rejected and promoted wordings
    stay as they are (a rejection must hold; a promoted wording is article text now).
    Returns the number of evidence rows deleted."""
    rows = list(evidence_from(sources).values_list("pk", "phrasing_id", "article_id"))
    if not rows:
        return 0
    phrasing_ids = {pid for _pk, pid, _a in rows if pid is not None}
    articles = {article for _pk, _pid, article in rows}
    open_statuses = (LearnedPhrasing.CANDIDATE, LearnedPhrasing.ACTIVE)
    encoder = get_encoder()
    with transaction.atomic():
        PhrasingEvidence.objects.filter(pk__in=[pk for pk, _pid, _a in rows]).delete()
        orphans = LearnedPhrasing.objects.filter(
            pk__in=phrasing_ids, status__in=open_statuses, evidence__isnull=True
        )
        lost_active = set(
            orphans.filter(status=LearnedPhrasing.ACTIVE).values_list("article_id", flat=True)
        )
        orphans.delete()
        _refresh_counts(list(phrasing_ids))
        changed = _recompute_statuses(
            encoder, np.zeros((0, encoder.dimension), "float32"), articles, timezone.now()
        )
    if reindex and (changed or lost_active):
        # After the caller's transaction commits (at once when there is none).
        owed = set(changed) | lost_active
        transaction.on_commit(lambda: reindex_articles(owed))
    return len(rows)


def for_review(article_id):
    """What the editor panel lists: open wordings, searchable first, then by calls."""
    return list(
        LearnedPhrasing.objects.filter(
            article_id=article_id, status__in=(LearnedPhrasing.ACTIVE, LearnedPhrasing.CANDIDATE)
        ).order_by("-status", "-sources", "-calls", "-last_seen")
    )


def review(phrasing, action, user):
    """Promote (the editor adds it to the issue field) or reject (never comes back)."""
    status = {"promote": LearnedPhrasing.PROMOTED, "reject": LearnedPhrasing.REJECTED}[action]
    was_searchable = phrasing.status in (LearnedPhrasing.ACTIVE, LearnedPhrasing.PROMOTED)
    phrasing.status, phrasing.reviewed_by, phrasing.reviewed_at = status, user, timezone.now()
    phrasing.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    if status == LearnedPhrasing.REJECTED and was_searchable:
        reindex_articles([phrasing.article_id])
    return phrasing
