"""End-to-end search latency with the real model, against Wagtail's database search as the peer.

    nice .venv/bin/python bench/search_latency.py
    nice .venv/bin/python bench/search_latency.py --sizes 10000,100000 --gold search/eval/demo_gold.jsonl

Works on a copy of var/db.sqlite3 in a temporary directory (the real database and
var/vector_index are never opened for writing).

  a. demo KB: GET /api/v1/search/?q=&locale= through django.test.Client as a superuser, each
     gold query once after a warm-up of 20 (query-vector cache cleared before every call, so
     encoding is included); the peer, SolutionArticlePage.objects.live().search(q, operator="or")
     with the first 10 results materialised, on the same queries in the same loop; and the
     encode + FAISS part alone (search.service.dense_candidates, cache cleared).
     Also timed per query: the lexical step alone, as the one direct query over Wagtail's
     index (search/lexical.py) and through Wagtail's `.search()` (the fallback path).
     Settings: kbsite.settings.bench (DEBUG off; KB_QUERY_THREADS from the environment).
  b. synthetic scale: clustered vectors added as Chunk rows to live public English pages until
     the English index holds about 10k and 100k chunks (embeddings.indexing.sync_locale brings
     FAISS in line), then the English queries again.
"""

import argparse
import os
import shutil

from _django import (  # noqa: E402
    ROOT,
    CpuWatch,
    copy_database,
    insert_synthetic_chunks,
    run_footer,
    run_header,
)

WORKDIR = copy_database("kb-search-bench-")

from _django import setup  # noqa: E402

setup("kbsite.settings.bench")  # DEBUG off, like production (no per-query log)

import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.test import Client  # noqa: E402
from wagtail.models import Locale  # noqa: E402

from articles.models import SolutionArticlePage  # noqa: E402
from embeddings import indexing  # noqa: E402
from embeddings.encoder import get_encoder, model_for_language  # noqa: E402
from embeddings.models import Chunk  # noqa: E402
from embeddings.store import index_kind, store_for  # noqa: E402
from embeddings.vectors import clear_query_cache, db_vectors, serving_index  # noqa: E402
from search import service  # noqa: E402
from search.evaluation import read_gold  # noqa: E402

WARMUP = 20


def pct(values, p):
    return float(np.percentile(np.asarray(values) * 1000.0, p))


def measure(queries, client, user, languages, warmup=WARMUP):
    """Per query, in one loop: encode+FAISS alone, service.search() alone, the API call, the
    Wagtail DB search (the query-vector cache is cleared before each of the first three)."""
    dense, inner, api, wagtail, lex_direct, lex_wagtail = [], [], [], [], [], []
    errors = 0
    watch = CpuWatch()
    _, lexical_scope, _ = service._articles_for(user, "operator", None)
    for i, q in enumerate([*queries[:warmup], *queries]):
        timed = i >= warmup
        started = time.perf_counter()
        service.lexical_candidates(q.query, lexical_scope, 50, q.locale)
        ld = time.perf_counter() - started
        started = time.perf_counter()
        service.lexical_candidates(q.query, lexical_scope, 50, q.locale, direct=False)
        lw = time.perf_counter() - started

        clear_query_cache()
        started = time.perf_counter()
        # The floor: the routed model's query encoding + exact FAISS over the same vectors.
        service.dense_candidates(
            service.clean_query(q.query), languages, 100, model_for_language(q.locale)
        )
        d = time.perf_counter() - started

        clear_query_cache()
        started = time.perf_counter()
        service.search(q.query, user=user, channel="operator", locale=q.locale)
        s = time.perf_counter() - started

        clear_query_cache()
        started = time.perf_counter()
        response = client.get("/api/v1/search/", {"q": q.query, "locale": q.locale})
        a = time.perf_counter() - started
        if response.status_code != 200:
            errors += 1

        started = time.perf_counter()
        try:
            list(SolutionArticlePage.objects.live().search(q.query, operator="or")[:10])
        except Exception:  # count it, keep the timing (a failing peer is still a cost)
            errors += 1
        w = time.perf_counter() - started
        if timed:
            dense.append(d)
            inner.append(s)
            api.append(a)
            wagtail.append(w)
            lex_direct.append(ld)
            lex_wagtail.append(lw)
    return {
        "lex_direct": lex_direct,
        "lex_wagtail": lex_wagtail,
        "dense": dense,
        "search": inner,
        "api": api,
        "wagtail": wagtail,
        "errors": errors,
        "n": len(queries),
        "other_cpu": watch.other(),
    }


