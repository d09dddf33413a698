"""Early warning: unresolved searches and calls about one topic rising well above their usual
rate for the hour raise an `incidents.EarlyWarning`.

Unresolved here: searches without a good match (not the prefixes the console logs while an
operator types), calls closed as "no article found" or "escalated" (counted once with the
search they came from), "still need help" contacts after a search that found an article
(worded as that search). Calls linked to a known problem are not unresolved.

How a rise is found, every run of the `early_warning` job (search/jobs.py):

1. The unresolved requests of the longest window (20 minutes) are grouped into topics by
   meaning, with the gap report's clustering (insights/gaps.py) in the comparison model's
   space, so one problem asked in three languages is one topic.
2. A topic's *observed* count is the requests in a window close to its centre (cosine at
   least `similarity`), one per person: a visitor who rephrases the problem three times is
   one, an operator's searches count once per wording, each recorded call counts. Its
   *expected* rate is the same rule over the history (up to HISTORY_DAYS before the
   window): the topic's hourly rate times the seasonal factor of this hour (all unresolved
   requests in this weekday class and hour against the average hour, without that slot's
   busiest hour in the history: an earlier outage), at least a floor for
   topics never seen before (`min_rate`, times the seasonal factor with `seasonal_floor`).
3. Each of `windows` (10 and 20 minutes) is tested: a rise when the observed count is at
   least `min_count`, at least `min_ratio` times the expected count (rate x window), and
   improbable for a Poisson count with that mean (p <= `alpha` / number of windows). The
   pair rule (`pair_similarity`): a count of two people is tested too, by the same test, so
   two people asking about a topic that is expected about never at this hour (at night) are
   a rise; at a busy hour two are never improbable enough.
4. A rise whose centre is close to a warning of the last `cooldown_hours` (open, declared
   or dismissed) refreshes that warning instead of raising a new one, when that warning's
   title is about the rise's topic too (`scoped_cooldown`, session 9: a warning raised on
   a few requests of one topic and the first of a neighbouring one has its centre between
   them, and must not hold back the neighbour's outage); one that matches an active known
   problem raises nothing (it has been declared already).

`detect()` is the decision on plain data; `bench/early_warning.py` replays a simulated month
through the same function, and that is where the parameters below were chosen.
"""

import bisect
import datetime
import logging
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from django.db.models import Q
from django.utils import timezone
from scipy.stats import nbinom, poisson

from articles.models import SolutionArticlePage
from embeddings.encoder import comparison_model_id, get_encoder
from embeddings.models import Chunk
from embeddings.vectors import nearest_chunks
from incidents import early_warnings
from incidents.matching import matching_problems
from incidents.models import EarlyWarning

from .gaps import _refined, cluster_vectors, default_distance_threshold, embed_texts, normalise
from .models import CallOutcome, ContactRequest, SearchEvent, demand_language

logger = logging.getLogger("kb.early_warning")

HISTORY_DAYS = 28
REFINE_STEPS = 2


# A request belongs to a topic when its cosine to the topic's centre is at least this, per
# comparison model. e5 puts unrelated office questions at 0.8-0.89 from each other and the
# wordings of one problem (three languages) at 0.92-0.95 from their centre, so the gap
# report's pairwise distance (0.14) is too loose for it; bench/early_warning.py chose 0.91.
CENTROID_SIMILARITY = {"multilingual-e5-small-q4": 0.92}
# The window's requests are grouped with the gap report's clustering at this distance: at the
# gap report's 0.14, e5 splits some problems asked in three languages into two or three
# groups; at 0.16 the demo's 11 unanswered problems (and the tests' printer topic) form one
# group each with no group mixing two (in-sample: the phrases the bench replays).
WINDOW_CLUSTER_DISTANCE = {"multilingual-e5-small-q4": 0.16}


