"""Writes to the vector index: chunk, embed only what changed, keep FAISS in step with the DB.

Entry points: request_index() (from signal handlers), process_pending() (the task),
index_page(), sync_locale(), rebuild(). The DB chunk table is the source of truth.
"""

import contextlib
import logging
import threading
import time
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.db import transaction
from wagtail.models import Locale, Page

from .chunking import chunks_for_index
from .encoder import current_model_id, get_encoder
from .models import Chunk, PendingIndexUpdate
from .store import IndexUnusable, VectorStore, index_ids, index_kind, new_index

logger = logging.getLogger("kb.indexing")

store = VectorStore()
_state = threading.local()
MAX_ATTEMPTS_PER_RUN = 3


@dataclass
class PageIndexResult:
    page_id: int
    encoded: int = 0
    kept: int = 0
    removed: int = 0
    locale: str | None = None


@dataclass
class SyncResult:
    locale: str
    added: int = 0
    removed: int = 0
    rebuilt: bool = False
    generation: int | None = None
    notes: list = field(default_factory=list)


# --- visibility --------------------------------------------------------------------


def page_visibility(page):
    """'public' only for a public article with no view restriction on it or an ancestor."""
    specific = page.specific
    if getattr(specific, "audience", None) != "public":
        return Chunk.VISIBILITY_INTERNAL
    if page.get_view_restrictions().exists():
        return Chunk.VISIBILITY_INTERNAL
    return Chunk.VISIBILITY_PUBLIC


def _is_indexable(page):
    from articles.models import SolutionArticlePage

    specific = page.specific
    return (
        page.live
        and isinstance(specific, SolutionArticlePage)
        and specific.kcs_state != SolutionArticlePage.KCS_ARCHIVED
    )


# --- requesting updates (called from signal handlers) --------------------------------


def request_index(page_id, reason, locale_id=None):
    """Record that a page's index entry is owed, then enqueue the task after commit.

    The PendingIndexUpdate row is written in the caller's transaction, so a publish that
    commits always leaves a trace the index can catch up from, even if enqueueing fails."""
    PendingIndexUpdate.objects.update_or_create(
        page_id=page_id,
        defaults={"reason": reason, "locale_id": locale_id, "attempts": 0, "last_error": ""},
    )
    deferred = getattr(_state, "deferred", None)
    if deferred is not None:
        deferred.append(page_id)
        return
    transaction.on_commit(lambda: enqueue_processing([page_id]))


def enqueue_processing(page_ids):
    from .tasks import process_index_updates

    try:
        process_index_updates.enqueue(page_ids=list(page_ids))
    except Exception:
        # Publishing must not fail because the queue is down: the pending rows remain and
        # the next run (another publish, the worker, or `rebuild_vector_index`) catches up.
        logger.exception(
            "could not enqueue the index update for pages %s; it stays pending", page_ids
        )


@contextlib.contextmanager
def deferred_indexing():
    """Collect index requests (e.g. during a bulk import) and enqueue one task at the end."""
    outer = getattr(_state, "deferred", None)
    if outer is not None:
        yield
        return
    _state.deferred = []
    try:
        yield
    finally:
        page_ids, _state.deferred = _state.deferred, None
        if page_ids:
            transaction.on_commit(lambda: enqueue_processing(sorted(set(page_ids))))


# --- the work -----------------------------------------------------------------------


def index_page(page_id, encoder=None, precomputed=None):
    """Bring the chunks of one page in line with its live version (DB only). Re-embeds only
    chunks whose text changed or whose vectors came from another model. `precomputed` maps
    text hashes to vectors already encoded in a larger batch (see rebuild)."""
    result = PageIndexResult(page_id)
    page = Page.objects.filter(id=page_id).select_related("locale").first()
    if page is None or not _is_indexable(page):
        result.removed, _ = Chunk.objects.filter(page_id=page_id).delete()
        return result
    specific = page.specific
    result.locale = page.locale.language_code
    encoder = encoder or get_encoder()
    model_id = encoder.model_id
    visibility = page_visibility(page)
    specs = chunks_for_index(specific)

    with transaction.atomic():
        existing = list(Chunk.objects.select_for_update().filter(page_id=page_id))
        reusable = {}
        for chunk in existing:
            if chunk.model_id == model_id:
                reusable.setdefault(chunk.text_hash, []).append(chunk)
        keep, to_update, to_encode = set(), [], []
        for spec in specs:
            candidates = reusable.get(spec.text_hash)
            if candidates:
                chunk = candidates.pop()
                keep.add(chunk.pk)
                if (chunk.position, chunk.kind, chunk.step_number, chunk.visibility) != (
                    spec.position,
                    spec.kind,
                    spec.step_number,
                    visibility,
                ):
                    chunk.position, chunk.kind, chunk.step_number = (
                        spec.position,
                        spec.kind,
                        spec.step_number,
                    )
                    chunk.visibility = visibility
                    to_update.append(chunk)
            else:
                to_encode.append(spec)
        stale = [c.pk for c in existing if c.pk not in keep]
        if stale:
            Chunk.objects.filter(pk__in=stale).delete()
        if to_update:
            Chunk.objects.bulk_update(to_update, ["position", "kind", "step_number", "visibility"])
        if to_encode:
            vectors = dict(precomputed or {})
            missing = [s for s in to_encode if s.text_hash not in vectors]
            if missing:
                vectors.update(
                    zip(
                        (s.text_hash for s in missing),
                        encoder.encode([s.text for s in missing]),
                        strict=True,
                    )
                )
            Chunk.objects.bulk_create(
                [
                    Chunk(
                        page_id=page_id,
                        locale_id=page.locale_id,
                        position=s.position,
                        kind=s.kind,
                        step_number=s.step_number,
                        text=s.text,
                        text_hash=s.text_hash,
                        vector=vectors[s.text_hash].tobytes(),
                        model_id=model_id,
                        dimension=encoder.dimension,
                        visibility=visibility,
                    )
                    for s in to_encode
                ]
            )
    result.encoded, result.kept, result.removed = len(to_encode), len(keep), len(stale)
    return result


