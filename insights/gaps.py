"""Knowledge gaps: unresolved demand, embedded and clustered into topics ranked by volume.

Unresolved demand is what people asked that the knowledge base did not answer:

* searches flagged ``no_good_match`` (operator console, API, public search),
* operator outcomes "no article found" (their query, or the note when there is none),
* "not helpful" article feedback that came with a comment,
* searches that a contact request followed (self-service did not work).

Each distinct (normalised, already redacted) text is embedded once per model and cached in
``QueryVector``. Items that an article published *after* them now answers are dropped, so a
topic disappears on the next run once an article for it is live: "answers" by the search's
own rule (that article is the first result and the search no longer flags the question as
no good match); a cosine pass in the search's own model only picks which items the search
confirms. The rest are clustered with library code: scikit-learn's average-linkage
agglomerative clustering on cosine distance, after a FAISS k-means pre-clustering into
micro-clusters when there are too many distinct texts for a full distance matrix. See docs/reports.md for the measurements.
"""

import datetime
import hashlib
import logging
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from articles.models import Service, SolutionArticlePage
from embeddings import calibration
from embeddings.encoder import comparison_model_id, get_encoder, model_for_language
from embeddings.models import Chunk
from embeddings.vectors import remember_query_vector
from textutils import redaction
from textutils.language import question_language

from .models import (
    CALL_LANGUAGE,
    ArticleFeedback,
    CallOutcome,
    QueryVector,
    SearchEvent,
    demand_language,
    demand_language_sql,
)

logger = logging.getLogger("kb.gaps")

KIND_SEARCH = "no_good_match"
KIND_NO_ARTICLE = "no_article"
KIND_NOT_HELPFUL = "not_helpful"
KIND_CONTACT = "contact"
KIND_LABELS = {
    KIND_SEARCH: "no good match",
    KIND_NO_ARTICLE: "no article (call)",
    KIND_NOT_HELPFUL: "not helpful",
    KIND_CONTACT: "before contact",
}
# Cosine distance at which two groups of queries stop being one topic (average linkage), per
# comparison model (each has its own similarity scale). e5: the smallest threshold at which
# the demo's problems asked in three languages become one topic each (>= 70 % of the
# cross-language pairs) without merging two problems; banking77 shows the cost
# (bench/gap_threshold.py, docs/reports.md).
DISTANCE_THRESHOLDS = {"all-MiniLM-L6-v2": 0.45, "multilingual-e5-small-q4": 0.14}
DEFAULT_DISTANCE_THRESHOLD = DISTANCE_THRESHOLDS["all-MiniLM-L6-v2"]


def default_distance_threshold(model_id):
    return DISTANCE_THRESHOLDS.get(model_id, DEFAULT_DISTANCE_THRESHOLD)


# Up to this many distinct texts are clustered directly; beyond, k-means micro-clusters first.
DIRECT_LIMIT = 3000
# Micro-centroids sit closer together than their members, so the agglomerative step on them
# uses a tighter threshold: 2/3 of it gave the same agreement with the banking77 intents as
# clustering the messages directly (ARI 0.497 vs 0.484, docs/reports.md).
MICRO_THRESHOLD_FACTOR = 2 / 3
# A search that the same person refined within this time is not a separate request.
REFINEMENT_WINDOW = datetime.timedelta(seconds=90)
CHUNK_TOP_K = 20
_EDGE_PUNCTUATION = re.compile(r"^[\W_]+|[\W_]+$", re.UNICODE)


class GapsError(ValueError):
    """Bad arguments for the gap report; the message is meant for the person who asked."""


@dataclass
class GapItem:
    kind: str
    text: str
    channel: str
    locale: str  # the content locale the caller chose (the page, the console's language)
    created_at: datetime.datetime
    key: str = ""  # normalised text
    # The language the question is written in as its search detected it (stored with the
    # search since session 12); blank for feedback and older searches: detected here.
    question_language: str = ""
    # The language the item counts in (topics' languages): insights.models.demand_language.
    language: str = ""

    def spoken_language(self):
        """The question's language, as the search decided it: stored, else detected now."""
        return self.question_language or question_language(" ".join(self.text.split()), self.locale)