@dataclass(frozen=True)
class Params:
    """The detector's knobs. Defaults: tuned with bench/early_warning.py on the tuning seeds
    (see docs/reports.md for the figures on the held-out seeds)."""

    # Several windows at once (minutes): the longest groups the requests into topics and
    # gives a slow rise its power; the short ones let a steep rise through after a few
    # requests. Each window is tested at alpha / len(windows) (Bonferroni).
    windows: tuple = (10, 20)
    min_count: int = 3
    min_ratio: float = 4.0
    alpha: float = 3e-4  # for all windows together
    min_rate: float = 0.75  # per hour: a topic never seen before is not "0 expected"
    seasonal_floor: bool = True  # the floor follows the hour's seasonal factor
    history_days: int = HISTORY_DAYS
    cooldown_hours: float = 6.0
    similarity: float | None = None  # None: CENTROID_SIMILARITY of the model
    cluster_distance: float | None = None  # None: WINDOW_CLUSTER_DISTANCE of the model
    # The pair rule: a count of two is enough (instead of `min_count`) when the two are
    # different people with near-identical wording (cosine at least `pair_similarity` between
    # their requests). It is the same Poisson test on the same windows, so the correction over
    # windows is unchanged; the Poisson test alone decides whether two are improbable (at
    # night, for a quiet topic; never for a busy one). None: off. 0 (chosen): any two
    # requests of the topic (both within `similarity` of its centre); 0.95 raised the same
    # outages on the tuning seeds, later for some (docs/reports.md, "Early warning").
    pair_similarity: float | None = 0.0
    # Every text of the window may seed a topic, not only groups of two or more: two wordings
    # of one problem (two languages) can be further apart than the grouping distance while
    # both are within `similarity` of the problem's centre in the history (the refinement
    # below finds that centre from one of them).
    single_seeds: bool = False
    # The texts of the window's group that seeded a topic stay the topic's (in the window and
    # in the history) even when the refined centre moved a little too far from one of them.
    keep_seed: bool = False
    # The seasonal factor leaves out the busiest hour of its slot in the history (an earlier
    # outage at 4 a.m. made every later 4 a.m. look busy): a trimmed mean.
    trim_season: bool = True
    # Today's level of the topic (session 8): a topic's rate varies from day to day (a busy
    # day for the decoder is not an outage). Its requests in the `recent_hours` before the
    # window (up to RECENT_GAP_HOURS before it, so that an outage's own first requests do not
    # raise its bar) against what its usual rate and the hours' seasonal factors expect there
    # update its rate today, a gamma-Poisson update with `recent_shape` pseudo-requests of
    # prior: level = (shape + seen) / (shape + expected), at least 1 (a quiet day does not
    # lower the bar). None: off.
    recent_hours: float | None = None
    recent_shape: float = 6.0
    # The floor as a prior worth this many hours of history at `min_rate` (session 8): the
    # expected rate is (topic's requests + min_rate x floor_hours) / (history hours +
    # floor_hours), instead of the larger of the topic's rate and the floor. None: the larger.
    floor_hours: float | None = None
    # Session 9: the cooldown scoped to the warning's own topic. A rise close to an earlier
    # warning's centre is that warning only when the warning's title (its most frequent
    # wording, what second line saw) is within `similarity` of the rise's centre too: a
    # warning raised on a few requests of one topic plus the first of a neighbouring one has
    # a centre between them, and without this the neighbour's outage only refreshes it (and
    # after a dismissal waits out the cooldown).
    scoped_cooldown: bool = True
    # The title's cosine to the rise's centre the scoped cooldown needs (None: `similarity`).
    # 0.86 (chosen on the tuning seeds): at 0.92 and 0.88 an outage's later rise left its own
    # warning's title out more often and raised it a second time (44 and 18 repeats, 13
    # without the scope); the false alert of seed 30 was 0.84 from the outage it held back.
    scoped_similarity: float | None = 0.86
    # Session 9: a dismissed warning's topic re-arms when the rise counts at least this many
    # times the requests the warning last counted (a rise well above the level that was judged
    # no problem). None: off.
    rearm_ratio: float | None = None
    # Session 9: the share of `alpha` each window gets (in the order of `windows`, summing to
    # 1) instead of equal shares. None: equal (Bonferroni).
    window_alpha: tuple | None = None
    # Session 9: a topic with at least this many requests in the history is expected at its
    # own rate (times the seasonal factor) without the floor: its rate is known well enough.
    # None: the floor for every topic.
    own_rate_least: int | None = None
    # Session 12: an empirical-Bayes gamma-Poisson (negative binomial) expectation instead of
    # the floor. The topic's rate at an average hour is a gamma posterior: a prior with mean
    # `min_rate` worth `nb_prior_hours` hours (min_rate x nb_prior_hours pseudo-requests),
    # updated with the topic's own history; times the seasonal factor, no floor. The day-to-day
    # variation of the topic's rate (1 / shape of a gamma day factor) is `nb_dispersion`, or
    # with None estimated from the topic's own history: a method-of-moments estimate over its
    # requests per local day against what its rate and the days' seasonal factors expect
    # (sum((count - expected)^2 - count) / sum(expected^2), at least 0), without today and
    # without its busiest day (an earlier outage). The window's count is tested against the
    # negative binomial predictive with the same mean and the variance of both gammas (the
    # rate's uncertainty and the day factor), instead of the Poisson. None: off.
    nb_prior_hours: float | None = None
    nb_dispersion: float | None = None
    # With the expectation above: today's day factor from the topic's requests today (since
    # local midnight, up to RECENT_GAP_HOURS before the window), a gamma posterior that
    # lowers the bar on a quiet day and raises it on a busy one, and narrows the predictive.
    nb_today: bool = False

    @property
    def least_count(self):
        """The fewest requests in a window that can be a rise."""
        return min(self.min_count, 2) if self.pair_similarity is not None else self.min_count

    def distance(self, model_id):
        if self.cluster_distance is not None:
            return self.cluster_distance
        return WINDOW_CLUSTER_DISTANCE.get(model_id, default_distance_threshold(model_id))

    @property
    def window_minutes(self):
        """The longest window: the requests grouped into topics, the examples shown."""
        return max(self.windows)

    def cutoff(self, model_id):
        if self.similarity is not None:
            return self.similarity
        return CENTROID_SIMILARITY.get(model_id, 1.0 - default_distance_threshold(model_id))


