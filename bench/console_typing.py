"""How many searches the operator console sends while a question is typed, per pause setting.

    .venv/bin/python bench/console_typing.py [--questions 500] [--latency 60] [--seed 7]

A simulation of static/js/console.js's request logic, not a measurement of operators: each
question of the load test's honest pool (bench/query_pool.py) is typed one character at a
time; after each keystroke the console waits PAUSE ms and searches when no key came
meanwhile; one search at a time is on the wire, and when it answers only the newest text is
sent (the texts whose pause ended while it ran are never asked). The server answers in
--latency ms. Printed per pause: searches per question, searches per typed character, and
the time from the last keystroke to the whole question's results (the feel).

The typing model (an assumption, stated): each simulated operator has a mean inter-key
interval drawn from a normal distribution with mean 239 ms and standard deviation 112 ms
(clipped to 100..700 ms; the mean and spread across typists reported by Dhakal et al.,
"Observations on Typing from 136 Million Keystrokes", CHI 2018); their keystrokes are
log-normal around it (coefficient of variation 0.5), and after a word they pause 2x as long
on average (looking at the screen, listening to the caller). Other typing yields other
numbers; the comparison between pauses is what this is for.
"""

import argparse
import random
import statistics

from query_pool import build_pool

PAUSES_MS = [150, 200, 250, 300, 400]
MIN_CHARS = 2  # the console searches from two characters on
CONSOLE_PAUSE_MS = 250  # static/js/console.js PAUSE_MS


def keystrokes(text, rng):
    """[(time ms, text typed so far)] for one question typed by one simulated operator."""
    mean = min(700.0, max(100.0, rng.gauss(239.0, 112.0)))
    sigma = 0.47  # log-normal with a coefficient of variation of 0.5
    mu_shift = -(sigma**2) / 2
    now, out = 0.0, []
    for i in range(1, len(text) + 1):
        factor = 2.0 if i > 1 and text[i - 2] == " " else 1.0
        now += factor * mean * rng.lognormvariate(mu_shift, sigma)
        out.append((now, text[:i]))
    return out


def pause_ends(keys, pause_after):
    """[(time ms, trimmed text)]: the pauses after a keystroke that ended with no keystroke
    meanwhile, i.e. when the console's timer runs its search (before the two-character
    check). `pause_after(text)`: the pause after a keystroke that left `text` in the box."""
    ends = []
    for (t, text), nxt in zip(keys, keys[1:] + [(float("inf"), None)], strict=True):
        pause = pause_after(text)
        if nxt[0] > t + pause:
            ends.append((t + pause, text.strip()))
    return ends


def simulate(keys, pause_after, latency, skip_shown):
    """(searches sent, ms from the last keystroke to the whole question's results).

    `pause_after(text)`: the pause after a keystroke that left `text` in the box; a search
    is for the trimmed text. `skip_shown`: a text whose results are already listed (or on
    the wire) is not asked again ("printer" then a space); otherwise only the one on the
    wire is skipped, as before this change."""
    # (time, text): pauses that ended with no keystroke meanwhile
    fires = [(t, text) for t, text in pause_ends(keys, pause_after) if len(text) >= MIN_CHARS]
    whole = keys[-1][1].strip()
    sent, busy_until, queued, shown, on_wire, done_at = 0, 0.0, None, None, None, None
    i = 0
    # Walk the fires in time; a fire during a search waits for it, a newer fire replaces it.
    while i < len(fires) or queued is not None:
        next_fire = fires[i][0] if i < len(fires) else float("inf")
        if queued is not None and busy_until <= next_fire:
            start, text = busy_until, queued
            queued = None
            shown, on_wire = on_wire, None
        else:
            start, text = fires[i]
            i += 1
            if start >= busy_until and on_wire is not None:
                shown, on_wire = on_wire, None
            if text == on_wire or (skip_shown and text == shown):
                continue
            if start < busy_until:
                queued = text  # waits; a newer pause ending replaces it
                continue
        sent += 1
        on_wire = text
        busy_until = start + latency
        if text == whole:
            done_at = busy_until
    if done_at is None:  # the whole question was already listed
        done_at = keys[-1][0]
    return sent, done_at - keys[-1][0]


POLICIES = [
    ("before: 150 ms after every key", lambda text: 150, False),
    ("250 ms after every key", lambda text: 250, True),
    ("300 ms after every key", lambda text: 300, True),
    ("150 ms after a word, 400 ms mid-word", lambda text: 150 if text.endswith(" ") else 400, True),
    ("150 ms after a word, 500 ms mid-word", lambda text: 150 if text.endswith(" ") else 500, True),
    ("150 ms after a word, 600 ms mid-word", lambda text: 150 if text.endswith(" ") else 600, True),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=500)
    parser.add_argument("--latency", type=float, default=60.0, help="server answer, ms")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    pool = [q["query"] for q in build_pool()[: args.questions]]
    rng = random.Random(args.seed)
    typed = [keystrokes(text, rng) for text in pool]
    chars = sum(len(text) for text in pool)
    print(
        f"# console searches while typing (simulation; {len(pool)} pool questions, "
        f"{chars / len(pool):.0f} characters on average; server answers in {args.latency:g} ms)"
    )
    print(
        f"{'console':40} {'searches/question':>17} {'per char':>8} {'whole question listed after last key, ms p50 / p95':>52}"
    )
    for name, pause_after, skip_shown in POLICIES:
        runs = [simulate(keys, pause_after, args.latency, skip_shown) for keys in typed]
        sent = [s for s, _ in runs]
        delays = sorted(d for _, d in runs)
        p95 = delays[int(0.95 * (len(delays) - 1))]
        print(
            f"{name:40} {statistics.mean(sent):17.1f} {sum(sent) / chars:8.2f} "
            f"{statistics.median(delays):44.0f} / {p95:.0f}"
        )


if __name__ == "__main__":
    main()
