"""Writes to the vector index: store a page's chunks for every model, embedding only what
changed, and keep each model's FAISS indexes in step with the DB chunk table.

This layer knows texts, not articles. The content app registers a *page source*
(`register_page_source`, articles/indexing.py) that turns a page id into its chunk texts,
locale and visibility, or None when the page must not be searchable. Entry points:
replace_page_chunks() / remove_page_chunks() (the write API), process_pending() (the task),
sync_locale(), rebuild(). The DB chunk table is the source of truth.
"""

import contextlib
import logging
import time
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.db import transaction

from .encoder import get_encoder, model_ids, query_threads
from .models import Chunk, IndexState, PendingIndexUpdate
from .store import IndexUnusable, index_ids, index_kind, new_index, store_for
from .vectors import db_vectors

logger = logging.getLogger("kb.indexing")

MAX_ATTEMPTS_PER_RUN = 3
VISIBILITIES = (Chunk.VISIBILITY_PUBLIC, Chunk.VISIBILITY_INTERNAL)
# Below this many texts a batch is encoded on KB_QUERY_THREADS intra-op threads (one), as a
# search is. A publish encodes a handful of texts; on torch's default pool (a thread per
# core) its one MiniLM text cost 369 ms of CPU on the busy 2-core machine against 28 ms on
# one thread, and the e5 text after it 1,679 against 130 ms, because the pool's threads spin
# while waiting for each other and for the cores (bench/publish_cost.py --alternate-threads,
# docs/reliability.md). Larger batches (a rebuild, a bulk import) keep the library default.
SMALL_BATCH = 64


def encoding_threads(count):
    """The thread setting for encoding `count` texts (see SMALL_BATCH)."""
    return query_threads() if count < SMALL_BATCH else contextlib.nullcontext()


@dataclass(frozen=True)
class PageChunks:
    """What a page source says about one page: where it lives, who may see it, its chunks."""

    locale_id: int
    locale_code: str
    visibility: str  # Chunk.VISIBILITY_PUBLIC or _INTERNAL
    specs: list  # [embeddings.chunking.ChunkSpec]


class PageSource:
    """Registered by the content app: turns page ids into PageChunks."""

    def page_chunks(self, page_id):
        """PageChunks, or None when the page is gone or must not be searchable."""
        raise NotImplementedError

    def page_ids(self, locale_codes):
        """Every page of these locales the source knows (searchable or not)."""
        raise NotImplementedError


_source: PageSource | None = None


def register_page_source(source):
    global _source
    _source = source


def page_source() -> PageSource:
    if _source is None:
        raise RuntimeError("no page source registered (the articles app registers one)")
    return _source


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
    model_id: str = ""
    added: int = 0
    removed: int = 0
    rebuilt: bool = False
    generation: int | None = None
    notes: list = field(default_factory=list)


# --- the write API ---------------------------------------------------------------------


def remove_page_chunks(page_id):
    """Forget a page in every model; returns how many chunk rows went."""
    with transaction.atomic():
        chunks = Chunk.objects.filter(page_id=page_id)
        locale_ids = set(chunks.values_list("locale_id", flat=True).distinct())
        removed, _ = chunks.delete()
        if removed:
            IndexState.bump(page_id, locale_ids.pop() if len(locale_ids) == 1 else None)
    return removed


def replace_page_chunks(page_id, page, model_ids_=None, precomputed=None):
    """Make the stored chunks of one page exactly `page.specs`, for every model (DB only).

    Re-embeds only chunks whose text changed, or that a model has no vector for; chunks of
    models no longer configured are dropped. `precomputed` maps (model id, text hash) to a
    vector already encoded in a larger batch (see rebuild)."""
    result = PageIndexResult(page_id, locale=page.locale_code)
    wanted_models = list(model_ids_ or model_ids())
    with transaction.atomic():
        existing = list(Chunk.objects.select_for_update().filter(page_id=page_id))
        reusable = {}
        for chunk in existing:
            reusable.setdefault((chunk.model_id, chunk.text_hash), []).append(chunk)
        keep, to_update, to_create = set(), [], []
        for model_id in wanted_models:
            to_encode = []
            for spec in page.specs:
                candidates = reusable.get((model_id, spec.text_hash))
                if not candidates:
                    to_encode.append(spec)
                    continue
                chunk = candidates.pop()
                keep.add(chunk.pk)
                wanted = (spec.position, spec.kind, spec.step_number, page.visibility)
                if (chunk.position, chunk.kind, chunk.step_number, chunk.visibility) != wanted:
                    chunk.position, chunk.kind, chunk.step_number, chunk.visibility = wanted
                    to_update.append(chunk)
            if not to_encode:
                continue
            encoder = get_encoder(model_id)
            precomputed = precomputed or {}
            vectors = {
                s.text_hash: precomputed[(model_id, s.text_hash)]
                for s in to_encode
                if (model_id, s.text_hash) in precomputed
            }
            missing = [s for s in to_encode if s.text_hash not in vectors]
            if missing:
                with encoding_threads(len(missing)):
                    encoded = encoder.encode_chunks([s.text for s in missing])
                vectors.update(zip((s.text_hash for s in missing), encoded, strict=True))
            to_create.extend(
                Chunk(
                    page_id=page_id,
                    locale_id=page.locale_id,
                    position=s.position,
                    kind=s.kind,
                    step_number=s.step_number,
                    text=s.text,
                    text_hash=s.text_hash,
                    vector=Chunk.encode_vector(vectors[s.text_hash]),
                    model_id=model_id,
                    dimension=encoder.dimension,
                    visibility=page.visibility,
                )
                for s in to_encode
            )
        stale = [c.pk for c in existing if c.pk not in keep]
        if stale:
            Chunk.objects.filter(pk__in=stale).delete()
        if to_update:
            Chunk.objects.bulk_update(to_update, ["position", "kind", "step_number", "visibility"])
        if to_create:
            Chunk.objects.bulk_create(to_create)
        if stale or to_update or to_create:
            # Last, so the generation row is locked only for the commit (embeddings/replica.py).
            IndexState.bump(page_id, page.locale_id)
    result.encoded, result.kept, result.removed = len(to_create), len(keep), len(stale)
    return result