@dataclass
class GapTopic:
    key: str
    label: str
    volume: int
    distinct_queries: int
    examples: list
    channels: dict
    languages: dict
    kinds: dict
    main_locale: str
    daily: list  # [(date, count)] over the whole period, zeros included
    weekly: list  # [(monday, count)]
    first_seen: datetime.datetime
    last_seen: datetime.datetime
    change: float  # second half of the period vs first half: +1.0 = doubled
    closest_article: dict | None = None
    similarity: float = 0.0
    merged_languages: bool = False
    examples_by_language: dict = field(default_factory=dict)  # {locale: [examples]}

    @property
    def draft_phrasings(self):
        """The phrasings a draft article starts from: those in the topic's main language."""
        return self.examples_by_language.get(self.main_locale) or self.examples

    def as_dict(self):
        return {
            "label": self.label,
            "volume": self.volume,
            "distinct_queries": self.distinct_queries,
            "examples": self.examples,
            "channels": self.channels,
            "languages": self.languages,
            "examples_by_language": self.examples_by_language,
            "kinds": self.kinds,
            "main_locale": self.main_locale,
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
            "change": self.change,
            "daily": [[d.isoformat(), n] for d, n in self.daily],
            "closest_article": self.closest_article,
            "similarity": self.similarity,
        }


@dataclass
class GapReport:
    since: datetime.datetime
    until: datetime.datetime
    topics: list = field(default_factory=list)
    items: int = 0  # unresolved items in the period, after filters
    answered_since: int = 0  # dropped: a newer article now answers them
    distinct_texts: int = 0
    unclustered: int = 0  # items in topics below min_volume
    encoded: int = 0  # texts that had to be embedded in this run
    timings: dict = field(default_factory=dict)
    model_id: str = ""
    # "answered since" work: the pass's candidates, the searches that confirmed them, and
    # the texts embedded for the pass in the search's model
    rescore: dict = field(default_factory=dict)

    def as_dict(self):
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "items": self.items,
            "answered_since": self.answered_since,
            "distinct_texts": self.distinct_texts,
            "unclustered": self.unclustered,
            "model": self.model_id,
            "topics": [t.as_dict() for t in self.topics],
        }


def normalise(text):
    """The dedupe key: case-folded, single spaces, no punctuation at the ends."""
    return _EDGE_PUNCTUATION.sub("", " ".join(str(text or "").casefold().split()))


def text_hash(key):
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


# --- collecting unresolved demand ---------------------------------------------------------


# The placeholders redaction puts where personal data was (textutils/redaction.py), as they
# read in a normalised text: case-folded, and the edge punctuation cut ("[" of a text that
# starts with one, "]" of a text that ends with one).
_REDACTED = re.compile(
    r"(?:\A|\[)(?:"
    + "|".join(
        re.escape(token.strip("[]").casefold())
        for token in (
            redaction.EMAIL,
            redaction.PHONE,
            redaction.IBAN,
            redaction.NATIONAL_NUMBER,
            redaction.VAT,
            redaction.CARD,
            redaction.CUSTOMER_NUMBER,
            redaction.IP,
        )
    )
    + r")(?:\]|\Z)"
)


def _partly_typed_datum(tail):
    """Whether a prefix's tail can be the start of what redaction replaced in the longer
    search: one run without spaces ("cust", "jan.peeters@exa"), or groups of which all but
    the first hold a digit ("0475 12 3", "be68 5390")."""
    words = tail.split()
    return bool(words) and "[" not in tail and all(any(c.isdigit() for c in w) for w in words[1:])


def refines(text, next_text):
    """Whether the normalised search `next_text` refines `text` (search-as-you-type): it
    extends it, or differs from it only where redaction replaced the personal data `text`
    was still typing ("call cust" -> "call [customer_number] about my modem": the number,
    once complete, became a placeholder; "mail [email" twice: the complete address and one
    already long enough to be redacted)."""
    if next_text.startswith(text):
        return next_text != text or bool(_REDACTED.search(text))
    same = 0
    for a, b in zip(text, next_text, strict=False):
        if a != b:
            break
        same += 1
    # A placeholder that covers the first difference: what `text` has from its start on was
    # the personal data still being typed.
    return any(
        m.start() <= same < m.end() and _partly_typed_datum(text[m.start() :])
        for m in _REDACTED.finditer(next_text)
    )


def _refined(rows):
    """Ids of searches the same person refined shortly after (console search-as-you-type)."""
    by_actor = defaultdict(list)
    for pk, user_id, session_key, created_at, query in rows:
        actor = (user_id, session_key) if (user_id or session_key) else None
        if actor is not None:
            by_actor[actor].append((created_at, pk, normalise(query)))
    refined = set()
    for searches in by_actor.values():
        searches.sort()
        for (at, pk, text), (next_at, _next_pk, next_text) in zip(
            searches, searches[1:], strict=False
        ):
            if next_at - at <= REFINEMENT_WINDOW and refines(text, next_text):
                refined.add(pk)
    return refined


