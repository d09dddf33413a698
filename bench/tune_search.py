"""Choose fusion weights, lexical normalisation and the no-good-match threshold by measurement.

Retrieves dense and lexical candidates once per gold query (through search.service.gather,
the production path), then replays search.service.rank over a grid of parameters.

    python bench/tune_search.py ../shared/eval/banking77.gold.jsonl search/eval/demo_gold.jsonl

Needs the articles of each gold file imported and indexed in the dev database.
"""

import argparse
import sys

from _django import setup

setup()

import numpy as np  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402

from articles.models import SolutionArticlePage  # noqa: E402
from search import service  # noqa: E402
from search.evaluation import auroc, read_gold  # noqa: E402


def collect(path, user, channel):
    rows = []
    for q in read_gold(path):
        try:
            text = service.clean_query(q.query)
        except service.InvalidQuery:
            continue
        c = service.gather(text, user=user, channel=channel, locale=q.locale)
        rows.append((q, c))
    ext = dict(SolutionArticlePage.objects.values_list("pk", "external_id"))
    return rows, ext


def score(rows, ext, params):
    mrr = hit1 = hit3 = n = 0
    conf_pos, conf_neg = [], []
    for q, c in rows:
        ranked = service.rank(c, params)
        conf = service.confidence_of(c, ranked)
        if not q.relevant:
            conf_neg.append(conf)
            continue
        conf_pos.append(conf)
        n += 1
        ids = [ext.get(pid) for pid, _, _ in ranked[:10]]
        r = next((i for i, e in enumerate(ids, 1) if e in q.relevant), None)
        if r:
            mrr += 1 / r
            hit1 += r == 1
            hit3 += r <= 3
    n = max(n, 1)
    return {
        "mrr": 100 * mrr / n,
        "hit1": 100 * hit1 / n,
        "hit3": 100 * hit3 / n,
        "auroc": auroc(conf_pos, conf_neg),
        "pos": conf_pos,
        "neg": conf_neg,
    }


def best_threshold(pos, neg):
    """Threshold maximising balanced accuracy (answerable kept, unanswerable flagged)."""
    if not pos or not neg:
        return None, None
    best = (0.0, None)
    for t in np.linspace(0.2, 0.8, 61):
        tpr = np.mean(np.asarray(neg) < t)
        tnr = np.mean(np.asarray(pos) >= t)
        bal = (tpr + tnr) / 2
        if bal > best[0]:
            best = (bal, round(float(t), 3))
    return best[1], 100 * best[0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("gold", nargs="+")
    parser.add_argument("--channel", default="operator")
    args = parser.parse_args()
    user = get_user_model().objects.filter(is_superuser=True).first()
    datasets = {}
    for path in args.gold:
        print(f"retrieving candidates for {path} ...", file=sys.stderr)
        datasets[path] = collect(path, user, args.channel)
    grid = [(w, norm) for norm in ("max", "rrf") for w in np.round(np.arange(0.0, 1.01, 0.1), 2)]
    print(
        f"{'norm':5} {'dense w':>7} "
        + " ".join(f"{p.split('/')[-1][:18]:>18}" for p in args.gold)
        + "   (MRR@10 / Hit@1)"
    )
    results = {}
    for w, norm in grid:
        params = service.RankingParams(float(w), float(1 - w), norm, 0.9)
        cells = []
        for path, (rows, ext) in datasets.items():
            m = score(rows, ext, params)
            results[(w, norm, path)] = m
            cells.append(f"{m['mrr']:8.1f} / {m['hit1']:5.1f}")
        print(f"{norm:5} {w:7.1f} " + " ".join(f"{c:>18}" for c in cells))
    # Best setting = highest mean MRR over the datasets.
    best = max(grid, key=lambda g: np.mean([results[(g[0], g[1], p)]["mrr"] for p in args.gold]))
    print(
        f"\nbest by mean MRR@10: lexical_norm={best[1]} dense_weight={best[0]:.1f} "
        f"lexical_weight={1 - best[0]:.1f}"
    )
    for path in args.gold:
        m = results[(best[0], best[1], path)]
        dense, lexical = results[(1.0, "max", path)], results[(0.0, "max", path)]
        print(
            f"  {path}: hybrid MRR {m['mrr']:.1f} Hit@1 {m['hit1']:.1f} | dense MRR {dense['mrr']:.1f} "
            f"Hit@1 {dense['hit1']:.1f} | lexical MRR {lexical['mrr']:.1f} Hit@1 {lexical['hit1']:.1f}"
        )
        if m["neg"]:
            t, bal = best_threshold(m["pos"], m["neg"])
            print(
                f"    confidence AUROC {m['auroc']:.3f}; best no-good-match threshold {t} "
                f"(balanced accuracy {bal:.1f}%)"
            )


if __name__ == "__main__":
    main()
