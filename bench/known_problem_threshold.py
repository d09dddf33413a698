"""How well does a question match the demo known problems by meaning? Prints the best
similarity of questions about the problems (positives) and of the 170 demo gold questions
plus the other demo gap topics (negatives), per language, and the errors at thresholds.

In-sample: the threshold in incidents/matching.py was chosen on these same questions.
Error codes ("E-301") match on their own in matching.py; the positives here are also run
with the code removed, to show what meaning alone does.

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

from incidents import demo  # noqa: E402
from incidents.matching import matching_encoder, problem_texts  # noqa: E402
from incidents.models import KnownProblem  # noqa: E402
from search.demo_events import UNANSWERED  # noqa: E402

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


def main():
    encoder = matching_encoder()
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
    pos_scores, pos_nocode, neg_scores = [], [], []
    for code, queries in POSITIVES.items():
        scores = [best(q)[0] for q in queries]
        stripped = [best(CODE.sub("", q).strip() or q)[0] for q in queries]
        pos_scores += scores
        pos_nocode += stripped
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
        print(
            f"{code:4} {'other questions':22} {len(values):>4} {min(values):6.3f} {np.median(values):7.3f} {max(values):6.3f}"
        )
    print()
    print(f"{'threshold':>9} {'missed E-301 (meaning only)':>28} {'false matches':>14}")
    for threshold in (0.45, 0.5, 0.55, 0.6, 0.65, 0.7):
        missed = sum(s < threshold for s in pos_nocode)
        false = sum(s >= threshold for s in neg_scores)
        print(f"{threshold:9.2f} {missed:>20}/{len(pos_nocode):<7} {false:>8}/{len(neg_scores)}")


if __name__ == "__main__":
    main()
