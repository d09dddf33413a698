"""An oracle bound for the early warning: how good can any count-based detector be on the
simulation of bench/early_warning.py?

The oracle knows what no real detector can: every simulated request's true topic (a background
topic's name — its outage's requests share it, so background and outage requests of a topic
are counted together, as a real detector must —, one failed gold question, or one one-off
wording) and the topic's true background rate at every moment (the generator's HOURLY x
WEEKDAY x share x that day's gamma noise factor; the "mean rate" rows without the day's
noise: the long-run mean rate, the best a detector with a perfect long history could know).
Every STEP minute, for every topic, each window (10 and 20 minutes; 5/10/20 in the extra
rows) is tested: P(X >= observed) for a Poisson count whose mean is the true rate integrated
over the window, at alpha / number of windows (Bonferroni, as `detect()`), for a count of at
least two requests (one request is indistinguishable from the background: reachable() in
bench/early_warning.py). No ratio rule, no floor. Two more kinds of rows: "problems", an oracle
that also knows where outages can happen (it tests only the demo's 11 unanswered problems,
never a failed gold question or a one-off: the ceiling, not a detector anyone could build);
"LR", the likelihood ratio of an outage (LR_PER_HOUR more requests an hour) against the
background instead of the Poisson tail, raised when 1 / LR <= alpha. The cooldown is the bench's: a topic that
rose within the last 6 hours (a warning open, or seen rising, within the cooldown) is not raised
again; warnings are handled 45 minutes after they are raised (which changes nothing here:
the cooldown is the same for declared and dismissed warnings). A raised warning is a
detection when at least half of the topic's requests in the longest window are the outage's,
otherwise a false alert; the scoring and the summaries are bench/early_warning.py's own
functions (_score, reachable, summary, print_summary).

The simulated worlds are the bench's: the same World, outages, background and outage events,
in the same order (the spellings, drawn after them, are not needed: no vectors are built).

    python bench/early_warning_oracle.py                 # the sweep on the tuning seeds,
                                                         # then the chosen alphas held out
    python bench/early_warning_oracle.py --tune          # the sweep only (tuning seeds)
    python bench/early_warning_oracle.py --view 11:O3 26:O5   # the oracle's view of outages
"""

import argparse
import datetime
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent))
import early_warning as bench  # noqa: E402  (sets Django up)
import numpy as np  # noqa: E402
from django.utils import timezone  # noqa: E402
from scipy.stats import poisson  # noqa: E402

ALPHAS = [1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 3e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2]
TUNING = bench.TUNING_SEEDS + bench.MORE_TUNING
HELD = bench.HELD_OUT + bench.FRESH + bench.NEVER_RUN + bench.FRESH9
LIMITS = (1.0, 0.5)  # false alerts a week: the goal's limit, and half of it
COOLDOWN = int(bench.PARAMS.cooldown_hours * 60)  # minutes
LEAST = 2  # the fewest requests that can be a rise (the bench's least_count, the pair rule)
# The likelihood-ratio rule's alternative: an outage adding this many requests an hour to the
# topic over the whole window (the slow end of the simulated outages: 12-24 an hour at night,
# 15-35 at a weekend, 25-70 on weekdays; the slow ones are the late ones).
LR_PER_HOUR = 20.0
# The variants: (knows the day's noise, windows, tests only the 11 problems outages hit, the
# rule: "p" the Poisson test at alpha / windows, "lr" the likelihood ratio of an outage at
# LR_PER_HOUR against the background, raised when 1 / LR <= alpha).
VARIANTS = [
    (True, (10, 20), False, "p"),
    (False, (10, 20), False, "p"),
    (True, (5, 10, 20), False, "p"),
    (False, (5, 10, 20), False, "p"),
    (True, (10, 20), True, "p"),
    (False, (10, 20), True, "p"),
    (True, (10, 20), False, "lr"),
    (True, (10, 20), True, "lr"),
]


def variant_label(true_rate, windows, problems=False, rule="p"):
    label = f"{'true' if true_rate else 'mean'} {'/'.join(map(str, windows))}"
    return label + (" problems" if problems else "") + (" LR" if rule == "lr" else "")


def score(observed, mean, minutes, windows, rule):
    """What is compared with alpha (smaller: stronger evidence of a rise): the Poisson tail
    P(X >= observed) times the number of windows, or 1 / the likelihood ratio of an outage
    (LR_PER_HOUR more requests an hour over the window) against the background alone."""
    observed = np.asarray(observed)
    if rule == "lr":
        extra = LR_PER_HOUR * minutes / 60
        return np.exp(extra - observed * np.log1p(extra / np.asarray(mean)))
    return poisson.sf(observed - 1, mean) * len(windows)


