"""The read API of the vector index: query vectors and nearest chunks, per model.

`nearest_chunks(vector, locales, k, model_id)` serves from each model's FAISS store, reloads
when another process wrote a new generation, and rebuilds from the DB chunk table (the
source of truth) when the files are missing or unusable. Search, the gap report and the
benchmarks read through here; nobody else assembles that recipe.
"""

import threading
from collections import OrderedDict

import numpy as np

from .encoder import get_encoder, query_threads
from .models import Chunk
from .store import store_for


def db_vectors(locale_code, model_id, dimension=None, ids=None):
    """(ids, vectors) of a locale's chunks for one model, straight from the DB.

    With no rows, vectors is an empty (0, dimension) matrix (None without a dimension)."""
    qs = Chunk.objects.for_locale(locale_code).for_model(model_id)
    if ids is not None:
        qs = qs.filter(pk__in=[int(i) for i in ids])
    rows = list(qs.order_by("pk").values_list("pk", "vector", "dimension"))
    if not rows:
        empty = None if dimension is None else np.zeros((0, dimension), "float32")
        return np.zeros(0, "int64"), empty
    ids_arr = np.fromiter((r[0] for r in rows), dtype="int64", count=len(rows))
    return ids_arr, Chunk.decode_many((r[1] for r in rows), rows[0][2])


def serving_index(locale_code, model_id):
    """The loaded FAISS index a search would use now (reloaded/rebuilt as needed)."""
    dimension = get_encoder(model_id).dimension

    def rebuild(code):
        return db_vectors(code, model_id, dimension)

    return store_for(model_id).get(locale_code, model_id, dimension, rebuild)


def nearest_chunks(vector, locales, k, model_id):
    """{chunk id: cosine} of the k nearest chunks of one model in each of the locales."""
    store = store_for(model_id)
    query = np.ascontiguousarray(np.asarray(vector, dtype="float32").reshape(1, -1))
    found = {}
    with query_threads():
        for code in locales:
            scores, ids = store.search(serving_index(code, model_id), query, k)
            for score, chunk_id in zip(scores[0], ids[0], strict=True):
                if chunk_id >= 0:
                    found[int(chunk_id)] = float(score)
    return found


class _QueryVectorCache:
    """Operators type incrementally and repeat queries; encoding is the dominant cost."""

    def __init__(self, size=512):
        self.size, self._data, self._lock = size, OrderedDict(), threading.Lock()

    def peek(self, key):
        with self._lock:
            return self._data.get(key)

    def get(self, key, compute):
        with self._lock:
            vector = self._data.get(key)
            if vector is not None:
                self._data.move_to_end(key)
                return vector
        vector = compute()
        with self._lock:
            self._data[key] = vector
            if len(self._data) > self.size:
                self._data.popitem(last=False)
        return vector

    def clear(self):
        with self._lock:
            self._data.clear()


_query_cache = _QueryVectorCache()


def query_vector(text, model_id):
    """The model's query vector of a text (cached per process; one intra-op thread)."""
    encoder = get_encoder(model_id)

    def compute():
        with query_threads():
            return encoder.encode_query(text)

    return _query_cache.get((model_id, text), compute)


def remember_query_vector(text, model_id, vector):
    """Keep a vector batch code already computed for `text` exactly as `query_vector` would
    (the gap report's), so the next search of `text` in this process does not encode it."""
    _query_cache.get((model_id, text), lambda: vector)


def cached_query_vector(text, model_id):
    """The query vector if this process computed it recently, else None (never encodes)."""
    return _query_cache.peek((model_id, text))


def clear_query_cache():
    """Forget cached query vectors (benchmarks time the encoding)."""
    _query_cache.clear()