def dense_check(queries, real_ids, k=10, pool=100):
    """The served English index against exact search over the DB vectors, for real queries:
    recall@k of chunk ids, and the share of synthetic chunks in the exact top-`pool`."""
    encoder = get_encoder(model_for_language("en"))
    loaded = serving_index("en", encoder.model_id)
    ids, vectors = db_vectors("en", encoder.model_id)
    q = encoder.encode_queries([x.query for x in queries])
    _, got = loaded.index.search(q, k)
    exact = ids[np.argsort(-(q @ vectors.T), axis=1)[:, :pool]]
    recall = np.mean([len(set(got[i]) & set(exact[i, :k])) / k for i in range(len(queries))])
    synthetic = np.mean([np.isin(row, real_ids, invert=True).mean() for row in exact])
    return {
        "recall": float(recall),
        "synthetic_top": float(synthetic),
        "kind": index_kind(loaded.index),
    }


def summarise(label, m, en_chunks, check):
    api, wagtail, dense, inner = m["api"], m["wagtail"], m["dense"], m["search"]
    beyond = 1 - sum(dense) / sum(api)
    search_share = (sum(inner) - sum(dense)) / sum(api)
    per_query_beyond = np.median([1 - d / a for d, a in zip(dense, api, strict=True)])
    return {
        "corpus": label,
        "en_chunks": en_chunks,
        "n": m["n"],
        "api": (pct(api, 50), pct(api, 95), pct(api, 99)),
        "wagtail": (pct(wagtail, 50), pct(wagtail, 95), pct(wagtail, 99)),
        "dense": (pct(dense, 50), pct(dense, 95), pct(dense, 99)),
        "search": (pct(inner, 50), pct(inner, 95), pct(inner, 99)),
        "lex_direct": tuple(pct(m["lex_direct"], p) for p in (50, 95, 99)),
        "lex_wagtail": tuple(pct(m["lex_wagtail"], p) for p in (50, 95, 99)),
        "search_share": search_share,
        "ratio_p50": pct(api, 50) / pct(wagtail, 50),
        "ratio_p95": pct(api, 95) / pct(wagtail, 95),
        "dense_share": 1 - beyond,
        "beyond": beyond,
        "beyond_median": float(per_query_beyond),
        "errors": m["errors"],
        "other_cpu": m["other_cpu"],
        **check,
    }


def print_table(rows):
    print(
        f"\n{'corpus':8} {'en chunks':>9} {'queries':>7} {'path':34} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'vs peer p50':>11} {'vs peer p95':>11}"
    )
    for r in rows:
        head = f"{r['corpus']:8} {r['en_chunks']:>9,} {r['n']:>7}"
        blank = f"{'':8} {'':>9} {'':>7}"
        print(
            f"{head} {'hybrid API (GET /api/v1/search/)':34} "
            f"{r['api'][0]:7.1f} {r['api'][1]:7.1f} {r['api'][2]:7.1f} "
            f"{r['ratio_p50']:10.1f}x {r['ratio_p95']:10.1f}x"
        )
        print(
            f"{blank} {'Wagtail DB search (peer)':34} "
            f"{r['wagtail'][0]:7.1f} {r['wagtail'][1]:7.1f} {r['wagtail'][2]:7.1f} "
            f"{'1.0x':>11} {'1.0x':>11}"
        )
        print(
            f"{blank} {'service.search() alone':34} "
            f"{r['search'][0]:7.1f} {r['search'][1]:7.1f} {r['search'][2]:7.1f} "
            f"{'':>11} {'':>11}"
        )
        print(
            f"{blank} {'encode+FAISS (dense_candidates)':34} "
            f"{r['dense'][0]:7.1f} {r['dense'][1]:7.1f} {r['dense'][2]:7.1f} "
            f"{'':>11} {'':>11}"
        )
        for key, label in (
            ("lex_direct", "lexical: one query (search.lexical)"),
            ("lex_wagtail", "lexical: via Wagtail .search()"),
        ):
            print(
                f"{blank} {label:34} {r[key][0]:7.1f} {r[key][1]:7.1f} {r[key][2]:7.1f} "
                f"{'':>11} {'':>11}"
            )
        print(
            f"{blank} {'  share of API time: encode+FAISS':34} {100 * r['dense_share']:6.0f}%   "
            f"beyond {100 * r['beyond']:.0f}% (per-query median {100 * r['beyond_median']:.0f}%;"
            f" goal < 50%)" + (f"  errors {r['errors']}" if r["errors"] else "")
        )
        print(
            f"{blank} {'  of which':34} rest of search() (full-text, SQL, fusion) "
            f"{100 * r['search_share']:.0f}%, HTTP + serialise + log "
            f"{100 * (r['beyond'] - r['search_share']):.0f}%"
        )
        print(
            f"{blank} {'  served en index: ' + r['kind']:34} dense recall@10 vs exact "
            f"{r['recall']:.3f} (English queries); synthetic chunks in exact top-100 "
            f"{100 * r['synthetic_top']:.0f}%"
        )
        print(
            f"{blank} {'  contention check':34} other processes used "
            f"{r['other_cpu']:.0f} CPU-seconds during this measurement"
        )


