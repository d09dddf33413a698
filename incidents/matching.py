"""Which active known problems a question is about: by meaning, by error code, by service.

There are only a handful of active problems at any time, so their texts are embedded into a
small in-memory matrix per model (rebuilt when a problem is added, edited or resolved) and
compared with the query vector directly; no FAISS index. The search APIs pass the model
that served the search, whose query vector is then already in the process's query cache:
the question is not encoded a second time (before: every nl/fr request also went through
all-MiniLM-L6-v2, ~21 ms of CPU, bench/request_cpu.py). Each model has its own threshold. Each language's title and title + customer
text are separate rows, and a problem scores its best row, so a Dutch question meets the
Dutch text. An error code in the question ("E-301") that also appears in a problem's texts
matches on its own: codes carry little meaning for the encoder but are exact for people.
"""

import re
import threading
from dataclasses import dataclass

import numpy as np
from django.conf import settings

from articles.models import Service
from dbutils.prepared import PreparedStatement, kept
from embeddings import vectors as embedding_vectors
from embeddings.encoder import get_encoder, model_for_language, model_ids, query_threads

from .models import LANGUAGES, KnownProblem
from .texts import status_label

# Per model (bench/known_problem_threshold.py: outage questions without their error code
# against the demo gold and gap questions). all-MiniLM-L6-v2: 0.6, chosen in-sample (6 of 17
# missed, 7 of 227 false); the split there also picks 0.6 on its tune half (test half: 4 of
# 8 missed, 5 of 113 false). multilingual-e5-small-q4 (nl, fr, every other language): its
# cosines sit higher (unrelated questions 0.77-0.94), 0.88 chosen on the tune half; test
# half: 4 of 8 missed, 5 of 113 false, as MiniLM's.
DEFAULT_THRESHOLD = 0.6
THRESHOLD_E5 = 0.88
DEFAULT_THRESHOLDS = {
    "all-MiniLM-L6-v2": DEFAULT_THRESHOLD,
    "multilingual-e5-small-q4": THRESHOLD_E5,
}
ERROR_CODE = re.compile(r"\b([A-Z]{1,4})[- ]?(\d{2,5})\b", re.IGNORECASE)


@dataclass
class Match:
    problem: KnownProblem
    score: float
    matched_by: str  # "meaning", "code" or "service"


def threshold(model_id=None):
    """The cosine a problem's best row must reach, for the model that compares: the
    KB_KNOWN_PROBLEM_THRESHOLD setting (a number for every model, or {model id: number,
    "default": number}), else the measured default of that model."""
    model_id = model_id or matching_encoder().model_id
    value = getattr(settings, "KB_KNOWN_PROBLEM_THRESHOLD", None)
    if isinstance(value, dict):
        value = value.get(model_id, value.get("default"))
    if value is None:
        value = DEFAULT_THRESHOLDS.get(model_id, DEFAULT_THRESHOLD)
    return float(value)


def matching_encoder(model_id=None):
    """The model that compares a question with the problems: the one that served the search
    (its query vector is cached), else KB_KNOWN_PROBLEM_MODEL, else the one serving English."""
    if model_id not in model_ids():
        model_id = getattr(settings, "KB_KNOWN_PROBLEM_MODEL", "") or model_for_language("en")
    return get_encoder(model_id)


def error_codes(text):
    return {f"{a.upper()}{b}" for a, b in ERROR_CODE.findall(text or "")}


def problem_texts(problem):
    rows = []
    for code in LANGUAGES:
        title = getattr(problem, f"title_{code}")
        text = getattr(problem, f"customer_text_{code}")
        if title:
            rows.append(title)
        if title and text:
            rows.append(f"{title}. {text}")
        elif text:
            rows.append(text)
    return rows


class _ProblemMatrix:
    """Vectors of the active problems' texts, rebuilt when any of them changed."""

    def __init__(self):
        self.lock = threading.Lock()
        self.signature = None
        self.owners = np.zeros(0, dtype="int64")  # problem id per row
        self.vectors = None
        self.codes = {}

    def refresh(self, problems, encoder):
        signature = (encoder.model_id, tuple((p.pk, p.updated_at) for p in problems))
        if signature == self.signature:
            return
        owners, texts, codes = [], [], {}
        for problem in problems:
            rows = problem_texts(problem)
            owners += [problem.pk] * len(rows)
            texts += rows
            codes[problem.pk] = error_codes(" ".join(rows))
        with query_threads():
            vectors = encoder.encode_passages(texts)
        with self.lock:
            self.owners, self.vectors, self.codes = np.array(owners, "int64"), vectors, codes
            self.signature = signature

    def query_vector(self, encoder, query):
        # The process-wide query cache the search itself fills: when the search just encoded
        # this query with the same model (every English query), it is not encoded again.
        return embedding_vectors.query_vector(query, encoder.model_id)

    def scores(self, encoder, query):
        """{problem id: best cosine over its rows}."""
        if self.vectors is None or not len(self.owners):
            return {}
        sims = self.vectors @ self.query_vector(encoder, query)
        best = {}
        for owner, sim in zip(self.owners.tolist(), sims.tolist(), strict=True):
            if sim > best.get(owner, -1.0):
                best[owner] = sim
        return best


_SIGNATURE_STATEMENT = "_kb_active_problems_signature"  # kept on the connection wrapper


