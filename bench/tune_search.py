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
    # Split every gold set by query language: weights are chosen per language.
    subsets = {}
    for path in args.gold:
        print(f"retrieving candidates for {path} ...", file=sys.stderr)
        rows, ext = collect(path, user, args.channel)
        for locale in sorted({q.locale for q, _ in rows}):
            subsets[f"{path.split('/')[-1]}[{locale}]"] = (
                [r for r in rows if r[0].locale == locale],
                ext,
            )
    weights = [round(float(w), 2) for w in np.arange(0.0, 1.01, 0.1)]
    print(
        "MRR@10 / Hit@1 by dense weight (lexical = 1 - dense), max-normalised lexical, fallback factor 0.9"
    )
    print(f"{'dense w':>7} " + " ".join(f"{name[:24]:>24}" for name in subsets))
    table = {}
    for w in weights:
        cells = []
        for name, (rows, ext) in subsets.items():
            m = score(rows, ext, service.RankingParams(w, 1 - w, "max", 0.9))
            table[(name, w)] = m
            cells.append(f"{m['mrr']:9.1f} / {m['hit1']:5.1f}")
        print(f"{w:7.1f} " + " ".join(f"{c:>24}" for c in cells))
    rrf = {
        name: score(rows, ext, service.RankingParams(0.7, 0.3, "rrf", 0.9))["mrr"]
        for name, (rows, ext) in subsets.items()
    }
    print("rrf (0.7/0.3) MRR: " + ", ".join(f"{k} {v:.1f}" for k, v in rrf.items()))

    print("\nbest dense weight per query language (mean MRR over the subsets in that language):")
    chosen = {}
    for locale in sorted({name.rsplit("[", 1)[1].rstrip("]") for name in subsets}):
        names = [n for n in subsets if n.endswith(f"[{locale}]")]
        # Prefer the middle of a plateau: ties within 0.2 MRR go to the weight nearest 0.7.
        best_mrr = max(np.mean([table[(n, w)]["mrr"] for n in names]) for w in weights)
        plateau = [
            w for w in weights if np.mean([table[(n, w)]["mrr"] for n in names]) >= best_mrr - 0.2
        ]
        chosen[locale] = min(plateau, key=lambda w: abs(w - 0.7))
        print(f"  {locale}: dense weight {chosen[locale]:.1f} (plateau {plateau})")

    print("\nfallback factor (other-language versions), with the chosen weights:")
    for factor in (0.7, 0.8, 0.9, 1.0):
        mrrs = [
            score(
                rows,
                ext,
                service.RankingParams(
                    chosen[n.rsplit("[", 1)[1].rstrip("]")],
                    1 - chosen[n.rsplit("[", 1)[1].rstrip("]")],
                    "max",
                    factor,
                ),
            )["mrr"]
            for n, (rows, ext) in subsets.items()
        ]
        print(
            f"  {factor:.1f}: "
            + ", ".join(f"{n} {m:.1f}" for n, m in zip(subsets, mrrs, strict=True))
        )

    print("\nhybrid (chosen) vs dense-only vs lexical-only, and no-good-match separation:")
    for name, (rows, ext) in subsets.items():
        locale = name.rsplit("[", 1)[1].rstrip("]")
        m = score(rows, ext, service.RankingParams(chosen[locale], 1 - chosen[locale], "max", 0.9))
        d, lx = table[(name, 1.0)], table[(name, 0.0)]
        line = (
            f"  {name}: hybrid {m['mrr']:.1f}/{m['hit1']:.1f}  dense {d['mrr']:.1f}/{d['hit1']:.1f}  "
            f"lexical {lx['mrr']:.1f}/{lx['hit1']:.1f}"
        )
        if m["neg"]:
            t, bal = best_threshold(m["pos"], m["neg"])
            line += f"  AUROC {m['auroc']:.3f}, threshold {t} (balanced acc. {bal:.1f}%)"
        print(line)
    pos = [
        c
        for name, (rows, ext) in subsets.items()
        for c in score(rows, ext, service.RankingParams(0.7, 0.3, "max", 0.9))["pos"]
    ]
    neg = [
        c
        for name, (rows, ext) in subsets.items()
        for c in score(rows, ext, service.RankingParams(0.7, 0.3, "max", 0.9))["neg"]
    ]
    if neg:
        t, bal = best_threshold(pos, neg)
        print(
            f"\nall languages together: confidence AUROC {auroc(pos, neg):.3f}, "
            f"no-good-match threshold {t} (balanced accuracy {bal:.1f}%)"
        )


if __name__ == "__main__":
    main()