def en_chunk_count():
    return Chunk.objects.filter(
        locale__language_code="en", model_id=model_for_language("en")
    ).count()


def synthetic_centres(kind, rng, dimension):
    """(centres, sigma) for synthetic vectors. "random": 2000 random gaussian centres, far
    from real text; "near-real": the real English chunk vectors (noisy near-duplicates)."""
    if kind == "near-real":
        _, centres = db_vectors("en", model_for_language("en"))
        return np.array(centres), 0.045
    centres = rng.standard_normal((2000, dimension), dtype="float32")
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    return centres, 0.04


def add_synthetic_chunks(target, centres, sigma, rng, counter, batch=5000):
    """Add Chunk rows (clustered, L2-normalised float32 vectors) to live public English pages
    until the English index holds `target`, then bring FAISS in line with sync_locale."""
    model_id = model_for_language("en")
    en = Locale.objects.get(language_code="en")
    pages = list(
        SolutionArticlePage.objects.live()
        .filter(locale=en, audience=SolutionArticlePage.AUDIENCE_PUBLIC)
        .values_list("pk", flat=True)
    )
    missing = target - en_chunk_count()
    started = time.perf_counter()
    counter = insert_synthetic_chunks(
        pages, missing, centres, sigma, rng, counter, batch, model_id=model_id
    )
    inserted_s = time.perf_counter() - started
    started = time.perf_counter()
    sync = indexing.sync_locale("en", model_id)
    sync_s = time.perf_counter() - started
    manifest = store_for(model_id).read_manifest("en")
    print(
        f"  en index now {en_chunk_count():,} chunks ({manifest['kind']}); rows inserted in "
        f"{inserted_s:.1f} s, sync_locale('en') {sync_s:.1f} s "
        f"(added {sync.added:,}, rebuilt {sync.rebuilt})",
        file=sys.stderr,
        flush=True,
    )
    return counter, {"insert_s": inserted_s, "sync_s": sync_s, "kind": manifest["kind"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gold", default=str(ROOT / "search" / "eval" / "demo_gold.jsonl"))
    parser.add_argument("--sizes", default="10000,100000", help="English chunk counts")
    parser.add_argument("--vectors", choices=["random", "near-real"], default="random")
    parser.add_argument(
        "--torch-threads", type=int, default=0, help="torch.set_num_threads (default: torch's)"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    started_all = time.perf_counter()
    watch = CpuWatch()
    print(run_header("Search latency", WORKDIR, args.torch_threads))
    try:
        languages = [code for code, _ in settings.WAGTAIL_CONTENT_LANGUAGES]
        encoder = get_encoder(model_for_language("en"))
        for code in languages:  # FAISS files of the copy, from its chunk table
            indexing.sync_locale(code)
        user = get_user_model().objects.filter(is_superuser=True).first()
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user)
        gold = list(read_gold(args.gold))
        english = [q for q in gold if q.locale == "en"]
        print(
            f"{len(gold)} gold queries ({len(english)} English), model {encoder.model_id}, "
            f"superuser {user.username}, settings {os.environ['DJANGO_SETTINGS_MODULE']} "
            f"(DEBUG={settings.DEBUG}), database {settings.DATABASES['default']['ENGINE']}, "
            f"KB_QUERY_THREADS={settings.KB_QUERY_THREADS}"
        )
        real_ids = db_vectors("en", encoder.model_id)[0]
        rows = []
        m = measure(gold, client, user, languages)
        check = dense_check(english, real_ids)
        rows.append(summarise("demo", m, en_chunk_count(), check))
        print_table(rows[-1:])
        if sizes:
            m = measure(english, client, user, languages)
            rows.append(summarise("demo-en", m, en_chunk_count(), check))
        rng = np.random.default_rng(11)
        centres, sigma = synthetic_centres(args.vectors, rng, encoder.dimension)
        counter = 0
        builds = []
        for size in sizes:
            counter, info = add_synthetic_chunks(size, centres, sigma, rng, counter)
            builds.append((size, info))
            m = measure(english, client, user, languages)
            label = f"{size // 1000}k" if size % 1000 == 0 else str(size)
            rows.append(summarise(label, m, en_chunk_count(), dense_check(english, real_ids)))
        print("\n## All corpora (same run)")
        print_table(rows)
        if builds:
            print(
                f"\nsynthetic rows ({args.vectors} clustered vectors): insert time, "
                "sync_locale('en') time, index kind"
            )
            for size, info in builds:
                print(
                    f"  {size:>9,}: insert {info['insert_s']:.1f} s, sync {info['sync_s']:.1f} s, "
                    f"{info['kind']}"
                )
    finally:
        shutil.rmtree(WORKDIR, ignore_errors=True)
    print(run_footer(watch, started_all))


if __name__ == "__main__":
    main()