def collect_items(since, until, *, channel=None, locale=None):
    """The unresolved demand of a period as GapItems (texts are stored redacted already)."""
    searches = SearchEvent.objects.filter(created_at__gte=since, created_at__lt=until)
    if channel:
        searches = searches.filter(channel=channel)
    # Refinement is judged against every search of the period, answered or not, in any
    # language (a short prefix in the stated language, the whole question in another).
    refined = _refined(
        searches.values_list("pk", "user_id", "session_key", "created_at", "query").iterator(
            chunk_size=5000
        )
    )
    if locale:
        # The language the question was asked in (insights.models.demand_language).
        searches = searches.alias(demand_language=demand_language_sql()).filter(
            demand_language=locale
        )
    outcomes = CallOutcome.objects.filter(
        outcome=CallOutcome.NO_ARTICLE, created_at__gte=since, created_at__lt=until
    )
    if channel:
        with_channel = Q(search_event__channel=channel)
        if channel == SearchEvent.CHANNEL_OPERATOR:
            with_channel |= Q(search_event__isnull=True)  # recorded without a search
        outcomes = outcomes.filter(with_channel)
    outcomes = outcomes.annotate(language=demand_language_sql(**CALL_LANGUAGE))
    if locale:
        outcomes = outcomes.filter(language=locale)
    items, represented = [], set()
    for row in outcomes.values_list(
        "search_event_id",
        "query",
        "note",
        "locale",
        "created_at",
        "search_event__channel",
        "search_event__query",
        "search_event__question_language",
        "language",
    ):
        event_id, query, note, item_locale, created_at, event_channel = row[:6]
        search_query, spoken, language = row[6:]
        text = query.strip() or note.strip()
        if not text:
            continue
        represented.add(event_id)
        item = GapItem(
            KIND_NO_ARTICLE, text, event_channel or "operator", item_locale or "en", created_at
        )
        # The search's detection holds for the text it was made on.
        if spoken and text == (search_query or "").strip():
            item.question_language = spoken
        item.language = language or item.locale
        items.append(item)
    before_contact = searches.filter(contact_requests__isnull=False).values("pk")
    contact_ids = set(before_contact.values_list("pk", flat=True))
    unresolved = searches.filter(Q(no_good_match=True) | Q(pk__in=before_contact))
    for pk, query, event_channel, item_locale, created_at, ngm, spoken in unresolved.values_list(
        "pk", "query", "channel", "locale", "created_at", "no_good_match", "question_language"
    ).iterator(chunk_size=5000):
        if pk in represented or (pk in refined and pk not in contact_ids):
            continue
        kind = KIND_SEARCH if ngm else KIND_CONTACT
        items.append(
            GapItem(
                kind,
                query,
                event_channel,
                item_locale,
                created_at,
                question_language=spoken,
                language=demand_language(spoken, item_locale),
            )
        )
    if channel in (None, SearchEvent.CHANNEL_PUBLIC):
        feedback = ArticleFeedback.objects.filter(
            helpful=False, created_at__gte=since, created_at__lt=until
        ).exclude(comment="")
        if locale:
            feedback = feedback.filter(locale=locale)
        for comment, item_locale, created_at in feedback.values_list(
            "comment", "locale", "created_at"
        ):
            items.append(
                GapItem(
                    KIND_NOT_HELPFUL,
                    comment,
                    SearchEvent.CHANNEL_PUBLIC,
                    item_locale,
                    created_at,
                    language=item_locale,  # a comment on a page: the page's language
                )
            )
    for item in items:
        item.key = normalise(item.text)
    return [item for item in items if item.key]


# --- embedding with a cache -----------------------------------------------------------------


def _lowercases(encoder):
    return bool(getattr(encoder, "lowercases", False))


def remember_search_vector(query, redacted_query, vector, encoder):
    """Keep the vector a search has just computed, so the gap report never encodes it again.

    Called when a no-good-match search is logged: it costs one insert, no encoding. Only when
    redaction left the query unchanged (no vector of personal data is stored) and the query is
    its own dedupe key — exactly, or up to case for a model that lowercases its input — so the
    stored vector is the one `embed_texts` would compute. Never raises."""
    try:
        key = normalise(redacted_query)
        if not key or redacted_query != query:
            return False
        text = " ".join(query.split())
        if text != key and not (_lowercases(encoder) and text.casefold() == key):
            return False
        QueryVector.objects.bulk_create(
            [
                QueryVector(
                    model_id=encoder.model_id,
                    text_hash=text_hash(key),
                    vector=Chunk.encode_vector(vector),
                )
            ],
            ignore_conflicts=True,
        )
        return True
    except Exception:
        logger.exception("could not keep a query vector for the gap report")
        return False