def db_vectors(locale_code, model_id, ids=None):
    """(ids, vectors) of a locale's chunks for one model, straight from the DB."""
    qs = Chunk.objects.filter(locale__language_code=locale_code, model_id=model_id)
    if ids is not None:
        qs = qs.filter(pk__in=[int(i) for i in ids])
    rows = list(qs.order_by("pk").values_list("pk", "vector", "dimension"))
    if not rows:
        return np.zeros(0, "int64"), None
    dimension = rows[0][2]
    ids_arr = np.fromiter((r[0] for r in rows), dtype="int64", count=len(rows))
    vectors = np.frombuffer(b"".join(bytes(r[1]) for r in rows), dtype="float32").reshape(
        len(rows), dimension
    )
    return ids_arr, vectors


def _dimension(encoder=None):
    return (encoder or get_encoder()).dimension


def rebuild_locale_files(locale_code, model_id, dimension):
    """Write a fresh generation from every DB vector of the locale (caller holds the lock)."""
    ids, vectors = db_vectors(locale_code, model_id)
    return store.write(
        locale_code,
        ids,
        vectors if vectors is not None else np.zeros((0, dimension), "float32"),
        model_id,
        dimension,
    )


def sync_locale(locale_code, encoder=None):
    """Make the locale's FAISS index hold exactly the DB's chunk ids for the current model."""
    encoder = encoder or get_encoder()
    model_id, dimension = encoder.model_id, encoder.dimension
    result = SyncResult(locale_code)
    with store.lock(locale_code):
        db_ids = np.fromiter(
            Chunk.objects.filter(locale__language_code=locale_code, model_id=model_id).values_list(
                "pk", flat=True
            ),
            dtype="int64",
        )
        try:
            loaded = store.load_from_disk(locale_code, model_id, dimension)
        except IndexUnusable as exc:
            if "no index" not in str(exc):
                logger.warning(
                    "vector index %s unusable, rebuilding from the database: %s", locale_code, exc
                )
            manifest = rebuild_locale_files(locale_code, model_id, dimension)
            result.rebuilt, result.added, result.generation = (
                True,
                manifest["count"],
                manifest["generation"],
            )
            return result
        index = loaded.index
        present = index_ids(index)
        to_remove = np.setdiff1d(present, db_ids, assume_unique=True)
        to_add = np.setdiff1d(db_ids, present, assume_unique=True)
        if not len(to_remove) and not len(to_add):
            result.generation = loaded.generation
            return result
        target_kind = new_index(dimension, len(db_ids))[1]
        if target_kind != index_kind(index) or (target_kind == "hnsw" and len(to_remove)):
            manifest = rebuild_locale_files(
                locale_code, model_id, dimension
            )  # HNSW cannot remove ids
            result.rebuilt = True
        else:
            if len(to_remove):
                index.remove_ids(np.ascontiguousarray(to_remove))
            if len(to_add):
                ids, vectors = db_vectors(locale_code, model_id, ids=to_add)
                index.add_with_ids(vectors, ids)
            manifest = store.write(locale_code, None, None, model_id, dimension, index=index)
        result.added, result.removed, result.generation = (
            len(to_add),
            len(to_remove),
            manifest["generation"],
        )
    return result