def index_page(page_id, precomputed=None, page=...):
    """Bring one page's chunks in line with what the page source says (DB only)."""
    if page is ...:
        page = page_source().page_chunks(page_id)
    if page is None:
        return PageIndexResult(page_id, removed=remove_page_chunks(page_id))
    return replace_page_chunks(page_id, page, precomputed=precomputed)


# --- FAISS in step with the DB ---------------------------------------------------------------


def _dimension_of(model_id):
    return get_encoder(model_id).dimension


def rebuild_locale_files(locale_code, model_id, dimension):
    """Write a fresh generation from every DB vector of the locale (caller holds the lock)."""
    seen = IndexState.current()  # before the rows: the file holds at least this generation
    ids, vectors = db_vectors(locale_code, model_id, dimension)
    return store_for(model_id).write(
        locale_code, ids, vectors, model_id, dimension, chunk_generation=seen
    )


def holds_generation(locale_code, model_id, generation):
    """Whether a model's files of a locale were written from the chunk table at `generation`
    or later (their manifest says so): nothing to load or compare for a catch-up to it."""
    try:
        manifest = store_for(model_id).read_manifest(locale_code)
    except IndexUnusable:
        return False
    return bool(manifest) and manifest.get("chunk_generation", -1) >= generation


def sync_locale(locale_code, model_id=None, only_if_built=False, full=False):
    """Make a model's FAISS index of a locale hold exactly the DB's chunk ids (default: every
    model). `only_if_built`: leave a locale without files alone (its first search builds it);
    `full`: write it anew from the DB instead of adding and removing the differences."""
    if model_id is None:
        return [sync_locale(locale_code, m, only_if_built, full) for m in model_ids()]
    dimension = _dimension_of(model_id)
    store = store_for(model_id)
    result = SyncResult(locale_code, model_id)
    with store.lock(locale_code):
        if only_if_built and not (store.locale_dir(locale_code) / "manifest.json").exists():
            result.notes.append("no files yet")
            return result
        if full:
            manifest = rebuild_locale_files(locale_code, model_id, dimension)
            result.rebuilt, result.added = True, manifest["count"]
            result.generation = manifest["generation"]
            return result
        seen = IndexState.current()  # before the ids: the files then hold at least this
        db_ids = np.fromiter(
            Chunk.objects.for_locale(locale_code).for_model(model_id).values_list("pk", flat=True),
            dtype="int64",
        )
        try:
            loaded = store.load_from_disk(locale_code, model_id, dimension)
        except IndexUnusable as exc:
            if "no index" not in str(exc):
                logger.warning(
                    "vector index %s/%s unusable, rebuilding from the database: %s",
                    model_id,
                    locale_code,
                    exc,
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
            # HNSW cannot remove ids
            manifest = rebuild_locale_files(locale_code, model_id, dimension)
            result.rebuilt = True
        else:
            if len(to_remove):
                index.remove_ids(np.ascontiguousarray(to_remove))
            if len(to_add):
                ids, vectors = db_vectors(locale_code, model_id, dimension, ids=to_add)
                index.add_with_ids(vectors, ids)
            manifest = store.write(
                locale_code, None, None, model_id, dimension, index=index, chunk_generation=seen
            )
        result.added, result.removed, result.generation = (
            len(to_add),
            len(to_remove),
            manifest["generation"],
        )
    return result


# --- the task's work ------------------------------------------------------------------------


def _all_locale_codes():
    return {code for code, _ in settings.WAGTAIL_CONTENT_LANGUAGES}


def process_pending(page_ids=None):
    """Run owed index updates: the given pages plus anything left over from earlier failures."""
    from wagtail.models import Locale

    pending = list(PendingIndexUpdate.objects.all().order_by("requested_at"))
    wanted = {p.page_id for p in pending}
    if page_ids:
        wanted.update(int(p) for p in page_ids)
    if not wanted:
        return []
    locales, results, failed = set(), [], []
    by_page = {p.page_id: p for p in pending}
    pages, precomputed = {}, {}
    if wanted:
        # Encode every new text first, in one batch per model (a bulk import or the demo), and
        # outside the write transactions: on SQLite a write transaction holds the whole
        # database, and every search that logs itself would wait for the encoder.
        try:
            source = page_source()
            pages = {page_id: source.page_chunks(page_id) for page_id in sorted(wanted)}
            precomputed, _timings = encode_missing(
                {k: v for k, v in pages.items() if v is not None}
            )
        except Exception:
            logger.exception("batch encoding failed; indexing page by page")
            pages, precomputed = {}, {}
    for page_id in sorted(wanted):
        row = by_page.get(page_id)
        requested_at = row.requested_at if row else None
        for attempt in range(1, MAX_ATTEMPTS_PER_RUN + 1):
            try:
                result = index_page(page_id, precomputed, pages.get(page_id, ...))
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
        sync_locale(code)
    if failed:
        raise RuntimeError(f"index update failed for pages {failed}; they stay pending")
    return results


def _texts_needing_vectors(pages, model_ids_):
    """{(model id, text hash): text} of every chunk the pages need and the DB lacks."""
    present = set(
        Chunk.objects.filter(page_id__in=list(pages), model_id__in=model_ids_).values_list(
            "model_id", "page_id", "text_hash"
        )
    )
    needed = {}
    for page_id, page in pages.items():
        for spec in page.specs:
            for model_id in model_ids_:
                if (model_id, page_id, spec.text_hash) not in present:
                    needed.setdefault((model_id, spec.text_hash), spec.text)
    return needed


def encode_missing(pages):
    """Encode every text the pages need and the DB lacks, in large batches per model (page
    by page, batches would be ~8 texts). Returns ({(model id, text hash): vector}, timings)."""
    configured = model_ids()
    needed = _texts_needing_vectors(pages, configured)
    precomputed, timings = {}, {"encode": {}}
    for model_id in configured:
        keys = [k for k in needed if k[0] == model_id]
        if not keys:
            continue
        started = time.perf_counter()
        with encoding_threads(len(keys)):
            vectors = get_encoder(model_id).encode_chunks([needed[k] for k in keys])
        timings["encode"][model_id] = (len(keys), time.perf_counter() - started)
        precomputed.update(zip(keys, vectors, strict=True))
    return precomputed, timings


def rebuild(locale_codes=None, reembed=False, progress=None, models=None):
    """Re-chunk every page of the locales, embed what is new for each model (with `reembed`,
    everything of the given `models`, default all), drop chunks of pages that are gone or of
    models no longer configured, and rewrite each model's locale indexes.

    Returns (totals, syncs, timings): timings["encode"][model_id] = (texts, seconds)."""
    configured = model_ids()
    reembed_models = list(models or configured)
    codes = locale_codes or sorted(_all_locale_codes())
    in_locales = Chunk.objects.filter(locale__language_code__in=codes)
    with transaction.atomic():
        dropped = in_locales.exclude(model_id__in=configured).delete()[0]
        if reembed:
            dropped += in_locales.filter(model_id__in=reembed_models).delete()[0]
        if dropped:
            IndexState.bump()  # every locale may have changed
    source = page_source()
    page_ids = sorted(source.page_ids(codes))
    pages = {}
    for page_id in page_ids:
        page = source.page_chunks(page_id)
        if page is None:
            remove_page_chunks(page_id)
        else:
            pages[page_id] = page
    with transaction.atomic():
        if in_locales.exclude(page_id__in=list(pages)).delete()[0]:
            IndexState.bump()
    precomputed, timings = encode_missing(pages)
    totals = PageIndexResult(page_id=0)
    for page_id, page in pages.items():
        result = replace_page_chunks(page_id, page, precomputed=precomputed)
        totals.encoded += result.encoded
        totals.kept += result.kept
        if progress is not None:
            progress.update(1)
    PendingIndexUpdate.objects.filter(page_id__in=page_ids).delete()
    syncs = []
    for model_id in configured:
        dimension = _dimension_of(model_id)
        for code in codes:
            with store_for(model_id).lock(code):
                manifest = rebuild_locale_files(code, model_id, dimension)
            syncs.append(
                SyncResult(
                    code,
                    model_id,
                    added=manifest["count"],
                    rebuilt=True,
                    generation=manifest["generation"],
                )
            )
    return totals, syncs, timings