def _naive(moment):
    return moment.replace(tzinfo=None)


class Oracle:
    """One seed's world as the oracle sees it: per topic, its requests' times and truths and
    its true background rate per minute."""

    def __init__(self, seed):
        world = bench.World(seed)
        outages = world.outages()
        raw = world.background()
        for outage in outages:  # as build_stream: the same draws in the same order
            raw += world.outage_events(outage)
        self.world, self.outages, self.seed = world, outages, seed
        origin = _naive(world.start)
        self.origin = origin
        self.minutes = (bench.HISTORY + bench.DAYS) * 24 * 60
        # The base rate per minute (all topics together): HOURLY x WEEKDAY, in local time.
        base = np.zeros(self.minutes)
        for day in range(bench.HISTORY + bench.DAYS):
            date = world.start + datetime.timedelta(days=day)
            weekday = timezone.localtime(date).weekday()
            for hour in range(24):
                at = day * 1440 + hour * 60
                base[at : at + 60] = bench.HOURLY[hour] * bench.WEEKDAY[weekday] / 60
        self.base = base
        noise = {
            name: np.repeat([day[name] for day in world.day_noise], 1440)
            for name in world.source_shares
        }
        self.noise = noise
        gold_n = len(world.gold)
        one_off_n = len(world.one_offs)
        topics = {}
        for at, lang, text, truth, name in raw:
            if name == "_gold":
                key, source, share = f"gold: {text}", "_gold", 1 / gold_n
            elif name == "_oneoff":
                share = world.one_offs.count((lang, text)) / one_off_n
                key, source = f"one-off: {text}", "_oneoff"
            else:
                key, source, share = name, name, 1.0
            entry = topics.setdefault(key, {"source": source, "share": share, "events": []})
            entry["events"].append(((_naive(at) - origin).total_seconds(), truth))
        self.topics = {}
        for key, entry in topics.items():
            events = sorted(entry["events"])
            self.topics[key] = {
                "source": entry["source"],
                "share": world.source_shares[entry["source"]] * entry["share"],
                "seconds": np.array([s for s, _t in events]),
                "truth": [t for _s, t in events],
            }
        # The bench's reachable()/nth_request() read .items (at, truth): the outages' requests.
        items = [SimpleNamespace(at=at, truth=truth) for at, _l, _t, truth, _n in raw if truth]
        self.stream = SimpleNamespace(items=sorted(items, key=lambda i: i.at))
        # The replay's minutes: from a day before the evaluated month to its end (as replay()).
        self.first = (bench.HISTORY - 1) * 1440
        self.now = np.arange(self.first, self.minutes)

    def minute(self, moment):
        return int(round((_naive(moment) - self.origin).total_seconds() / 60))

    def moment(self, minute):
        return self.world.start + datetime.timedelta(minutes=int(minute))

    def rate(self, key, true_rate):
        """The topic's true background rate per minute, every minute of the period."""
        topic = self.topics[key]
        rate = self.base * topic["share"]
        return rate * self.noise[topic["source"]] if true_rate else rate

    def counts(self, key, minutes, now=None):
        """The topic's requests in [now - minutes, now] (both ends, as detect())."""
        now = self.now if now is None else now
        seconds = self.topics[key]["seconds"]
        hi = np.searchsorted(seconds, now * 60.0, side="right")
        lo = np.searchsorted(seconds, (now - minutes) * 60.0, side="left")
        return hi - lo

    def expected(self, key, minutes, true_rate, now=None):
        """The true mean count of the window [now - minutes, now]."""
        now = self.now if now is None else now
        cumulative = np.concatenate([[0.0], np.cumsum(self.rate(key, true_rate))])
        return cumulative[now] - cumulative[now - minutes]

    def candidates(self, true_rate, windows, problems=False, rule="p"):
        """Every (minute, topic) where the topic's count is a rise at alpha up to 1e-2: its
        score (the smallest over the windows: score()) and the
        truth of a warning raised then (the outage at least half of the topic's requests in
        the longest window belong to, '' for none). `problems`: only the demo's unanswered
        problems are tested (the topics outages hit: an oracle that also knows where outages
        can happen, never testing a failed gold question or a one-off)."""
        longest = max(windows)
        found = []
        for key, topic in self.topics.items():
            if len(topic["seconds"]) < LEAST:
                continue
            if problems and topic["source"] in ("_gold", "_oneoff"):
                continue
            adjusted = np.full(len(self.now), np.inf)
            for minutes in windows:
                observed = self.counts(key, minutes)
                test = observed >= LEAST
                if not test.any():
                    continue
                mean = self.expected(key, minutes, true_rate)[test]
                p = np.full(len(self.now), np.inf)
                p[test] = score(observed[test], mean, minutes, windows, rule)
                adjusted = np.minimum(adjusted, p)
            at = np.flatnonzero(adjusted <= max(ALPHAS))
            if not len(at):
                continue
            outage_seconds = np.array(
                [s for s, t in zip(topic["seconds"], topic["truth"], strict=True) if t]
            )
            outage_id = next((t for t in topic["truth"] if t), "")
            for index in at:
                now = self.now[index]
                everyone = self.counts(key, longest, np.array([now]))[0]
                ours = int(
                    np.sum(
                        (outage_seconds >= (now - longest) * 60.0) & (outage_seconds <= now * 60.0)
                    )
                )
                truth = outage_id if ours and ours * 2 >= everyone else ""
                found.append((int(now), key, float(adjusted[index]), truth))
        found.sort()
        return found

    def replay(self, candidates, alpha):
        """The bench's records of raised warnings at `alpha`, with the bench's cooldown."""
        last_seen, raised = {}, []
        for now, key, adjusted, truth in candidates:
            if adjusted > alpha:
                continue
            seen = last_seen.get(key)
            last_seen[key] = now  # a warning raised, refreshed or held back: seen rising now
            if seen is not None and now - seen <= COOLDOWN:
                continue
            raised.append({"at": self.moment(now), "truth": truth, "key": key})
        return raised

    def result(self, raised):
        """The bench's result tuple for summary(): (delays, false, reach, firsts, repeats)."""
        delays, false, repeats = bench._score(raised, self.world, self.outages)
        reach = {o.id: bench.reachable(self.stream, o) for o in self.outages}
        firsts = {o.id: bench.nth_request(self.stream, o, 1) for o in self.outages}
        return delays, false, reach, firsts, repeats