def process_pending(page_ids=None):
    """Run owed index updates: the given pages plus anything left over from earlier failures."""
    pending = list(PendingIndexUpdate.objects.all().order_by("requested_at"))
    wanted = {p.page_id for p in pending}
    if page_ids:
        wanted.update(int(p) for p in page_ids)
    if not wanted:
        return []
    encoder = get_encoder()
    locales, results, failed = set(), [], []
    by_page = {p.page_id: p for p in pending}
    for page_id in sorted(wanted):
        row = by_page.get(page_id)
        requested_at = row.requested_at if row else None
        for attempt in range(1, MAX_ATTEMPTS_PER_RUN + 1):
            try:
                result = index_page(page_id, encoder=encoder)
                break
            except Exception as exc:
                logger.warning(
                    "indexing page %s failed (attempt %s/%s): %s",
                    page_id,
                    attempt,
                    MAX_ATTEMPTS_PER_RUN,
                    exc,
                )
                if attempt == MAX_ATTEMPTS_PER_RUN:
                    logger.exception(
                        "indexing page %s failed; it stays pending for the next run", page_id
                    )
                    PendingIndexUpdate.objects.filter(page_id=page_id).update(
                        attempts=(row.attempts if row else 0) + attempt, last_error=str(exc)[:2000]
                    )
                    failed.append(page_id)
                    result = None
                else:
                    time.sleep(0.2 * attempt)
        if result is None:
            continue
        results.append(result)
        if result.locale:
            locales.add(result.locale)
        if row and row.locale_id:
            locales.update(
                Locale.objects.filter(pk=row.locale_id).values_list("language_code", flat=True)
            )
        if not result.locale:
            locales.update(_all_locale_codes())
        # Only clear the row if nobody re-requested the page while we worked on it.
        cleared = PendingIndexUpdate.objects.filter(page_id=page_id)
        if requested_at is not None:
            cleared = cleared.filter(requested_at=requested_at)
        cleared.delete()
    for code in sorted(locales):
        sync_locale(code, encoder=encoder)
    if failed:
        raise RuntimeError(f"index update failed for pages {failed}; they stay pending")
    return results


def _all_locale_codes():
    return {code for code, _ in settings.WAGTAIL_CONTENT_LANGUAGES}


def _texts_needing_vectors(page_ids, model_id):
    """{text hash: text} of every chunk the given live articles need and the DB lacks."""
    present = set(
        Chunk.objects.filter(page_id__in=page_ids, model_id=model_id).values_list(
            "page_id", "text_hash"
        )
    )
    needed = {}
    for page in Page.objects.filter(id__in=page_ids).specific().iterator(chunk_size=500):
        if _is_indexable(page):
            for spec in chunks_for_index(page):
                if (page.pk, spec.text_hash) not in present:
                    needed.setdefault(spec.text_hash, spec.text)
    return needed


def stale_chunk_count(locale_code=None):
    qs = Chunk.objects.exclude(model_id=current_model_id())
    if locale_code:
        qs = qs.filter(locale__language_code=locale_code)
    return qs.count()


def rebuild(locale_codes=None, reembed=False, progress=None):
    """Re-chunk every live article (re-embedding changed, stale-model or, with reembed, all
    chunks), drop chunks of pages that are gone, and rewrite each locale's index."""
    from articles.models import SolutionArticlePage

    encoder = get_encoder()
    codes = locale_codes or [code for code, _ in settings.WAGTAIL_CONTENT_LANGUAGES]
    pages = SolutionArticlePage.objects.filter(locale__language_code__in=codes)
    if reembed:
        Chunk.objects.filter(locale__language_code__in=codes).delete()
    Chunk.objects.filter(locale__language_code__in=codes).exclude(page__in=pages.live()).delete()
    Chunk.objects.filter(locale__language_code__in=codes).exclude(
        model_id=encoder.model_id
    ).delete()
    totals = PageIndexResult(page_id=0)
    page_ids = list(pages.values_list("id", flat=True).order_by("id"))
    # Encode everything new in large batches first: page by page, batches would be ~8 texts.
    needed = _texts_needing_vectors(page_ids, encoder.model_id)
    precomputed = (
        dict(zip(needed, encoder.encode(list(needed.values())), strict=True)) if needed else {}
    )
    for page_id in page_ids:
        result = index_page(page_id, encoder=encoder, precomputed=precomputed)
        totals.encoded += result.encoded
        totals.kept += result.kept
        if progress is not None:
            progress.update(1)
    PendingIndexUpdate.objects.filter(page_id__in=pages.values("id")).delete()
    syncs = []
    for code in codes:
        with store.lock(code):
            manifest = rebuild_locale_files(code, encoder.model_id, encoder.dimension)
        syncs.append(
            SyncResult(
                code, added=manifest["count"], rebuilt=True, generation=manifest["generation"]
            )
        )
    return totals, syncs