PARAMS = Params()


@dataclass
class Item:
    """One unresolved request: normalised text (key), as typed (redacted), when, and who
    (requests with the same non-empty actor are counted once in a window)."""

    key: str
    text: str
    locale: str
    at: datetime.datetime
    actor: str = ""


@dataclass
class Rise:
    label: str
    locale: str
    examples: list
    languages: dict
    observed: int
    expected: float
    p_value: float
    first_rise_at: datetime.datetime
    last_seen_at: datetime.datetime
    centroid: np.ndarray
    topic_history: int = 0  # the topic's requests in the history (for the bench's log)
    window_minutes: int = 0  # the window whose count raised it
    label_vector: np.ndarray | None = None  # the label's vector (the scoped cooldown)


@dataclass
class Known:
    """A warning already raised, as the detector needs it."""

    ref: object
    centroid: np.ndarray
    last_seen_at: datetime.datetime
    status: str = EarlyWarning.STATUS_OPEN
    label_vector: np.ndarray | None = None  # its title's vector (Params.scoped_cooldown)
    observed: int = 0  # the requests it last counted (Params.rearm_ratio)


@dataclass
class Outcome:
    new: list = field(default_factory=list)  # [Rise]
    refreshed: list = field(default_factory=list)  # [(Known, Rise)]
    suppressed: list = field(default_factory=list)  # [(Known, Rise)] handled already


def _slot(moment):
    """Seasonal slot of a moment: (weekday class: Mon-Fri, Sat, Sun) x local hour."""
    local = timezone.localtime(moment)
    return {5: 1, 6: 2}.get(local.weekday(), 0) * 24 + local.hour


