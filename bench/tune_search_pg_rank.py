"""bench/tune_search.py with another PostgreSQL full-text rank than production's, to compare
them (docs/search-quality.md, "PostgreSQL"):

    python bench/tune_search_pg_rank.py ts_rank search/eval/demo_gold.jsonl \\
        --database-url postgres://kb:kb@127.0.0.1:5432/kb_NAME

ts_rank: every word alike (Wagtail's order, before); idf-wagtail / idf-uniform: each word's
rank weighted by its BM25 idf, with Wagtail's field weights or every field alike
(search/lexical.py POSTGRES_IDF, POSTGRES_FIELD_WEIGHTS).
"""

import sys
from pathlib import Path

RANKS = {
    "ts_rank": (False, "wagtail"),
    "idf-wagtail": (True, "wagtail"),
    "idf-uniform": (True, "uniform"),
}

if len(sys.argv) < 2 or sys.argv[1] not in RANKS:
    raise SystemExit(f"usage: {sys.argv[0]} {{{','.join(RANKS)}}} TUNE_SEARCH_ARGS...")
idf, weights = RANKS[sys.argv.pop(1)]
sys.path.insert(0, str(Path(__file__).resolve().parent))

import tune_search  # noqa: E402  (sets Django up with --database-url)

from search import lexical  # noqa: E402

lexical.POSTGRES_IDF, lexical.POSTGRES_FIELD_WEIGHTS = idf, weights
print(f"PostgreSQL rank: idf={idf}, field weights {weights}")
tune_search.main()
