"""How well does a question match the demo known problems by meaning, per embedding model?
Prints the best similarity of questions about the problems (positives) and of the 170 demo
gold questions plus the other demo gap topics (negatives), per language, and the errors at
thresholds, for each configured model (the matcher reuses the vector of the model that
served the search, so each model needs its own threshold).

Honest split: the questions are split in two halves (alternately, per language and kind);
the threshold is chosen on the tune half (fewest missed + false matches, ties to the
higher threshold) and its errors are reported on the test half. The whole-set table is
in-sample. Error codes ("E-301") match on their own in matching.py; the positives here are
run with the code removed, to show what meaning alone does.

    python bench/known_problem_threshold.py
"""

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _django  # noqa: E402

_django.setup()

import numpy as np  # noqa: E402

from embeddings.encoder import get_encoder, model_ids  # noqa: E402
from incidents import demo  # noqa: E402
from incidents.matching import DEFAULT_THRESHOLDS, problem_texts  # noqa: E402
from incidents.models import KnownProblem  # noqa: E402
from search.demo.events import UNANSWERED  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# Questions about the E-301 outage (the demo gap topic's phrasings and a few more).
POSITIVES = {
    "en": UNANSWERED["tv-decoder-error"]["en"]
    + [
        "my tv box shows an error and the screen is black",
        "no tv channels at all since this morning",
    ],
    "nl": UNANSWERED["tv-decoder-error"]["nl"]
    + [
        "mijn tv-box geeft een foutmelding en het scherm blijft zwart",
        "geen enkele tv-zender sinds vanmorgen",
    ],
    "fr": UNANSWERED["tv-decoder-error"]["fr"]
    + [
        "ma box TV affiche une erreur et l'écran reste noir",
        "plus aucune chaîne télé depuis ce matin",
    ],
}
CODE = re.compile(r",?\s*(code|foutcode|erreur|error)?\s*E-301", re.IGNORECASE)


def negatives():
    rows = []
    for line in (ROOT / "search/eval/demo_gold.jsonl").read_text().splitlines():
        record = json.loads(line)
        rows.append((record["locale"], record["query"]))
    for slug, topic in UNANSWERED.items():
        if slug == "tv-decoder-error":
            continue
        for code in ("en", "nl", "fr"):
            rows += [(code, q) for q in topic.get(code, [])]
    return rows


CANDIDATES = [round(0.40 + 0.01 * i, 2) for i in range(56)]  # 0.40 .. 0.95


def errors(threshold, positives, negatives):
    return sum(s < threshold for s in positives), sum(s >= threshold for s in negatives)


def choose(positives, negatives):
    """The threshold with the fewest missed + false matches (ties: the higher one)."""
    return min(CANDIDATES, key=lambda t: (sum(errors(t, positives, negatives)), -t))


def measure(encoder):
    problems = [
        KnownProblem(**{k: v for k, v in d.items() if not k.startswith("_")})
        for d in (demo.E301, demo.INTERNAL, *demo.RESOLVED)
    ]
    owners, texts = [], []
    for index, problem in enumerate(problems):
        rows = problem_texts(problem)
        owners += [index] * len(rows)
        texts += rows
    matrix = encoder.encode_passages(texts)
    owners = np.array(owners)

    def best(query, target=0):
        sims = matrix @ encoder.encode_query(query)
        return float(sims[owners == target].max()), float(sims.max())

    print(f"model: {encoder.model_id}")
    print(f"{'lang':4} {'kind':22} {'n':>4} {'min':>6} {'median':>7} {'max':>6}")
    halves = {"tune": ([], []), "test": ([], [])}
    pos_nocode, neg_scores = [], []
    for code, queries in POSITIVES.items():
        scores = [best(q)[0] for q in queries]
        stripped = [best(CODE.sub("", q).strip() or q)[0] for q in queries]
        pos_nocode += stripped
        for i, value in enumerate(stripped):
            halves["tune" if i % 2 == 0 else "test"][0].append(value)
        for kind, values in (("E-301 questions", scores), ("same, code removed", stripped)):
            print(
                f"{code:4} {kind:22} {len(values):>4} {min(values):6.3f} {np.median(values):7.3f} {max(values):6.3f}"
            )
    by_lang = {}
    for code, query in negatives():
        # A negative must not reach ANY demo problem.
        by_lang.setdefault(code, []).append(best(query)[1])
    for code, values in sorted(by_lang.items()):
        neg_scores += values
        for i, value in enumerate(values):
            halves["tune" if i % 2 == 0 else "test"][1].append(value)
        print(
            f"{code:4} {'other questions':22} {len(values):>4} {min(values):6.3f} {np.median(values):7.3f} {max(values):6.3f}"
        )
    print()
    print(
        f"{'threshold':>9} {'missed E-301 (meaning only)':>28} {'false matches':>14}  (all, in-sample)"
    )
    configured = DEFAULT_THRESHOLDS.get(encoder.model_id)
    shown = sorted({0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85} | {configured or 0.6})
    for threshold in shown:
        missed, false = errors(threshold, pos_nocode, neg_scores)
        mark = "  <- incidents/matching.py" if threshold == configured else ""
        print(
            f"{threshold:9.2f} {missed:>20}/{len(pos_nocode):<7} {false:>8}/{len(neg_scores)}{mark}"
        )
    tune_pos, tune_neg = halves["tune"]
    test_pos, test_neg = halves["test"]
    chosen = choose(tune_pos, tune_neg)
    missed, false = errors(chosen, test_pos, test_neg)
    t_missed, t_false = errors(chosen, tune_pos, tune_neg)
    print(
        f"split: chosen on the tune half {chosen:.2f} (tune: missed {t_missed}/{len(tune_pos)}, "
        f"false {t_false}/{len(tune_neg)}); test half: missed {missed}/{len(test_pos)}, "
        f"false {false}/{len(test_neg)}"
    )
    if configured is not None:
        missed, false = errors(configured, test_pos, test_neg)
        print(
            f"configured {configured:.2f} on the test half: missed {missed}/{len(test_pos)}, "
            f"false {false}/{len(test_neg)}"
        )
    print()


def main():
    for model_id in model_ids():
        measure(get_encoder(model_id))


if __name__ == "__main__":
    main()