_ORACLES = {}


def oracle(seed):
    if seed not in _ORACLES:
        _ORACLES[seed] = Oracle(seed)
    return _ORACLES[seed]


_CANDIDATES = {}


def candidates(seed, true_rate, windows, problems=False, rule="p"):
    key = (seed, true_rate, windows, problems, rule)
    if key not in _CANDIDATES:
        _CANDIDATES[key] = oracle(seed).candidates(true_rate, windows, problems, rule)
    return _CANDIDATES[key]


def results(seeds, variant, alpha):
    out = []
    for seed in seeds:
        world = oracle(seed)
        out.append(world.result(world.replay(candidates(seed, *variant), alpha)))
    return out


def sweep(seeds, variant):
    """The alpha grid on `seeds`: [(alpha, summary)], printed."""
    rows = []
    for alpha in ALPHAS:
        s = bench.summary(results(seeds, variant, alpha))
        rows.append((alpha, s))
        bench.print_summary(f"{variant_label(*variant)} a={alpha:g}", s)
        sys.stdout.flush()
    return rows


def choose(rows, limit):
    """The largest alpha whose false alerts a week are at most `limit` (None: none is)."""
    ok = [alpha for alpha, s in rows if s["false_per_week"] <= limit]
    return max(ok) if ok else None


def view(seed, outage_id, alphas, variant=(True, (10, 20), False, "p")):
    """The oracle's view of an outage at +10 minutes: requests asked, the topic's requests
    counted (the outage's and the background's), the true and the mean expected counts in 10
    minutes, the smallest score over its first 10 minutes, the count needed in 10 minutes
    at each alpha, and the oracle's delay at each alpha (the variant's rate and windows)."""
    true_rate, windows, _problems, rule = variant
    world = oracle(seed)
    outage = next(o for o in world.outages if o.id == outage_id)
    start = world.minute(outage.start)
    at = np.array([start + bench.GOAL_MINUTES])
    key = outage.topic
    topic = world.topics[key]
    seconds = np.array(
        [s for s, t in zip(topic["seconds"], topic["truth"], strict=True) if t == outage.id]
    )
    asked = int(np.sum((seconds >= start * 60.0) & (seconds <= at[0] * 60.0)))
    counted = int(world.counts(key, 10, at)[0])
    true10 = float(world.expected(key, 10, True, at)[0])
    mean10 = float(world.expected(key, 10, False, at)[0])
    best = [
        adjusted
        for now, name, adjusted, _truth in candidates(seed, *variant)
        if name == key and start <= now <= start + bench.GOAL_MINUTES
    ]
    p = f"{min(best):.1e}" if best else ">1e-2"
    when = timezone.localtime(outage.start).strftime("%a %H:%M")
    own = true10 if true_rate else mean10
    needed, delays, notes = [], [], []
    for alpha in alphas:
        needed.append(
            next(k for k in range(LEAST, 500) if score(k, own, 10, windows, rule) <= alpha)
        )
        raised = world.replay(candidates(seed, *variant), alpha)
        delay = world.result(raised)[0][outage.id]
        delays.append("missed" if delay is None else f"{delay:.0f}")
        before = [r for r in raised if r["key"] == key and r["at"] <= outage.start]
        if delay is None and before:
            # The cooldown: a warning about the topic shortly before the outage held it back.
            notes.append(
                f" (a={alpha:g}: held back by a warning raised "
                f"{timezone.localtime(before[-1]['at']):%a %H:%M}, "
                f"{'the outage' if before[-1]['truth'] else 'a false alert'})"
            )
    print(
        f"  seed {seed:>2} {outage.id} {outage.topic:<24}{when:<10}{asked:>2} asked,{counted:>2}"
        f" counted in 10 min; expected in 10 min: true {true10:.3f}, mean {mean10:.3f}; "
        f"least {'1/LR' if rule == 'lr' else 'p'} {p}; needed {'/'.join(map(str, needed))}; "
        f"delay {'/'.join(delays)} min{''.join(notes)}"
    )


