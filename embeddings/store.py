"""The FAISS vector store: one index per locale, versioned by a manifest, crash-safe.

Layout under KB_VECTOR_INDEX_DIR/<model>/<locale>/ (one store per embedding model):
    manifest.json        {"model_id", "dimension", "count", "generation", "kind", "file", "checksum",
                          "chunk_generation": the database generation the file holds at least}
    index-<gen>.faiss    IndexIDMap2 over exact inner product (or HNSW above a threshold)
    .lock                file lock held by writers (and by readers while loading)

A writer builds the new index file under a temporary name, fsyncs it, renames it into
place, and only then replaces the manifest: the manifest rename is the single atomic
switch. A reader checks the manifest on every search (a stat call) and reloads when the
generation moved. Anything missing, truncated or mismatched is rebuilt from the DB,
which is the source of truth; a failed write leaves the previous generation serving.
"""

import hashlib
import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np
from django.conf import settings
from filelock import FileLock

logger = logging.getLogger("kb.vector_index")

HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 96


class IndexUnusable(Exception):
    """The files on disk cannot be served (missing, truncated, checksum or model mismatch)."""


@dataclass
class LoadedIndex:
    index: object
    manifest: dict
    manifest_stat: tuple
    file_stat: tuple

    @property
    def generation(self):
        return self.manifest["generation"]


def _stat_key(path):
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _checksum(path):
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_dir(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def new_index(dimension, count):
    """Exact inner-product search for small indexes, HNSW above KB_VECTOR_HNSW_THRESHOLD."""
    if count > settings.KB_VECTOR_HNSW_THRESHOLD:
        inner = faiss.IndexHNSWFlat(dimension, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        inner.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        inner.hnsw.efSearch = HNSW_EF_SEARCH
        return faiss.IndexIDMap2(inner), "hnsw"
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)), "flat"


def index_kind(index):
    inner = faiss.downcast_index(index.index) if isinstance(index, faiss.IndexIDMap2) else index
    return "hnsw" if isinstance(inner, faiss.IndexHNSW) else "flat"


def index_ids(index):
    return (
        faiss.vector_to_array(index.id_map).astype("int64")
        if index.ntotal
        else np.zeros(0, "int64")
    )


