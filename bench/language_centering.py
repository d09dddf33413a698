"""Does removing each language's mean vector help the multilingual model match across
languages? (issue 13, session 7: the German -> English misses are neighbouring intents, and
a Dutch or French question prefers a same-language article over an English-only answer.)

Multilingual encoders put a language-identity component into every vector (Libovicky et
al. 2020, "On the language neutrality of pre-trained multilingual representations"):
subtracting the mean vector of each language is the known cheap fix. Dense only, e5 alone,
with the chunk vectors stored in the dev database (production's: both e5 roles mixed), each
article ranked by (1 - g) * its best chunk + g * the mean of its best 3 (g = production's
KB_DENSE_TOP_CHUNKS_SHARE), over all its language versions:

    python bench/language_centering.py search/eval/demo_gold.jsonl \
        ../shared/eval/crosslingual_de.gold.jsonl ../shared/eval/crosslingual_en.gold.jsonl

Variants: none (production's vectors); "global" (one mean over all chunks, from both sides);
"language" (each chunk minus the mean of the chunks in its locale; each query minus the
mean of the TUNE-half queries of its language: German has no chunks). Halves as
bench/tune_search.py; the means use chunks and tune-half queries only.
"""

import argparse
from collections import defaultdict
from pathlib import Path

from _django import setup

setup()

import numpy as np  # noqa: E402

from articles.models import SolutionArticlePage  # noqa: E402
from embeddings.encoder import E5_Q4_ID, get_encoder  # noqa: E402
from embeddings.models import Chunk  # noqa: E402
from insights.learning import LEARNED_KIND  # noqa: E402
from search import service  # noqa: E402
from search.evaluation import auroc, read_gold  # noqa: E402


def unit(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("gold", nargs="+")
    parser.add_argument("--share", type=float, default=service.top_chunks_share(E5_Q4_ID))
    args = parser.parse_args()
    rows = list(
        Chunk.objects.filter(model_id=E5_Q4_ID, page__live=True)
        .exclude(kind=LEARNED_KIND)
        .values_list("page_id", "locale__language_code", "vector", "dimension")
    )
    chunks = np.stack([Chunk.decode(r[2]) for r in rows]).astype("float32")
    chunk_lang = np.array([r[1] for r in rows])
    ext = dict(SolutionArticlePage.objects.values_list("pk", "external_id"))
    article = np.array([ext[r[0]] for r in rows])
    names = sorted(set(article))
    members = {name: np.flatnonzero(article == name) for name in names}

    queries = []  # (file, lang, half, text, relevant)
    for path in args.gold:
        name = Path(path).name.removesuffix(".jsonl")
        for number, q in enumerate(read_gold(path)):
            half = q.split or ("tune" if number % 2 == 0 else "test")
            queries.append((name, q.locale, half, q.query, q.relevant))
    encoder = get_encoder(E5_Q4_ID)
    qv = np.stack([encoder.encode_query(q[3]) for q in queries]).astype("float32")
    q_lang = np.array([q[1] for q in queries])
    tune = np.array([q[2] == "tune" for q in queries])

    def variant(kind):
        if kind == "none":
            return qv, chunks
        if kind == "global":
            mean = chunks.mean(axis=0)
            return unit(qv - mean), unit(chunks - mean)
        c = chunks.copy()
        for lang in set(chunk_lang):
            c[chunk_lang == lang] -= chunks[chunk_lang == lang].mean(axis=0)
        q = qv.copy()
        for lang in set(q_lang):
            q[q_lang == lang] -= qv[(q_lang == lang) & tune].mean(axis=0)
        return unit(q), unit(c)

    g = args.share
    print(f"article score: (1 - {g}) * best chunk + {g} * mean of best 3, all versions")
    results = {}
    for kind in ("none", "global", "language"):
        q, c = variant(kind)
        sims = q @ c.T
        scores = np.zeros((len(queries), len(names)), "float32")
        for j, name in enumerate(names):
            s = np.sort(sims[:, members[name]], axis=1)[:, ::-1][:, :3]
            if s.shape[1] < 3:
                s = np.concatenate([s, np.repeat(s[:, -1:], 3 - s.shape[1], axis=1)], axis=1)
            scores[:, j] = (1 - g) * s[:, 0] + g * s.mean(axis=1)
        order = np.argsort(-scores, axis=1)
        for i, (f, lang, half, _text, relevant) in enumerate(queries):
            key = (f, lang, half)
            top = names[order[i, 0]]
            entry = results.setdefault((kind, key), {"hit": [], "pos": [], "neg": []})
            conf = float(scores[i, order[i, 0]])
            if relevant:
                entry["hit"].append(top in relevant)
                entry["pos"].append(conf)
            else:
                entry["neg"].append(conf)
    keys = sorted({k for _kind, k in results}, key=lambda k: (k[2] != "tune", k[0], k[1]))
    print(f"{'set':<40} {'none':>16} {'global':>16} {'language':>16}   (Hit@1 / AUROC)")
    for key in keys:
        cells = []
        for kind in ("none", "global", "language"):
            e = results[(kind, key)]
            a = auroc(e["pos"], e["neg"])
            cells.append(f"{100 * np.mean(e['hit']):5.1f}" + (f" / {a:.3f}" if a else "        "))
        label = f"{key[0]}[{key[1]}] {key[2]} (n={len(results[('none', key)]['hit'])})"
        print(f"{label:<40} " + " ".join(f"{c:>16}" for c in cells))
    by_lang = defaultdict(int)
    for lang in q_lang:
        by_lang[lang] += 1
    print("queries per language:", dict(by_lang))


if __name__ == "__main__":
    main()