def late(seeds, variant, alpha):
    """(seed, outage id) of the reachable outages not raised within 10 minutes."""
    out = []
    for seed in seeds:
        world = oracle(seed)
        delays, _false, reach, _f, _r = world.result(
            world.replay(candidates(seed, *variant), alpha)
        )
        for outage in world.outages:
            d = delays[outage.id]
            if reach[outage.id] and (d is None or d > bench.GOAL_MINUTES):
                out.append((seed, outage.id))
    return out


def false_kinds(seeds, variant, alpha):
    """The false alerts of the evaluated month by the kind of topic raised."""
    kinds = {"problem": 0, "gold": 0, "one-off": 0}
    for seed in seeds:
        world = oracle(seed)
        for record in world.replay(candidates(seed, *variant), alpha):
            if record["truth"] or record["at"] < world.world.eval_start:
                continue
            source = world.topics[record["key"]]["source"]
            kinds[{"_gold": "gold", "_oneoff": "one-off"}.get(source, "problem")] += 1
    return ", ".join(f"{n} {kind}" for kind, n in kinds.items())


def print_misses(seeds, variant, alpha, label):
    """One chosen alpha's false alerts by kind, then the oracle's view of each reachable
    outage it raised late."""
    print(f"  {label} false alerts {false_kinds(seeds, variant, alpha)}; reachable outages late:")
    for seed, outage_id in late(seeds, variant, alpha):
        view(seed, outage_id, (alpha,), variant)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tune", action="store_true", help="the sweep on the tuning seeds only")
    parser.add_argument(
        "--view", nargs="+", metavar="SEED:OUTAGE", help="the oracle's view of these outages"
    )
    args = parser.parse_args()
    clock = time.perf_counter()
    if args.view:
        alphas = (5e-5, 3e-4)
        print(f"The oracle's view at +10 minutes (true rate, 10/20, all topics; alphas {alphas}):")
        for spec in args.view:
            seed, outage_id = spec.split(":")
            view(int(seed), outage_id, alphas)
        print(f"\n({time.perf_counter() - clock:.0f} s)")
        return
    print(f"Tuning seeds {TUNING} (in-sample): the sweep")
    print(bench.HEADER)
    chosen = []
    for variant in VARIANTS:
        rows = sweep(TUNING, variant)
        for limit in LIMITS:
            chosen.append((variant, limit, choose(rows, limit)))
    print("\nChosen on the tuning seeds: the largest alpha at or under the limit")
    for variant, limit, alpha in chosen:
        if alpha is None:
            print(f"  {variant_label(*variant)}, <= {limit:g} false/wk: none")
            continue
        print_misses(
            TUNING,
            variant,
            alpha,
            f"{variant_label(*variant)}, <= {limit:g} false/wk: a={alpha:g};",
        )
    if args.tune:
        print(f"\n({time.perf_counter() - clock:.0f} s)")
        return
    print(f"\nHeld out: seeds {' '.join(map(str, HELD))} ({len(HELD)} seeds)")
    print(bench.HEADER)
    for variant, _limit, alpha in chosen:
        if alpha is None:
            continue
        s = bench.summary(results(HELD, variant, alpha))
        bench.print_summary(f"{variant_label(*variant)} a={alpha:g}", s)
    print("\nHeld out, the false alerts by kind and the reachable outages late:")
    for variant, limit, alpha in chosen:
        if alpha is None:
            continue
        label = f"{variant_label(*variant)} a={alpha:g} (<= {limit:g}/wk on tuning):"
        print_misses(HELD, variant, alpha, label)
    print(f"\n({time.perf_counter() - clock:.0f} s)")


if __name__ == "__main__":
    main()