class Stream:
    """Unresolved requests in time order, with their vectors (rows of `vectors`)."""

    def __init__(self, items, vectors, key_index, log_start=None):
        self.items = sorted(items, key=lambda i: i.at)
        self.times = [i.at for i in self.items]
        self.rows = np.array([key_index[i.key] for i in self.items], dtype="int64")
        self.slots = np.array([_slot(i.at) for i in self.items], dtype="int64")
        # The hour each request fell in (hours since the epoch): the cells of a slot.
        self.cells = np.array([int(i.at.timestamp() // 3600) for i in self.items], dtype="int64")
        self.vectors = vectors
        self.log_start = log_start or (self.times[0] if self.times else None)
        self._slot_hours = {}
        self._labels = {}
        self._factors = {}
        self._days = None
        self._day_hours = {}

    @property
    def days(self):
        """The local day (ordinal) of every request (Params.nb_prior_hours), computed once."""
        if self._days is None:
            self._days = np.array(
                [timezone.localtime(at).toordinal() for at in self.times], dtype="int64"
            )
        return self._days

    def day_slot_hours(self, since, until):
        """(first day ordinal, matrix days x 72): how many hours of each seasonal slot lie in
        each local day of [since, until), whole hours as `slot_hours` (cached per hour)."""
        start = since.replace(minute=0, second=0, microsecond=0)
        end = until.replace(minute=0, second=0, microsecond=0)
        cache_key = (start, end)
        found = self._day_hours.get(cache_key)
        if found is None:
            first = timezone.localtime(start).toordinal()
            last = timezone.localtime(until).toordinal()
            matrix = np.zeros((last - first + 1, 72))
            moment = start
            while moment < end:
                matrix[timezone.localtime(moment).toordinal() - first, _slot(moment)] += 1
                moment += datetime.timedelta(hours=1)
            if len(self._day_hours) > 64:
                self._day_hours.clear()
            found = self._day_hours[cache_key] = (first, matrix)
        return found

    def window_labels(self, distinct, weights, distance):
        """The window's distinct texts grouped by meaning (the gap report's clustering at
        `distance`). Cached on the stream: a replay asks again for an unchanged window."""
        if len(distinct) == 1:
            return np.zeros(1, "int64")
        cache_key = (distance, distinct.tobytes(), weights.tobytes())
        labels = self._labels.get(cache_key)
        if labels is None:
            labels = cluster_vectors(
                self.vectors[distinct], weights=weights, distance_threshold=distance
            )
            if len(self._labels) > 50000:
                self._labels.clear()
            self._labels[cache_key] = labels
        return labels

    def span(self, since, until):
        return bisect.bisect_left(self.times, since), bisect.bisect_left(self.times, until)

    def slot_hours(self, since, until):
        """How many hours of each seasonal slot lie in [since, until) (cached per hour)."""
        start = since.replace(minute=0, second=0, microsecond=0)
        end = until.replace(minute=0, second=0, microsecond=0)
        cache_key = (start, end)
        hours = self._slot_hours.get(cache_key)
        if hours is None:
            hours = np.zeros(72)
            moment = start
            while moment < end:
                hours[_slot(moment)] += 1
                moment += datetime.timedelta(hours=1)
            if len(self._slot_hours) > 64:
                self._slot_hours.clear()
            self._slot_hours[cache_key] = hours
        return hours


# The trimmed seasonal factor leaves out the busiest hour only when the slot has at least
# this many hours of history.
TRIM_LEAST_HOURS = 3
# Today's level (Params.recent_hours) is read from the hours ending this long before the
# window: an outage's requests that came before its window was counted do not count there.
RECENT_GAP_HOURS = 1.0


def _seasonal_factor(stream, lo, hi, since, until, slot, trim=False):
    """This slot's rate of all unresolved requests against the average hour, with one
    pseudo-hour at the average rate so a thin history pulls towards 1. `trim`: without the
    slot's busiest hour (an earlier outage in this slot is not this hour's usual rate)."""
    hours = stream.slot_hours(since, until)
    total_hours = hours.sum()
    total = hi - lo
    if total == 0 or total_hours == 0:
        return 1.0
    mean_rate = total / total_hours
    in_slot = stream.slots[lo:hi] == slot
    count, slot_hours = int(in_slot.sum()), hours[slot]
    if trim and count and slot_hours >= TRIM_LEAST_HOURS:
        _cells, per_hour = np.unique(stream.cells[lo:hi][in_slot], return_counts=True)
        count -= int(per_hour.max())
        slot_hours -= 1
    return float((count + mean_rate) / (slot_hours + 1) / mean_rate)


def _hour(moment):
    return int(moment.timestamp() // 3600)


def _seasonal_factors(stream, lo, hi, since, until, trim=False):
    """The seasonal factor of every slot at once (as `_seasonal_factor`), cached on the
    stream: the 72 factors barely move from one run to the next."""
    cache = stream._factors
    cache_key = (lo, hi, _hour(since), _hour(until), trim)
    factors = cache.get(cache_key)
    if factors is not None:
        return factors
    hours = stream.slot_hours(since, until)
    total_hours, total = hours.sum(), hi - lo
    if total == 0 or total_hours == 0:
        factors = np.ones(72)
    else:
        mean_rate = total / total_hours
        slots = stream.slots[lo:hi]
        counts = np.bincount(slots, minlength=72).astype("float64")
        slot_hours = hours.copy()
        if trim:
            _cells, first, per_hour = np.unique(
                stream.cells[lo:hi], return_index=True, return_counts=True
            )
            busiest = np.zeros(72)
            np.maximum.at(busiest, slots[first], per_hour)
            trimmed = (counts > 0) & (slot_hours >= TRIM_LEAST_HOURS)
            counts[trimmed] -= busiest[trimmed]
            slot_hours[trimmed] -= 1
        factors = (counts + mean_rate) / (slot_hours + 1) / mean_rate
    if len(cache) > 256:
        cache.clear()
    cache[cache_key] = factors
    return factors


def _recent_span(stream, now, window, history_start, params):
    """[start, end) of the hours that tell today's level; None when off or empty."""
    if params.recent_hours is None:
        return None
    end = now - window - datetime.timedelta(hours=RECENT_GAP_HOURS)
    start = max(history_start, end - datetime.timedelta(hours=params.recent_hours))
    if end <= start:
        return None
    return start, end


def detect(stream, now, *, model_id, known=(), params=PARAMS, trace=None):
    """The rises at `now`: new ones, and those that refresh or repeat a known warning.

    `trace`: a list to append one dict per tested topic to (the bench's --explain)."""
    outcome = Outcome()
    window = datetime.timedelta(minutes=params.window_minutes)
    w_lo, w_hi = stream.span(now - window, now + datetime.timedelta(microseconds=1))
    if w_hi - w_lo < params.least_count:
        return outcome
    cutoff = params.cutoff(model_id)
    window_rows = stream.rows[w_lo:w_hi]
    distinct, weights = np.unique(window_rows, return_counts=True)
    labels = stream.window_labels(distinct, weights, params.distance(model_id))
    # Seeds: every group of two or more requests (every group with `single_seeds`), largest
    # first (refined below).
    sizes = {c: int(weights[labels == c].sum()) for c in set(labels.tolist())}
    least = 1 if params.single_seeds else 2
    clusters = sorted((c for c, n in sizes.items() if n >= least), key=lambda c: (-sizes[c], c))
    if not clusters:
        return outcome
    centroids = []
    for cluster in clusters:
        members = labels == cluster
        centroid = (stream.vectors[distinct[members]] * weights[members, None]).sum(axis=0)
        centroids.append(centroid / (np.linalg.norm(centroid) + 1e-12))
    centroids = np.vstack(centroids)
    history_start = now - datetime.timedelta(days=params.history_days)
    if stream.log_start is not None:
        history_start = max(history_start, stream.log_start)
    h_lo, h_hi = stream.span(history_start, now - window)
    history_hours = max((now - window - history_start).total_seconds() / 3600, 0.0)
    # Distinct texts and how often each was asked: in the window and in the history.
    h_distinct, h_counts = np.unique(stream.rows[h_lo:h_hi], return_counts=True)
    texts = np.concatenate([distinct, h_distinct])
    counts = np.concatenate([weights, h_counts]).astype("float32")
    in_window = np.arange(len(texts)) < len(distinct)
    text_vectors = stream.vectors[texts]
    slot = _slot(now)
    recent = _recent_span(stream, now, window, history_start, params)
    if recent is not None and history_hours > 0:
        # How often each text was asked in the recent hours, and what the hours expect of a
        # topic whose rate is one an average hour (the sum of their seasonal factors).
        r_lo, r_hi = stream.span(*recent)
        r_distinct, r_counts = np.unique(stream.rows[r_lo:r_hi], return_counts=True)
        recent_counts = np.zeros(len(texts))
        at = np.searchsorted(r_distinct, texts)
        found = (at < len(r_distinct)) & ~in_window
        found[found] = r_distinct[at[found]] == texts[found]
        recent_counts[found] = r_counts[at[found]]
        factors = _seasonal_factors(
            stream, h_lo, h_hi, history_start, now - window, params.trim_season
        )
        recent_weight = float(stream.slot_hours(*recent) @ factors)
    else:
        recent = None
    taken = []
    for cluster, centroid in zip(clusters, centroids, strict=True):
        seed_rows = distinct[labels == cluster]
        # The window's group may be one wording or language of a problem: move its centre to
        # the mean of everything close to it, window and history (twice), so that the topic
        # counted now and the topic counted in the history are the same whole problem.
        for _step in range(REFINE_STEPS):
            close = text_vectors @ centroid >= cutoff
            if not close.any():
                break
            centroid = (text_vectors[close] * counts[close, None]).sum(axis=0)
            centroid /= np.linalg.norm(centroid) + 1e-12
        if any(float(centroid @ other) >= cutoff for other in taken):
            continue  # two groups of one topic: one rise
        close = text_vectors @ centroid >= cutoff
        if params.keep_seed:
            close |= np.isin(texts, seed_rows)
        close_rows = set(texts[close & in_window].tolist())
        seen, matched, matched_rows = set(), [], []
        for index, row in enumerate(window_rows.tolist()):
            if row not in close_rows:
                continue
            item = stream.items[w_lo + index]
            if item.actor in seen:
                continue  # one person rephrasing (or repeating) one problem is one caller
            if item.actor:
                seen.add(item.actor)
            matched.append(item)
            matched_rows.append(row)
        record = None
        if trace is not None:
            record = {"seed_rows": seed_rows.tolist(), "centroid": centroid, "matched": matched}
            trace.append(record)
        if len(matched) < params.least_count:
            continue
        topic_history = int(counts[close & ~in_window].sum())
        # The topic's expected requests per hour at this hour: its rate over the history times
        # the seasonal factor, at least the floor (times the factor too when `seasonal_floor`:
        # a topic never seen is likelier at 10 a.m. on a Monday than at 3 a.m.).
        factor = 1.0
        if history_hours > 0 and (topic_history or params.seasonal_floor):
            factor = _seasonal_factor(
                stream, h_lo, h_hi, history_start, now - window, slot, params.trim_season
            )
        season = factor if params.seasonal_floor else 1.0
        own = topic_history / history_hours if history_hours > 0 else 0.0
        # `usual`: the topic's expected rate at an average hour; `rate`: at this hour.
        usual = max(params.min_rate, own)
        rate = max(params.min_rate * season, own * factor)
        if params.floor_hours is not None and history_hours > 0:
            # The floor as a prior worth `floor_hours` hours: a topic with a long history
            # of its own is expected at about its own rate, a new one at about the floor.
            usual = (topic_history + params.min_rate * params.floor_hours) / (
                history_hours + params.floor_hours
            )
            rate = usual * season
        if params.own_rate_least is not None and topic_history >= params.own_rate_least:
            usual, rate = own, own * factor
        shape, nb = None, None
        if params.nb_prior_hours is not None and history_hours > 0:
            rows_of_topic = texts[close & ~in_window]
            nb = _gamma_poisson(
                stream, h_lo, h_hi, history_start, now, window, rows_of_topic, params
            )
            usual, shape = nb["usual"], nb["shape"]
            rate = usual * factor * nb["level"]
        level = 1.0
        if recent is not None:
            # Today's level: the topic's recent requests against its usual rate over the
            # recent hours' seasonal weight. A busy day raises the bar (the floor too); a
            # quiet one leaves it.
            seen = float(recent_counts[close].sum())
            level = (params.recent_shape + seen) / (params.recent_shape + usual * recent_weight)
            level = max(level, 1.0)
            rate *= level
        test = _test(stream, matched, matched_rows, rate, now, params, shape)
        if record is not None:
            record.update(
                rate=rate, factor=factor, topic_history=topic_history, test=test, level=level
            )
            if nb is not None:
                record.update(nb=nb, level=nb["level"])
        if test is None:
            continue
        minutes, observed, expected, p_value = test
        taken.append(centroid)
        rise = _describe(matched, centroid, observed, expected, p_value, topic_history)
        rise.window_minutes = minutes
        rise.label_vector = next(
            stream.vectors[row]
            for item, row in zip(matched, matched_rows, strict=True)
            if item.text[:200] == rise.label
        )
        match = _known_match(rise, known, now, cutoff, params)
        if (
            match is not None
            and params.rearm_ratio is not None
            and match.status == EarlyWarning.STATUS_DISMISSED
            and rise.observed >= params.rearm_ratio * max(match.observed, 1)
        ):
            match = None  # well above what was dismissed: a new warning
        if match is None:
            outcome.new.append(rise)
        elif match.status == EarlyWarning.STATUS_OPEN:
            outcome.refreshed.append((match, rise))
        else:
            outcome.suppressed.append((match, rise))
    return outcome


def _near_identical(stream, rows, params):
    """Two of the requests (rows of the stream's vectors) are worded nearly the same."""
    if len(rows) < 2:
        return False
    vectors = stream.vectors[rows]
    similar = vectors @ vectors.T
    np.fill_diagonal(similar, -1.0)
    return float(similar.max()) >= params.pair_similarity


def _gamma_poisson(stream, h_lo, h_hi, history_start, now, window, topic_rows, params):
    """Params.nb_prior_hours: the topic's usual rate (an average hour, gamma posterior mean),
    today's level, the day-to-day dispersion and the negative binomial's shape (None: the
    Poisson) of the topic's count at an hour, as a dict (the bench's --explain reads it)."""
    history_end = now - window
    history_hours = (history_end - history_start).total_seconds() / 3600
    in_topic = np.isin(stream.rows[h_lo:h_hi], topic_rows)
    days = stream.days[h_lo:h_hi][in_topic]
    topic_history = int(in_topic.sum())
    prior_requests = params.min_rate * params.nb_prior_hours
    # The long-run rate: Gamma(a, b) posterior of a gamma prior with mean min_rate.
    a = prior_requests + topic_history
    usual = a / (params.nb_prior_hours + history_hours)
    factors = _seasonal_factors(stream, h_lo, h_hi, history_start, history_end, params.trim_season)
    first, matrix = stream.day_slot_hours(history_start, history_end)
    weights = matrix @ factors  # each local day's hours, in average hours
    counts = np.bincount(days - first, minlength=len(weights)).astype("float64")
    today = timezone.localtime(history_end).toordinal() - first
    dispersion = params.nb_dispersion
    if dispersion is None:
        # Method of moments over the past days (not today; without the busiest one, an
        # earlier outage), around the topic's own rate (not the prior's pull: a quiet
        # topic expected at the prior's higher rate would look over-dispersed).
        past = np.arange(len(weights)) < today
        expected = topic_history / history_hours * weights
        if past.sum() >= 3:
            excess = counts - expected
            past[np.flatnonzero(past)[np.argmax(excess[past])]] = False
            num = float(((excess[past] ** 2) - counts[past]).sum())
            den = float((expected[past] ** 2).sum())
            dispersion = max(num / den, 0.0) if den > 0 else 0.0
        else:
            dispersion = 0.0
    day_shape = 1.0 / dispersion if dispersion > 0 else None
    level = 1.0
    if params.nb_today and day_shape is not None:
        # Today's day factor: Gamma(k + seen, k + expected) posterior of the day factor's
        # Gamma(k, k) prior, from today's requests up to RECENT_GAP_HOURS before the window.
        end = history_end - datetime.timedelta(hours=RECENT_GAP_HOURS)
        midnight = timezone.localtime(history_end).replace(hour=0, minute=0, second=0)
        midnight = midnight.replace(microsecond=0)
        if end > midnight:
            seen = 0
            lo, hi = stream.span(midnight, end)
            if hi > lo:
                seen = int(np.isin(stream.rows[lo:hi], topic_rows).sum())
            expected_today = usual * float(stream.slot_hours(midnight, end) @ factors)
            level = (day_shape + seen) / (day_shape + expected_today)
            day_shape += seen
    # The rate at this hour is usual x level x factor, with usual ~ Gamma(a) and the day
    # factor ~ Gamma(day_shape): one gamma with their mean and variance (squared coefficient
    # of variation (1 + 1/a)(1 + 1/k) - 1) makes the count a negative binomial of that shape.
    cv2 = (1 + 1 / a) * (1 + (1 / day_shape if day_shape else 0.0)) - 1 if a > 0 else None
    shape = 1 / cv2 if cv2 else None
    return {
        "usual": usual,
        "level": level,
        "dispersion": dispersion,
        "shape": shape,
        "history": topic_history,
    }


def _sf(observed, expected, shape):
    """P(X >= observed): Poisson with mean `expected`, or with a negative binomial `shape`
    (variance expected + expected^2 / shape)."""
    if shape is None:
        return float(poisson.sf(observed - 1, expected))
    return float(nbinom.sf(observed - 1, shape, shape / (shape + expected)))


def _test(stream, matched, matched_rows, rate, now, params, shape=None):
    """The window (minutes, observed, expected, p) where the topic's count is least likely
    at `rate` an hour, among the windows where it is a rise; None when it is a rise in none.
    Each window is tested at alpha / len(windows), so the family stays at alpha. A count
    below `min_count` is tested only for a near-identical pair (the pair rule). `shape`: the
    count is a negative binomial of that shape (Params.nb_prior_hours), not a Poisson."""
    best = None
    shares = params.window_alpha or [1 / len(params.windows)] * len(params.windows)
    alphas = dict(zip(params.windows, shares, strict=True))
    for minutes in sorted(params.windows):
        alpha = params.alpha * alphas[minutes]
        since = now - datetime.timedelta(minutes=minutes)
        rows = [row for item, row in zip(matched, matched_rows, strict=True) if item.at >= since]
        observed = len(rows)
        if observed < params.least_count:
            continue
        if observed < params.min_count and not _near_identical(stream, rows, params):
            continue
        expected = rate * minutes / 60
        if observed < params.min_ratio * expected:
            continue
        p_value = _sf(observed, expected, shape)
        if p_value <= alpha and (best is None or p_value < best[3]):
            best = (minutes, observed, expected, p_value)
    return best


def _known_match(rise, known, now, cutoff, params):
    recent = now - datetime.timedelta(hours=params.cooldown_hours)
    best, best_sim = None, cutoff
    for warning in known:
        if warning.status != EarlyWarning.STATUS_OPEN and warning.last_seen_at < recent:
            continue
        if warning.centroid is None:
            continue
        if (
            params.scoped_cooldown
            and warning.label_vector is not None
            and float(rise.centroid @ warning.label_vector)
            < (params.scoped_similarity if params.scoped_similarity is not None else cutoff)
        ):
            continue  # its title is another topic: the rise is not what it warned about
        sim = float(rise.centroid @ warning.centroid)
        if sim >= best_sim:
            best, best_sim = warning, sim
    return best


def _describe(matched, centroid, observed, expected, p_value, topic_history):
    """`matched`: the topic's requests in the longest window (label, examples, languages, the
    first rise); `observed`, `expected`, `p_value`: the window that raised it."""
    spelling = Counter(item.text for item in matched)
    languages = Counter(item.locale for item in matched)
    main = languages.most_common(1)[0][0]
    in_main = Counter(item.text for item in matched if item.locale == main)
    label = in_main.most_common(1)[0][0]
    return Rise(
        label=label[:200],
        locale=main,
        examples=[text for text, _n in spelling.most_common(early_warnings.MAX_EXAMPLES)],
        languages=dict(languages.most_common()),
        observed=observed,
        expected=round(expected, 3),
        p_value=p_value,
        first_rise_at=min(item.at for item in matched),
        last_seen_at=max(item.at for item in matched),
        centroid=centroid.astype("float32"),
        topic_history=topic_history,
    )


# --- the event log as a stream ----------------------------------------------------------------


def collect_unresolved(since, until):
    """Unresolved requests of [since, until) from the event log (texts are redacted already)."""
    searches = SearchEvent.objects.filter(created_at__gte=since, created_at__lt=until)
    refined = _refined(
        searches.values_list("pk", "user_id", "session_key", "created_at", "query").iterator(
            chunk_size=5000
        )
    )
    items, represented = [], set()
    outcomes = CallOutcome.objects.filter(
        outcome__in=[CallOutcome.NO_ARTICLE, CallOutcome.ESCALATED],
        created_at__gte=since,
        created_at__lt=until,
    )
    for event_id, query, note, locale, asked_in, at in outcomes.values_list(
        "search_event_id",
        "query",
        "note",
        "locale",
        "search_event__question_language",
        "created_at",
    ).iterator(chunk_size=5000):
        text = (query or "").strip() or (note or "").strip()
        if not text:
            continue
        represented.add(event_id)
        # Every recorded call is a caller: an operator taking the same words twice is two.
        items.append(Item(normalise(text), text, demand_language(asked_in, locale or "en"), at, ""))
    unanswered = searches.filter(no_good_match=True).exclude(
        Q(pk__in=refined) | Q(outcomes__outcome=CallOutcome.KNOWN_PROBLEM)
    )
    for pk, query, locale, asked_in, at, user_id, session_key in unanswered.values_list(
        "pk", "query", "locale", "question_language", "created_at", "user_id", "session_key"
    ).iterator(chunk_size=5000):
        if pk in represented:
            continue
        key = normalise(query)
        # Who is counted once: a visitor (session) however often they rephrase; an operator
        # per wording, since each of their searches may be another caller's.
        actor = f"u{user_id}|{key}" if user_id else f"s{session_key}" if session_key else ""
        items.append(Item(key, query, demand_language(asked_in, locale), at, actor))
    items += _still_need_help(since, until)
    return [item for item in items if item.key]


def _still_need_help(since, until):
    """'Still need help?' contacts of [since, until) after a search that did find an article
    (that article did not solve it): unresolved too, worded as the visitor's last search
    (stored redacted; the message itself is personal and never used), counted as the same
    person as that visitor's other searches. Contacts after an unanswered search add
    nothing: that search is counted already."""
    items = []
    contacts = ContactRequest.objects.filter(created_at__gte=since, created_at__lt=until)
    for contact in contacts.prefetch_related("searches"):
        trail = sorted(contact.searches.all(), key=lambda event: event.created_at)
        if not trail or trail[-1].no_good_match:
            continue
        last = trail[-1]
        actor = f"u{last.user_id}|{normalise(last.query)}" if last.user_id else ""
        if last.session_key:
            actor = f"s{last.session_key}"
        language = demand_language(last.question_language, last.locale)
        items.append(Item(normalise(last.query), last.query, language, contact.created_at, actor))
    return items


def _oldest_event():
    first = SearchEvent.objects.order_by("created_at").values_list("created_at", flat=True)[:1]
    return next(iter(first), None)


def _known_warnings(now, params, encoder=None):
    recent = now - datetime.timedelta(hours=params.cooldown_hours)
    rows = list(
        EarlyWarning.objects.filter(
            Q(status=EarlyWarning.STATUS_OPEN) | Q(last_seen_at__gte=recent)
        )
    )
    titles = {}
    if params.scoped_cooldown and encoder is not None and rows:
        # The titles' vectors (the scoped cooldown): the same cached query vectors as the
        # requests' (a title is one of them, so it is usually encoded already).
        keys = sorted({normalise(w.topic) for w in rows} - {""})
        vectors, _encoded = embed_texts(keys, encoder)
        titles = dict(zip(keys, vectors, strict=True))
    known = []
    for warning in rows:
        centroid = Chunk.decode(warning.centroid) if warning.centroid else None
        label_vector = titles.get(normalise(warning.topic))
        known.append(
            Known(
                warning,
                centroid,
                warning.last_seen_at,
                warning.status,
                label_vector=label_vector,
                observed=warning.observed,
            )
        )
    return known


# Closest article's services are offered with the warning when its best passage is at least
# this close to the topic's centre (comparison model); below, the services stay empty. Not
# measured: a first guess on e5's scale. The declarer sees and corrects them on the form.
SERVICE_SIMILARITY = 0.85


def _likely_services(centroid, model_id):
    try:
        found = nearest_chunks(centroid, ["en", "nl", "fr"], 3, model_id)
    except Exception:  # no index yet: the warning goes out without services
        logger.exception("could not look up the closest article of an early warning")
        return []
    if not found:
        return []
    chunk_id, score = max(found.items(), key=lambda kv: kv[1])
    if score < SERVICE_SIMILARITY:
        return []
    page_id = Chunk.objects.filter(pk=chunk_id).values_list("page_id", flat=True).first()
    page = SolutionArticlePage.objects.filter(pk=page_id).first()
    return list(page.services.all()) if page is not None else []


def _declared_already(rise):
    """An active known problem (internal ones too) that the topic's label matches."""
    try:
        return any(
            m.matched_by in ("meaning", "code")
            for m in matching_problems(rise.label, channel="operator")
        )
    except Exception:
        logger.exception("could not match an early warning against the known problems")
        return False


def run_early_warning(now=None, params=PARAMS, encoder=None):
    """The periodic job: look for rises now; raise or refresh warnings. Returns a summary."""
    now = now or timezone.now()
    window_start = now - datetime.timedelta(minutes=params.window_minutes)
    recent = collect_unresolved(window_start, now + datetime.timedelta(microseconds=1))
    if len(recent) < params.least_count:
        return {"window": len(recent), "raised": 0, "refreshed": 0}
    encoder = encoder or get_encoder(comparison_model_id())
    history_start = now - datetime.timedelta(days=params.history_days)
    items = collect_unresolved(history_start, window_start) + recent
    keys = sorted({item.key for item in items})
    vectors, _encoded = embed_texts(keys, encoder)
    stream = Stream(items, vectors, {k: i for i, k in enumerate(keys)}, log_start=_oldest_event())
    outcome = detect(
        stream,
        now,
        model_id=encoder.model_id,
        known=_known_warnings(now, params, encoder),
        params=params,
    )
    for warning, rise in outcome.refreshed:
        early_warnings.refresh_warning(
            warning.ref,
            observed=rise.observed,
            expected=rise.expected,
            p_value=rise.p_value,
            last_seen_at=now,
            examples=rise.examples,
            window_minutes=rise.window_minutes,
        )
    for warning, _rise in outcome.suppressed:
        EarlyWarning.objects.filter(pk=warning.ref.pk).update(last_seen_at=now)
    raised = 0
    for rise in outcome.new:
        if _declared_already(rise):
            continue
        early_warnings.raise_warning(
            topic=rise.label,
            locale=rise.locale,
            examples=rise.examples,
            languages=rise.languages,
            observed=rise.observed,
            expected=rise.expected,
            window_minutes=rise.window_minutes,
            p_value=rise.p_value,
            first_rise_at=rise.first_rise_at,
            raised_at=now,
            last_seen_at=now,
            model_id=encoder.model_id,
            centroid=Chunk.encode_vector(rise.centroid),
            services=_likely_services(rise.centroid, encoder.model_id),
        )
        raised += 1
    return {"window": len(recent), "raised": raised, "refreshed": len(outcome.refreshed)}
