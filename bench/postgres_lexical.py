"""Full-text (lexical only) ranking on PostgreSQL against SQLite, on the demo gold.

PostgreSQL's ts_rank has no word rarity (idf); search/lexical.py weights each word's rank by
its BM25 idf. This script compares, lexical only (the full-text query production sends: the
question's content words and their Snowball stem prefixes, operator channel), Hit@1 and
MRR@10 per query language:

    ts_rank (before)       every word alike, Wagtail's field weights: the old order
    idf, wagtail weights   each word's rank × its idf, Wagtail's field weights (D ~ 1 % of A)
    idf, uniform weights   the same, every field alike (as SQLite's bm25() counts them)

On SQLite it prints the one ranking there is (FTS5 bm25). Choose on the TUNE half (pooled
MRR@10 over en, nl, fr; with --hybrid, the hybrid rows); the TEST half is printed after.
`--hybrid` adds each variant's hybrid search with production's weights and thresholds
(search/service.py DEFAULTS), Hit@1 and no-good-match AUROC per language, both halves.

    python bench/postgres_lexical.py search/eval/demo_gold.jsonl \\
        --database-url postgres://kb:kb@127.0.0.1:5432/kb_NAME
    python bench/postgres_lexical.py search/eval/demo_gold.jsonl  # the SQLite dev database

Needs the gold file's articles imported and indexed in that database (`migrate`, then
`load_initial_data` with the same DATABASE_URL).
"""

import argparse
import os
from pathlib import Path
from urllib.parse import urlparse

from _django import ROOT, setup

_database = argparse.ArgumentParser(add_help=False)
_database.add_argument("--database-url")
_url = _database.parse_known_args()[0].database_url
if _url:
    os.environ["DATABASE_URL"] = _url
    _name = Path(urlparse(_url).path).stem or "db"
    os.environ.setdefault("KB_VECTOR_INDEX_DIR", str(ROOT / "var" / f"vector_index-{_name}"))

setup()

import numpy as np  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402

from articles.models import SolutionArticlePage  # noqa: E402
from search import lexical, service  # noqa: E402
from search.evaluation import auroc, read_gold  # noqa: E402
from search.stopwords import stem_prefixes  # noqa: E402

POSTGRES_VARIANTS = {
    "ts_rank (before)": {"idf": False, "field_weights": "wagtail"},
    "idf, wagtail weights": {"idf": True, "field_weights": "wagtail"},
    "idf, uniform weights": {"idf": True, "field_weights": "uniform"},
}


def metrics(queries, ext, scope, variant):
    out = {}
    for lang in sorted({q.locale for q in queries}):
        mrr = hit1 = n = 0
        for q in queries:
            if q.locale != lang or not q.relevant:
                continue
            try:
                text = service.clean_query(q.query)
            except service.InvalidQuery:
                continue
            terms = service.lexical_terms(text, q.locale)
            prefixes = stem_prefixes(terms, q.locale)
            found = lexical.ranked_pages(terms, scope, 10, prefixes, **variant) or {}
            ids = [ext.get(pid) for pid in found]
            rank = next((i for i, e in enumerate(ids, 1) if e in q.relevant), None)
            n += 1
            if rank:
                mrr += 1 / rank
                hit1 += rank == 1
        out[lang] = (100 * mrr / max(n, 1), 100 * hit1 / max(n, 1), n)
    return out


def hybrid(queries, ext, user, variant):
    """Hybrid with production's settings (search/service.py DEFAULTS), per query language:
    (Hit@1, no-good-match AUROC, answerable n)."""
    previous = lexical.POSTGRES_IDF, lexical.POSTGRES_FIELD_WEIGHTS
    lexical.POSTGRES_IDF = variant.get("idf", previous[0])
    lexical.POSTGRES_FIELD_WEIGHTS = variant.get("field_weights", previous[1])
    try:
        out = {}
        for lang in sorted({q.locale for q in queries}):
            hit1, pos, neg = 0, [], []
            for q in queries:
                if q.locale != lang:
                    continue
                c = service.gather(
                    service.clean_query(q.query), user=user, channel="operator", locale=lang
                )
                ranked = service.rank(c, service.RankingParams.for_mode("hybrid", lang))
                conf = service.confidence_of(c, ranked)
                if not q.relevant:
                    neg.append(conf)
                    continue
                pos.append(conf)
                hit1 += bool(ranked) and ext.get(ranked[0][0]) in q.relevant
            out[lang] = (100 * hit1 / max(len(pos), 1), auroc(pos, neg), len(pos))
        return out
    finally:
        lexical.POSTGRES_IDF, lexical.POSTGRES_FIELD_WEIGHTS = previous


def show_hybrid(name, m):
    cells = "  ".join(
        f"{lang} {hit1:5.1f} / {roc:.3f} (n={n})" for lang, (hit1, roc, n) in m.items()
    )
    print(f"  {name:<22} {cells}")


def show(name, m):
    cells = "  ".join(
        f"{lang} {mrr:5.1f} / {hit1:5.1f} (n={n})" for lang, (mrr, hit1, n) in m.items()
    )
    pooled = np.average([v[0] for v in m.values()], weights=[v[2] for v in m.values()])
    print(f"  {name:<22} {cells}  pooled MRR {pooled:.1f}")
    return pooled


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("gold")
    parser.add_argument("--database-url", help="dj-database-url form; default the dev database")
    parser.add_argument(
        "--hybrid",
        action="store_true",
        help="also hybrid search with production's weights and thresholds, per variant",
    )
    args = parser.parse_args()
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    user = get_user_model().objects.filter(is_superuser=True).first()
    _articles, scope, _allowed = service._articles_for(user, "operator", None)
    ext = dict(SolutionArticlePage.objects.values_list("pk", "external_id"))
    queries = read_gold(args.gold)
    tune = [q for q in queries if q.split == "tune"]
    test = [q for q in queries if q.split == "test"]
    variants = POSTGRES_VARIANTS if connection.vendor == "postgresql" else {"bm25 (FTS5)": {}}
    print("\nTUNE half, lexical only, MRR@10 / Hit@1 (choose here):")
    pooled = {name: show(name, metrics(tune, ext, scope, v)) for name, v in variants.items()}
    chosen = max(pooled, key=pooled.get)
    print(f"  -> best lexical-only on the tune half: {chosen}")
    print("\nTEST half (out-of-sample), lexical only, MRR@10 / Hit@1:")
    for name, v in variants.items():
        show(name + (" <- best on tune" if name == chosen else ""), metrics(test, ext, scope, v))
    if args.hybrid:
        for label, half in (("TUNE", tune), ("TEST", test)):
            print(f"\n{label} half, hybrid with production's settings, Hit@1 / AUROC:")
            for name, v in variants.items():
                show_hybrid(name, hybrid(half, ext, user, v))


if __name__ == "__main__":
    main()
