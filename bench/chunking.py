"""Measure chunking strategies on a kb-jsonl + gold pair: dense-only ranking by best chunk.

    python bench/chunking.py ../shared/eval/banking77.articles.jsonl ../shared/eval/banking77.gold.jsonl

Uses articles.indexing.chunk_article (the production chunker) on in-memory articles.
"""

import argparse
import json
import time
from types import SimpleNamespace

from _django import setup

setup()

import numpy as np  # noqa: E402

from articles.indexing import chunk_article  # noqa: E402
from embeddings.chunking import STRATEGIES  # noqa: E402
from embeddings.encoder import get_encoder, model_for_language  # noqa: E402
from search.evaluation import read_gold  # noqa: E402


def load_articles(path):
    articles = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            phrasings = [p.strip() for p in (r.get("issue") or "").splitlines() if p.strip()]
            articles.append(
                SimpleNamespace(
                    external_id=r["external_id"],
                    title=r["title"],
                    issue_phrasings=phrasings,
                    cause="",
                    resolution=[],
                )
            )
    return articles


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("articles")
    parser.add_argument("gold")
    args = parser.parse_args()
    encoder = get_encoder(model_for_language("en"))
    articles = load_articles(args.articles)
    gold = [q for q in read_gold(args.gold) if q.relevant]
    query_vectors = encoder.encode_queries([q.query for q in gold])
    print(f"{len(articles)} articles, {len(gold)} queries, model {encoder.model_id}")
    print(f"{'strategy':24} {'chunks':>7} {'Hit@1':>6} {'Hit@3':>6} {'MRR@10':>7} {'encode s':>9}")
    variants = [(s, True) for s in STRATEGIES] + [("phrasings", False)]
    for strategy, prefix in variants:
        owners, texts = [], []
        for a in articles:
            for spec in chunk_article(a, strategy=strategy, prefix_title=prefix):
                owners.append(a.external_id)
                texts.append(spec.text)
        started = time.perf_counter()
        vectors = encoder.encode_passages(texts)
        seconds = time.perf_counter() - started
        sims = query_vectors @ vectors.T
        owners_arr = np.asarray(owners)
        ids = sorted(set(owners))
        best = np.stack([sims[:, owners_arr == e].max(axis=1) for e in ids], axis=1)
        order = np.argsort(-best, axis=1)[:, :10]
        hit1 = hit3 = mrr = 0
        for qi, q in enumerate(gold):
            ranked = [ids[j] for j in order[qi]]
            r = next((i for i, e in enumerate(ranked, 1) if e in q.relevant), None)
            if r:
                mrr += 1 / r
                hit1 += r == 1
                hit3 += r <= 3
        n = len(gold)
        label = strategy + ("" if prefix else " (no title)")
        print(
            f"{label:24} {len(texts):>7} {100 * hit1 / n:6.1f} {100 * hit3 / n:6.1f} "
            f"{100 * mrr / n:7.1f} {seconds:9.1f}"
        )


if __name__ == "__main__":
    main()