def embed_texts(keys, encoder=None, batch=2000):
    """{key: vector} for normalised texts; only texts never seen with this model are encoded.

    Returns (vectors in the order of `keys`, number encoded now)."""
    encoder = encoder or get_encoder(comparison_model_id())
    hashes = [text_hash(k) for k in keys]
    found = {}
    for start in range(0, len(hashes), batch):
        part = hashes[start : start + batch]
        for h, blob in QueryVector.objects.filter(
            model_id=encoder.model_id, text_hash__in=part
        ).values_list("text_hash", "vector"):
            found[h] = Chunk.decode(blob)
    missing = [i for i, h in enumerate(hashes) if h not in found]
    for start in range(0, len(missing), batch):
        part = missing[start : start + batch]
        # Unresolved demand is what people asked: encoded the way a search encodes a query.
        vectors = encoder.encode_queries([keys[i] for i in part])
        rows = []
        for i, vector in zip(part, vectors, strict=True):
            found[hashes[i]] = vector
            rows.append(
                QueryVector(
                    model_id=encoder.model_id,
                    text_hash=hashes[i],
                    vector=Chunk.encode_vector(vector),
                )
            )
        QueryVector.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    if not keys:
        return np.zeros((0, encoder.dimension), "float32"), 0
    return np.vstack([found[h] for h in hashes]).astype("float32"), len(missing)


# --- clustering -------------------------------------------------------------------------------


