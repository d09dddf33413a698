"""Learning's similarity thresholds in the comparison model's space.

    python bench/learning_thresholds.py [--cache var/]

insights/learning.py compares customer wordings with the comparison model (multilingual e5:
a German wording must meet an English one). Its thresholds (merge near-duplicates, support
= a similar wording confirms, compete = a similar wording linked to another article) were
first set as all-MiniLM-L6-v2 cosines (0.92 / 0.5 / 0.6). e5 cosines sit much higher
(unrelated wordings ~0.83), so those values merge a quarter of all same-article pairs and
let every wording support and compete with every other. This prints, over all pairs of the
3,060 replayed banking77 wordings (training data; the gold queries are not used), the e5
cosine that selects the same share of pairs as each MiniLM threshold, and how many
same-article and different-article pairs each selects.
"""

import argparse
import json
from pathlib import Path

import numpy as np
from _django import setup, shared_eval_dir

EVAL = shared_eval_dir()


def encode(rows, cache):
    from embeddings.encoder import comparison_model_id, get_encoder
    from textutils.redaction import redact

    texts = [redact(r["query"])[:600].strip() for r in rows]  # as learning stores them
    out = {}
    for name, model_id in (("minilm", "all-MiniLM-L6-v2"), ("e5", comparison_model_id())):
        path = cache / f"{name}_replay.npy" if cache else None
        if path and path.exists():
            out[name] = np.load(path)
        else:
            out[name] = get_encoder(model_id).encode_queries(texts)
            if path:
                np.save(path, out[name])
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cache", type=Path, default=None, help="keep/reuse vectors here")
    args = parser.parse_args()
    setup()
    rows = [json.loads(line) for line in open(EVAL / "banking77.replay.jsonl", encoding="utf-8")]
    vectors = encode(rows, args.cache)
    articles = np.array([r["article"] for r in rows])
    upper = np.triu_indices(len(rows), 1)
    same = (articles[:, None] == articles[None, :])[upper]
    sims = {name: (v @ v.T)[upper] for name, v in vectors.items()}
    for name, s in sims.items():
        print(
            f"{name}: same-article pairs, quantiles 10/50/90 %: "
            f"{' / '.join(f'{q:.3f}' for q in np.quantile(s[same], [0.1, 0.5, 0.9]))}; "
            f"different articles 50/90/99 %: "
            f"{' / '.join(f'{q:.3f}' for q in np.quantile(s[~same], [0.5, 0.9, 0.99]))}"
        )
    print(
        f"{'MiniLM':>7} {'share of pairs':>14} {'e5 equivalent':>13} {'same (e5)':>9} {'diff (e5)':>9}"
    )
    for threshold in (0.5, 0.6, 0.92):
        share = float(np.mean(sims["minilm"] >= threshold))
        e5 = float(np.quantile(sims["e5"], 1 - share))
        chosen = sims["e5"] >= e5
        print(
            f"{threshold:>7} {share:>14.5f} {e5:>13.3f} {np.mean(chosen[same]):>9.3f} "
            f"{np.mean(chosen[~same]):>9.5f}"
        )


if __name__ == "__main__":
    main()