class VectorStore:
    """Per-process reader cache plus the locked, atomic writer."""

    def __init__(self, directory=None, subdir=None):
        self._directory = Path(directory) if directory else None
        self._subdir = subdir
        self._loaded: dict[str, LoadedIndex] = {}
        self._mutex = threading.Lock()

    @property
    def directory(self) -> Path:
        base = self._directory or Path(settings.KB_VECTOR_INDEX_DIR)
        return base / self._subdir if self._subdir else base

    def locale_dir(self, locale):
        path = self.directory / locale
        path.mkdir(parents=True, exist_ok=True)
        return path

    def lock(self, locale, timeout=120):
        return FileLock(str(self.locale_dir(locale) / ".lock"), timeout=timeout)

    # -- reading --------------------------------------------------------------------
    def read_manifest(self, locale):
        path = self.locale_dir(locale) / "manifest.json"
        try:
            return json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise IndexUnusable(f"manifest of {locale} is unreadable: {exc}") from exc

    def load_from_disk(self, locale, model_id=None, dimension=None, verify=True) -> LoadedIndex:
        """Load and verify the current generation; raise IndexUnusable when it must not be served."""
        folder = self.locale_dir(locale)
        manifest_stat = _stat_key(folder / "manifest.json")
        manifest = self.read_manifest(locale)
        if manifest is None:
            raise IndexUnusable(f"no index for {locale} yet")
        path = folder / manifest["file"]
        file_stat = _stat_key(path)
        if file_stat is None:
            raise IndexUnusable(f"index file {path} is missing")
        if model_id is not None and manifest["model_id"] != model_id:
            raise IndexUnusable(
                f"index of {locale} was built with {manifest['model_id']!r}, the configured model is {model_id!r}"
            )
        if verify and _checksum(path) != manifest["checksum"]:
            raise IndexUnusable(
                f"index file {path} does not match its manifest checksum (truncated or corrupt)"
            )
        try:
            index = faiss.read_index(str(path))
        except RuntimeError as exc:
            raise IndexUnusable(f"index file {path} cannot be read: {exc}") from exc
        if index.ntotal != manifest["count"] or (dimension is not None and index.d != dimension):
            raise IndexUnusable(
                f"index file {path} holds {index.ntotal} vectors of dimension {index.d}, "
                f"the manifest says {manifest['count']} of {manifest['dimension']}"
            )
        if index_kind(index) == "hnsw":
            faiss.downcast_index(index.index).hnsw.efSearch = HNSW_EF_SEARCH
        return LoadedIndex(index, manifest, manifest_stat, file_stat)

    def is_current(self, locale, loaded):
        folder = self.directory / locale
        if _stat_key(folder / "manifest.json") != loaded.manifest_stat:
            return False
        return _stat_key(folder / loaded.manifest["file"]) == loaded.file_stat

    def _serving(self, locale, model_id):
        """The cached index if it is still the current generation on disk for this model."""
        loaded = self._loaded.get(locale)
        if (
            loaded is not None
            and self.is_current(locale, loaded)
            and loaded.manifest["model_id"] == model_id
        ):
            return loaded
        return None

    def get(self, locale, model_id, dimension, rebuild):
        """The served index for a locale, reloaded if another process wrote a new generation.

        `rebuild(locale)` is called (and the result loaded) when the files are unusable."""
        loaded = self._serving(locale, model_id)
        if loaded is not None:
            return loaded
        with self._mutex:
            loaded = self._serving(locale, model_id)
            if loaded is not None:
                return loaded
            with self.lock(locale):
                try:
                    loaded = self.load_from_disk(locale, model_id, dimension)
                except IndexUnusable as exc:
                    if "no index" in str(exc):
                        logger.info("building the %s vector index from the database", locale)
                    else:
                        logger.warning(
                            "vector index %s unusable, rebuilding from the database: %s",
                            locale,
                            exc,
                        )
                    ids, vectors = rebuild(locale)
                    self.write(locale, ids, vectors, model_id, dimension)
                    loaded = self.load_from_disk(locale, model_id, dimension)
            self._loaded[locale] = loaded
            return loaded

    def search(self, loaded, query_vectors, k):
        index = loaded.index
        if index.ntotal == 0:
            n = len(query_vectors)
            return np.zeros((n, 0), "float32"), np.zeros((n, 0), "int64")
        k = min(k, index.ntotal)
        scores, ids = index.search(np.ascontiguousarray(query_vectors, dtype="float32"), k)
        return scores, ids

    def forget(self, locale=None):
        with self._mutex:
            if locale is None:
                self._loaded.clear()
            else:
                self._loaded.pop(locale, None)

    # -- writing (caller holds self.lock(locale)) ------------------------------------
    def write(self, locale, ids, vectors, model_id, dimension, index=None, chunk_generation=None):
        """Write a complete new generation; the previous one keeps serving if anything fails.

        `chunk_generation`: the database generation (IndexState) read before the chunk ids
        written here, so the file holds at least that generation's chunks of this locale
        (embeddings/replica.py skips loading a file that is already there)."""
        folder = self.locale_dir(locale)
        try:
            previous = self.read_manifest(locale)
        except IndexUnusable:
            previous = None
        generation = (previous or {}).get("generation", 0) + 1
        # Writers hold the lock, so any temporary file here was left by a killed writer.
        for stale in folder.glob(".*.tmp-*"):
            logger.warning("removing %s left by an interrupted index write", stale.name)
            stale.unlink(missing_ok=True)
        if index is None:
            index, _kind = new_index(dimension, len(ids))
            if len(ids):
                index.add_with_ids(
                    np.ascontiguousarray(vectors, dtype="float32"), np.asarray(ids, dtype="int64")
                )
        kind = index_kind(index)
        filename = f"index-{generation}.faiss"
        tmp_index = folder / f".{filename}.tmp-{os.getpid()}"
        tmp_manifest = folder / f".manifest.json.tmp-{os.getpid()}"
        try:
            faiss.write_index(index, str(tmp_index))
            with open(tmp_index, "rb+") as fh:
                os.fsync(fh.fileno())
            manifest = {
                "model_id": model_id,
                "dimension": int(dimension),
                "count": int(index.ntotal),
                "generation": generation,
                "kind": kind,
                "file": filename,
                "checksum": _checksum(tmp_index),
                "written_at": time.time(),
            }
            if chunk_generation is not None:
                manifest["chunk_generation"] = int(chunk_generation)
            os.replace(tmp_index, folder / filename)
            with open(tmp_manifest, "w") as fh:
                json.dump(manifest, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp_manifest, folder / "manifest.json")
            _fsync_dir(folder)
        except BaseException:
            for tmp in (tmp_index, tmp_manifest):
                tmp.unlink(missing_ok=True)
            try:
                current = self.read_manifest(locale)
            except IndexUnusable:
                current = None
            if not current or current.get("file") != filename:
                (folder / filename).unlink(missing_ok=True)  # written but never switched to
            raise
        self._remove_old_generations(folder, keep={filename, (previous or {}).get("file")})
        return manifest

    def _remove_old_generations(self, folder, keep):
        for path in folder.glob("index-*.faiss"):
            if path.name not in keep:
                path.unlink(missing_ok=True)


_stores: dict[str, VectorStore] = {}
_stores_lock = threading.Lock()


def model_folder(model_id):
    """The store folder of a model id (a name or a path): filesystem-safe, readable."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in model_id).strip("._")
    return safe[-100:] or "model"


def store_for(model_id) -> VectorStore:
    """The process-wide store (reader cache + writer) of one embedding model."""
    store = _stores.get(model_id)
    if store is None:
        with _stores_lock:
            store = _stores.setdefault(model_id, VectorStore(subdir=model_folder(model_id)))
    return store


def forget_all():
    """Drop every cached index (tests, and after the index directory changed)."""
    for store in list(_stores.values()):
        store.forget()