class _ActiveProblems:
    """The active problems with their services, kept per process and read again only when the
    active set changed: each search asks for a light signature (one narrow query, no model
    objects) instead of loading every problem and its services (two queries and the model
    objects, ~1-2 ms of CPU per search request, bench/request_cpu.py).

    The signature has one row per (active problem, affected service): the problem's fields
    that matter here and the service's id, slug and name (the m2m table and the service row,
    two joins). So a service linked or unlinked without saving the problem's row counts at
    once, whatever the path: `save(update_fields=["services"])`, the service's side
    (`service.known_problems.add`), the through table, a deleted service (its rows go); and
    so does a service renamed (slug, name) by `save()` or by `Service.objects.update()`
    (admin actions, data migrations, a shell, another process), which sends no signal."""

    FIELDS = ("pk", "updated_at", "status", "is_public", "postcodes")

    def __init__(self):
        self.lock = threading.Lock()
        self.signature = None
        self.problems = []

    @classmethod
    def _signature_rows(cls):
        rows = KnownProblem.objects.active().order_by("pk", "services")
        return rows.values_list(*cls.FIELDS, "services", "services__slug", "services__name")

    @classmethod
    def current_signature(cls):
        """One query, rows (problem fields..., linked service id). Its SQL is written once per
        connection (dbutils/prepared.py, as the search's statements): Django's compile was
        ~9/10 of the call (bench/active_problem_signature.py)."""
        statement = kept(
            KnownProblem.objects.db,
            _SIGNATURE_STATEMENT,
            "all",
            lambda: PreparedStatement.from_queryset(cls._signature_rows(), ()),
        )
        rows = cls._signature_rows() if statement is None else statement.rows(())
        return tuple(tuple(row) for row in rows)

    def get(self):
        signature = self.current_signature()
        with self.lock:
            if signature == self.signature:
                return self.problems
        problems = list(KnownProblem.objects.active().prefetch_related("services").order_by("pk"))
        with self.lock:
            # The signature read before the problems: a change in between leaves it older
            # than what was loaded, so the next search loads again (never the reverse).
            self.problems, self.signature = problems, signature
        return problems

    def clear(self):
        with self.lock:
            self.signature, self.problems = None, []


_active = _ActiveProblems()
_matrices = {}  # model id -> _ProblemMatrix
_matrices_lock = threading.Lock()


def _matrix_for(model_id):
    with _matrices_lock:
        return _matrices.setdefault(model_id, _ProblemMatrix())


def forget():
    """Drop the cached vectors (tests, or after the embedding model changed)."""
    with _matrices_lock:
        _matrices.clear()
    _active.clear()


def _in_postcode(problem, postcode):
    ranges = problem.postcode_ranges()
    if not ranges or not postcode:
        return True
    try:
        number = int(postcode)
    except (TypeError, ValueError):
        return True
    return any(low <= number <= high for low, high in ranges)


def matching_problems(
    query, *, channel="public", service=None, postcode=None, limit=3, model_id=None
):
    """Active known problems the (cleaned) query is about, best first, that the channel may see.

    `channel` "operator" sees internal problems too; `service` (a slug, any language) adds
    every active problem affecting that service. `model_id`: the model that served the
    search (its cached query vector is reused); by default KB_KNOWN_PROBLEM_MODEL or the
    English one."""
    # The matrix holds every active problem, whatever the channel: built per channel, public
    # and operator searches took turns re-encoding it (load test, py-spy: with e5 passages
    # that was 46 % of the workers' request time); what the channel may see is applied here.
    active = _active.get()
    problems = [p for p in active if p.is_visible_to(channel)]  # no second query
    if not problems:
        return []
    encoder = matching_encoder(model_id)
    matrix = _matrix_for(encoder.model_id)
    matrix.refresh(active, encoder)
    scores = matrix.scores(encoder, query)
    codes = error_codes(query)
    cutoff = threshold(encoder.model_id)
    found = []
    for problem in problems:
        score = scores.get(problem.pk, 0.0)
        if codes and codes & matrix.codes.get(problem.pk, set()):
            found.append(Match(problem, max(score, 1.0), "code"))
        elif score >= cutoff:
            found.append(Match(problem, score, "meaning"))
        elif service and any(s.slug == service for s in problem.services.all()):
            found.append(Match(problem, score, "service"))
    found = [m for m in found if _in_postcode(m.problem, postcode)]
    found.sort(key=lambda m: m.score, reverse=True)
    return found[:limit]


def problem_summary(problem, language, score=None, matched_by=None):
    """The JSON shape the search APIs and the integration API share."""
    data = {
        "id": problem.pk,
        "title": problem.title_in(language),
        "status": problem.status,
        "status_label": status_label(problem.status, language),
        "started_at": problem.started_at.isoformat(),
        "public": problem.is_public,
        "services": [
            {"slug": s.slug, "name": s.name} for s in services_in_language(problem, language)
        ],
        "customer_text": problem.customer_text_in(language),
        "workaround": problem.workaround_in(language),
    }
    if score is not None:
        data["score"] = round(float(score), 4)
        data["matched_by"] = matched_by
    return data


def services_in_language(problem, language):
    """One entry per affected service, named in the caller's language when it exists there."""

    chosen = list(problem.services.all())
    keys = {s.translation_key for s in chosen}
    local = {
        s.translation_key: s
        for s in Service.objects.filter(translation_key__in=keys, locale__language_code=language)
    }
    seen, result = set(), []
    for service in chosen:
        if service.translation_key in seen:
            continue
        seen.add(service.translation_key)
        result.append(local.get(service.translation_key, service))
    return sorted(result, key=lambda s: s.name)


def known_problems_for_search(
    query, *, channel, language, service=None, postcode=None, model_id=None
):
    """`known_problems` of a search response: list of dicts, best match first. `model_id`:
    the model that served the search, so its cached query vector is reused."""
    return [
        problem_summary(m.problem, language, m.score, m.matched_by)
        for m in matching_problems(
            query, channel=channel, service=service, postcode=postcode, model_id=model_id
        )
    ]