def cluster_vectors(vectors, weights=None, distance_threshold=None, seed=0):
    """Cluster ids for L2-normalised rows (average linkage on cosine distance).

    Beyond DIRECT_LIMIT rows, FAISS k-means first groups them into micro-clusters (about ten
    texts each) and the agglomerative step runs on the normalised micro-centroids."""
    # scikit-learn takes about a second to import: only the gap report needs it.
    if distance_threshold is None:  # vectors of the comparison model, the report's space
        distance_threshold = default_distance_threshold(comparison_model_id())
    from sklearn.cluster import AgglomerativeClustering

    n = len(vectors)
    if n == 0:
        return np.zeros(0, "int64")
    if n == 1:
        return np.zeros(1, "int64")

    def agglomerate(x, threshold):
        if len(x) < 2:
            return np.zeros(len(x), "int64")
        model = AgglomerativeClustering(
            n_clusters=None,
            metric="cosine",
            linkage="average",
            distance_threshold=threshold,
        )
        return model.fit_predict(x)

    if n <= DIRECT_LIMIT:
        return agglomerate(vectors, distance_threshold)
    import faiss  # loaded with the first report, not with every web worker

    k = min(DIRECT_LIMIT, max(2, n // 10))
    kmeans = faiss.Kmeans(
        vectors.shape[1],
        k,
        niter=12,
        seed=seed,
        spherical=True,
        min_points_per_centroid=1,
        max_points_per_centroid=64,
    )
    w = None if weights is None else np.asarray(weights, dtype="float32")
    kmeans.train(np.ascontiguousarray(vectors), weights=w)
    _dist, micro = kmeans.index.search(np.ascontiguousarray(vectors), 1)
    micro = micro[:, 0]
    used = np.unique(micro)
    centroids = kmeans.centroids[used]
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True) + 1e-12
    top = agglomerate(centroids, distance_threshold * MICRO_THRESHOLD_FACTOR)
    remap = np.zeros(k, "int64")
    remap[used] = top
    return remap[micro]


# --- the live articles, for re-scoring and "closest article" -----------------------------


class _LiveChunks:
    """The chunk vectors of live articles, searchable with FAISS (inner product = cosine)."""

    def __init__(self, model_id, dimension):
        import faiss  # loaded with the first report, not with every web worker

        self.model_id = model_id
        rows = list(
            Chunk.objects.filter(model_id=model_id, page__live=True).values_list(
                "page_id", "vector", "visibility"
            )
        )
        self.page_ids = np.array([r[0] for r in rows], "int64")
        self.public = np.array([r[2] == Chunk.VISIBILITY_PUBLIC for r in rows], bool)
        self.index = faiss.IndexFlatIP(dimension)
        if rows:
            self.index.add(Chunk.decode_many((r[1] for r in rows), dimension))
        pages = SolutionArticlePage.objects.filter(pk__in=set(self.page_ids.tolist())).values_list(
            "pk", "title", "translation_key", "locale__language_code", "last_published_at"
        )
        self.pages = {
            pk: {"id": pk, "title": t, "translation_key": k, "locale": loc, "published": pub}
            for pk, t, k, loc, pub in pages
        }

    def search(self, vectors, k=CHUNK_TOP_K):
        if not len(self.page_ids) or not len(vectors):
            return np.zeros((len(vectors), 0), "float32"), np.zeros((len(vectors), 0), "int64")
        return self.index.search(np.ascontiguousarray(vectors), min(k, len(self.page_ids)))


# --- "answered since": the search's own rule ------------------------------------------------
#
# A past question counts as answered when an article published after it would now be its
# first result AND the search would no longer flag it (its confidence passes the no-good-
# match threshold): the search's rule (search/service.py: hybrid ranking, e5's best-3 blend,
# best version across languages, learned phrasings weighted), not a raw chunk cosine. The
# search layer sits above insights (pyproject.toml, import-linter layers), so it registers
# that rule here when the apps load (search/apps.py -> search/gap_answers.py).
_answer_rule = None
_answer_lift = None  # model id -> what the search adds to a cross-language match (the lift)
# A cheap pass picks the candidates the search then confirms (one search per distinct text,
# language and audience). It is a necessary condition of the search's rule, in the search's
# own space: the search's confidence is its first article's dense score, which is at most the
# best cosine of one of that article's chunks (plus KB_CROSS_LANGUAGE_LIFT) in the model the
# question's language is searched with; so an item is a candidate only when an article
# published after it has a chunk within this margin of the threshold of the question's
# language in that model (less the search's lift). The margin covers the texts whose vector
# the pass cannot take for the search's (it embeds the normalised text, cached per model;
# the search the typed one): the smallest margin of bench/gap_answered.py that missed none
# of the items the search's rule answers on the demo's tune half; the test half is reported
# there. Texts that are their own normalised key need no margin.
PREFILTER_MARGIN = 0.01
# At most this many distinct questions are confirmed by a search per report run
# (KB_GAP_ANSWERED_SEARCHES overrides it); the rest keep the raw-cosine rule.
ANSWERED_SEARCHES = 500


def register_answer_rule(rule, lift=None):
    """`rule(text, *, locale, public)` -> (translation key of the search's first result or
    None, confidence, no_good_match), or None when the search rejects the text; `lift(model
    id)`: the most the search adds to a chunk's cosine for an article (KB_CROSS_LANGUAGE_LIFT)."""
    global _answer_rule, _answer_lift
    _answer_rule, _answer_lift = rule, lift


def _has_newer_chunk(item, scores, chunks, live, threshold, latest=None):
    """Whether a chunk among `chunks` (best first) at or above `threshold` belongs to a page
    published after `item` that the item's audience may see (with `latest`, {translation
    key: last publication}: to an article one of whose versions was)."""
    for score, chunk in zip(scores, chunks, strict=True):
        if score < threshold:
            return False  # FAISS returns best first
        if chunk < 0 or (item.channel == SearchEvent.CHANNEL_PUBLIC and not live.public[chunk]):
            continue
        page = live.pages.get(int(live.page_ids[chunk]))
        if page and latest is not None:
            published = latest.get(str(page["translation_key"]))
        else:
            published = page and page["published"]
        if published and published > item.created_at:
            return True
    return False


def _newer_article_candidates(items, key_index, scores, chunk_rows, live, margin=0.0):
    """Items with a chunk of an article published after them within `margin` of the
    no-good-match threshold of their question's language (as the search detects it: a German
    question shown in English has German's bar), in the report's model (raw cosine). With
    margin 0 this is the report's rule before session 11, kept for the questions over
    KB_GAP_ANSWERED_SEARCHES and for when no search rule is registered."""
    answered = np.zeros(len(items), bool)
    for i, item in enumerate(items):
        row = key_index[item.key]
        language = item.spoken_language()
        threshold = calibration.no_good_match_threshold(language, live.model_id) - margin
        answered[i] = _has_newer_chunk(item, scores[row], chunk_rows[row], live, threshold)
    return answered


def _search_space_candidates(items, report_live, latest, margin=PREFILTER_MARGIN):
    """Items with a chunk of an article published after them within `margin` of the
    no-good-match threshold in the model and language the search would use for them.

    When the vector the pass has for an item is the one the search computes for its text
    (the text is its normalised key, up to case for a model that lowercases), the pass is
    exact: the margin is only the search's lift for the model.

    Returns (the mask, {item index: (encoder, its vector there, exact)} for the candidates,
    texts embedded now: each model's vectors are cached in QueryVector)."""
    by_model = defaultdict(list)
    for i, item in enumerate(items):
        language = item.spoken_language()
        by_model[model_for_language(language)].append((i, language))
    candidates, encoded, vector_of = np.zeros(len(items), bool), 0, {}
    for model_id, members in by_model.items():
        encoder = get_encoder(model_id)
        keys = sorted({items[i].key for i, _language in members})
        vectors, now = embed_texts(keys, encoder)
        encoded += now
        key_index = {k: n for n, k in enumerate(keys)}
        live = report_live if model_id == report_live.model_id else None
        live = live or _LiveChunks(model_id, encoder.dimension)
        scores, chunk_rows = live.search(vectors)
        lift = float(_answer_lift(model_id)) if _answer_lift else 0.0
        for i, language in members:
            item, row = items[i], key_index[items[i].key]
            text = " ".join(item.text.split())
            exact = text == item.key or (_lowercases(encoder) and text.casefold() == item.key)
            threshold = calibration.no_good_match_threshold(language, model_id)
            threshold -= lift if exact else max(margin, lift)
            candidates[i] = _has_newer_chunk(
                item, scores[row], chunk_rows[row], live, threshold, latest
            )
            if candidates[i]:
                vector_of[i] = (encoder, vectors[row], exact)
    return candidates, vector_of, encoded


def _last_published_by_article(live):
    """{translation key: latest publication of any of its live versions}."""
    latest = {}
    for page in live.pages.values():
        key, published = str(page["translation_key"]), page["published"]
        if published and (key not in latest or published > latest[key]):
            latest[key] = published
    return latest


def _answered_mask(items, key_index, scores, chunk_rows, live, rule=None, stats=None):
    """Items that an article published after them now answers by the search's rule: that
    article (any of its language versions) is the search's first result and the search no
    longer flags the question as no good match.

    Only the candidates of the search-space pass are searched, each distinct (text,
    language, audience) once. Without a registered rule (the search app not loaded) the
    raw-cosine rule of the report's model decides, as before session 11."""
    rule = rule or _answer_rule
    if rule is None:
        logger.warning("no search rule registered: 'answered since' uses the raw cosine")
        return _newer_article_candidates(items, key_index, scores, chunk_rows, live)
    latest = _last_published_by_article(live)
    candidates, vector_of, encoded = _search_space_candidates(items, live, latest)
    answers = {}
    answered = np.zeros(len(items), bool)
    # One search per distinct question, the most asked first, at most KB_GAP_ANSWERED_SEARCHES
    # of them (each is a whole search, ~10-20 ms: after a large backlog the report would
    # otherwise take minutes); the questions over the cap keep the raw-cosine rule.
    questions = {}
    for i in np.flatnonzero(candidates):
        item = items[i]
        public = item.channel == SearchEvent.CHANNEL_PUBLIC
        questions.setdefault((" ".join(item.text.split()), item.locale, public), []).append(i)
    cap = int(getattr(settings, "KB_GAP_ANSWERED_SEARCHES", ANSWERED_SEARCHES))
    ordered = sorted(questions.items(), key=lambda q: -len(q[1]))
    over_cap = [i for _question, members in ordered[cap:] for i in members]
    if over_cap:
        raw = _newer_article_candidates(
            [items[i] for i in over_cap], key_index, scores, chunk_rows, live
        )
        answered[over_cap] = raw
    for question, members in ordered[:cap]:
        for i in members:
            item = items[i]
            public = question[2]
            if question not in answers:
                encoder, vector, exact = vector_of[i]
                text = question[0]
                if exact:
                    # The vector the search would compute for this text: not encoded twice.
                    remember_query_vector(text, encoder.model_id, vector)
                answers[question] = rule(text, locale=item.locale, public=public)
            answer = answers[question]
            if answer is None:
                continue
            key, _confidence, no_good_match = answer
            published = latest.get(str(key)) if key else None
            answered[i] = bool(not no_good_match and published and published > item.created_at)
    if stats is not None:
        stats.update(
            candidates=int(candidates.sum()),
            searches=len(answers),
            encoded=encoded,
            over_cap=len(ordered) - min(cap, len(ordered)),
        )
    return answered


def _closest_article(vector, live, main_locale, public_only):
    scores, rows = live.search(vector.reshape(1, -1), k=CHUNK_TOP_K)
    best = None
    for score, chunk in zip(scores[0], rows[0], strict=True):
        if chunk < 0 or (public_only and not live.public[chunk]):
            continue
        page = live.pages.get(int(live.page_ids[chunk]))
        if page is not None:
            best = (page, float(score))
            break
    if best is None:
        return None, 0.0
    page, score = best
    # Show the version in the topic's language when there is one.
    for other in live.pages.values():
        if other["translation_key"] == page["translation_key"] and other["locale"] == main_locale:
            page = other
            break
    return (
        {
            "id": page["id"],
            "title": page["title"],
            "locale": page["locale"],
            "translation_key": str(page["translation_key"]),
        },
        round(score, 4),
    )


# --- topics --------------------------------------------------------------------------------


def _daily(dates, since, until):
    counts = Counter(dates)
    day = timezone.localtime(since).date()
    last, out = timezone.localtime(until - datetime.timedelta(microseconds=1)).date(), []
    while day <= last:
        out.append((day, counts.get(day, 0)))
        day += datetime.timedelta(days=1)
    return out


def _weekly(daily):
    weeks = Counter()
    for day, n in daily:
        weeks[day - datetime.timedelta(days=day.weekday())] += n
    return sorted(weeks.items())


def _build_topic(members, vectors, key_index, since, until, live, examples_per_topic):
    keys = Counter(item.key for item in members)
    rows = [key_index[k] for k in keys]
    weights = np.array([keys[k] for k in keys], "float32")
    block = vectors[rows]
    centroid = (block * weights[:, None]).sum(axis=0)
    centroid /= np.linalg.norm(centroid) + 1e-12
    centrality = block @ centroid
    ordered = sorted(
        zip(keys, centrality.tolist(), strict=True), key=lambda kc: (-keys[kc[0]], -kc[1])
    )
    # Show each distinct text in its original spelling (the most frequent one).
    spelling = {}
    for item in members:
        spelling.setdefault(item.key, Counter())[item.text] += 1
    languages = Counter(item.language or item.locale for item in members)
    main_locale = languages.most_common(1)[0][0]
    # One problem asked in several languages is one topic: examples per language, and the
    # label and the draft's phrasings in the language most people asked in.
    locale_of = {}
    for item in members:
        locale_of.setdefault(item.key, Counter())[item.language or item.locale] += 1
    by_language = {}
    for key, _c in ordered:
        language = locale_of[key].most_common(1)[0][0]
        by_language.setdefault(language, []).append(key)
    in_main = [kc for kc in ordered if kc[0] in set(by_language.get(main_locale, []))] or ordered
    # The label: the most central of the most frequent texts (a rare typo is never the label).
    medoid = max(in_main[:3], key=lambda kc: kc[1])[0]
    label = spelling[medoid].most_common(1)[0][0]
    tz = timezone.get_current_timezone()
    daily = _daily([timezone.localtime(i.created_at, tz).date() for i in members], since, until)
    half = len(daily) // 2
    first, second = sum(n for _d, n in daily[:half]), sum(n for _d, n in daily[half:])
    only_public = all(item.channel == SearchEvent.CHANNEL_PUBLIC for item in members)
    article, similarity = _closest_article(
        vectors[key_index[medoid]], live, main_locale, public_only=only_public
    )
    return GapTopic(
        key=text_hash(medoid)[:16],
        label=label,
        volume=len(members),
        distinct_queries=len(keys),
        examples=[spelling[k].most_common(1)[0][0] for k, _c in ordered[:examples_per_topic]],
        examples_by_language={
            language: [spelling[k].most_common(1)[0][0] for k in keys_[:examples_per_topic]]
            for language, keys_ in sorted(
                by_language.items(), key=lambda lk: -languages.get(lk[0], 0)
            )
        },
        channels=dict(Counter(item.channel for item in members).most_common()),
        languages=dict(languages.most_common()),
        kinds=dict(Counter(item.kind for item in members).most_common()),
        main_locale=main_locale,
        daily=daily,
        weekly=_weekly(daily),
        first_seen=min(item.created_at for item in members),
        last_seen=max(item.created_at for item in members),
        change=round((second - first) / max(first, 1), 2),
        closest_article=article,
        similarity=similarity,
    )


def period(days=30, since=None, until=None):
    """(since, until) datetimes for a report period; raises GapsError on nonsense."""
    until = until or timezone.now()
    if since is None:
        if days is None or int(days) < 1 or int(days) > 3660:
            raise GapsError("The period must be between 1 and 3660 days.")
        since = until - datetime.timedelta(days=int(days))
    if since >= until:
        raise GapsError("The start of the period must be before its end.")
    return since, until


def knowledge_gaps(
    days=30,
    *,
    since=None,
    until=None,
    channel=None,
    locale=None,
    service=None,
    service_key=None,
    min_volume=2,
    max_topics=50,
    examples_per_topic=5,
    distance_threshold=None,
    encoder=None,
):
    """The knowledge-gap topics of a period, largest first, as a GapReport.

    `channel` (operator/public/api) and `locale` filter the demand; `service` (a service slug,
    or `service_key`, its translation key) keeps the topics whose closest article belongs to that service — unresolved demand itself
    carries no service."""
    since, until = period(days, since, until)
    if channel and channel not in dict(SearchEvent.CHANNELS):
        raise GapsError(f"Unknown channel {channel!r}: use operator, public or api.")
    if locale and locale not in dict(settings.WAGTAIL_CONTENT_LANGUAGES):
        languages = ", ".join(dict(settings.WAGTAIL_CONTENT_LANGUAGES))
        raise GapsError(f"Unknown language {locale!r}: use one of {languages}.")
    if min_volume < 1:
        raise GapsError("The minimum volume of a topic must be at least 1.")
    timings, clock = {}, time.perf_counter()
    # One space for every language, so one problem asked in three languages is one topic.
    encoder = encoder or get_encoder(comparison_model_id())
    report = GapReport(since=since, until=until, model_id=encoder.model_id)

    items = collect_items(since, until, channel=channel, locale=locale)
    timings["collect"] = time.perf_counter() - clock
    clock = time.perf_counter()
    keys = sorted({item.key for item in items})
    vectors, report.encoded = embed_texts(keys, encoder)
    key_index = {k: i for i, k in enumerate(keys)}
    timings["embed"] = time.perf_counter() - clock

    clock = time.perf_counter()
    live = _LiveChunks(encoder.model_id, encoder.dimension)
    scores, chunk_rows = live.search(vectors)
    answered = _answered_mask(items, key_index, scores, chunk_rows, live, stats=report.rescore)
    report.answered_since = int(answered.sum())
    items = [item for item, done in zip(items, answered, strict=True) if not done]
    report.items = len(items)
    timings["rescore"] = time.perf_counter() - clock

    clock = time.perf_counter()
    volume = Counter(item.key for item in items)
    open_keys = sorted(volume)
    report.distinct_texts = len(open_keys)
    rows = [key_index[k] for k in open_keys]
    labels = cluster_vectors(
        vectors[rows] if rows else vectors[:0],
        weights=[volume[k] for k in open_keys],
        distance_threshold=distance_threshold or default_distance_threshold(encoder.model_id),
    )
    cluster_of = dict(zip(open_keys, labels.tolist(), strict=True))
    timings["cluster"] = time.perf_counter() - clock

    clock = time.perf_counter()
    groups = defaultdict(list)
    for item in items:
        groups[cluster_of[item.key]].append(item)
    ranked = sorted(groups.values(), key=len, reverse=True)
    topics = []
    for members in ranked:
        if len(members) < min_volume:
            report.unclustered += len(members)
            continue
        if len(topics) >= max_topics and not (service or service_key):
            break
        topic = _build_topic(members, vectors, key_index, since, until, live, examples_per_topic)
        topics.append(topic)
    if service or service_key:
        topics = _with_service(topics, service, service_key)[:max_topics]
    report.topics = topics
    timings["topics"] = time.perf_counter() - clock
    report.timings = {k: round(v, 3) for k, v in timings.items()}
    return report


def _with_service(topics, service=None, service_key=None):
    services = Service.objects.filter(slug=service) if service else Service.objects.all()
    if service_key:
        services = services.filter(translation_key=service_key)
    keys = services.values("translation_key")
    if not keys.exists():
        raise GapsError(f"Unknown service {service or service_key!r}.")
    article_keys = {
        str(k)
        for k in SolutionArticlePage.objects.filter(services__translation_key__in=keys).values_list(
            "translation_key", flat=True
        )
    }
    return [
        t
        for t in topics
        if t.closest_article and t.closest_article["translation_key"] in article_keys
    ]
