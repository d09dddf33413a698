"""Vector index benchmark: build throughput, publish-to-searchable time, store scaling.

    nice .venv/bin/python bench/index_bench.py
    nice .venv/bin/python bench/index_bench.py --sizes 10000,100000,1000000 --skip-build --skip-publish

Works on a copy of var/db.sqlite3 in a temporary directory (the real database and
var/vector_index are never opened for writing). Three parts:

  a. build, per embedding model: the raw passage encoding of every chunk text (warm) against
     embeddings.indexing.rebuild(reembed=True, models=[model]) on the same texts; overhead =
     pipeline/raw - 1; chunks/s is the full re-embed throughput of that model.
  b. publish: edit the first step of one live article, publish it in a transaction (the
     on_commit index task runs on the immediate backend) and time until search.service.search
     returns it first for a query with the new word, and until every model's own index
     returns the new chunk among its 10 nearest (embeddings.vectors.nearest_chunks);
     counts the texts handed to the encoders.
  c. scaling: synthetic clustered 384-d vectors in faiss with the store's two index types
     (IndexIDMap2 over IndexFlatIP, and over IndexHNSWFlat M=32, efConstruction 80,
     efSearch 96): build time, file size, RSS delta, single-query p50/p95, HNSW recall@10.
"""

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from _django import (  # noqa: E402
    CpuWatch,
    copy_database,
    insert_synthetic_chunks,
    run_footer,
    run_header,
)

WORKDIR = copy_database("kb-index-bench-")

from _django import setup  # noqa: E402

setup()

import ctypes  # noqa: E402
import gc  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import faiss  # noqa: E402
import numpy as np  # noqa: E402
import psutil  # noqa: E402
import torch  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import transaction  # noqa: E402
from wagtail.models import Locale  # noqa: E402

from articles.models import SolutionArticlePage  # noqa: E402
from embeddings import indexing, store  # noqa: E402
from embeddings.encoder import encoders, get_encoder, model_for_language  # noqa: E402
from embeddings.models import Chunk  # noqa: E402
from embeddings.store import store_for  # noqa: E402
from embeddings.vectors import db_vectors, nearest_chunks, query_vector  # noqa: E402
from search import service  # noqa: E402


def ms(seconds):
    return seconds * 1000.0


# --- a. build throughput ------------------------------------------------------------------


def bench_build(rounds=3, models=""):
    wanted = [m.strip() for m in models.split(",") if m.strip()]
    return [
        bench_build_model(encoder, rounds)
        for encoder in encoders()
        if not wanted or encoder.model_id in wanted
    ]


def bench_build_model(encoder, rounds):
    """Raw batched encode vs the full rebuild of one model, interleaved `rounds` times."""
    texts = list(
        Chunk.objects.filter(model_id=encoder.model_id)
        .order_by("pk")
        .values_list("text", flat=True)
    )
    n = len(texts)
    counter = CountingEncode()  # times the encoders' passage calls made by the pipeline
    raw, pipeline, inside = [], [], []
    cold = None
    counter.install()
    try:
        for r in range(rounds + 1):
            started = time.perf_counter()
            counter.original[encoder.model_id](texts)
            elapsed = time.perf_counter() - started
            if r == 0:
                cold = elapsed  # first run: warm-up, not used
                continue
            raw.append(elapsed)
            counter.reset()
            counter.active = True
            started = time.perf_counter()
            totals, syncs, _timings = indexing.rebuild(reembed=True, models=[encoder.model_id])
            pipeline.append(time.perf_counter() - started)
            counter.active = False
            inside.append(counter.seconds)
    finally:
        counter.uninstall()
    raw_s, pipeline_s = statistics.median(raw), statistics.median(pipeline)
    inside_s = statistics.median(inside)
    chunks_after = Chunk.objects.count()
    overhead = pipeline_s / raw_s - 1
    print(f"\n## a. Build throughput: {encoder.model_id} (all its chunks in the DB copy)\n")
    print(
        f"model {encoder.model_id}, dimension {encoder.dimension}, torch threads "
        f"{torch.get_num_threads()}, KB_EMBEDDING_BATCH_SIZE {settings.KB_EMBEDDING_BATCH_SIZE}; "
        f"{rounds} interleaved rounds after one cold raw encode ({cold:.2f} s), medians"
    )
    print(f"{'step':50} {'chunks':>7} {'seconds':>8} {'chunks/s':>9}  rounds (s)")
    print(
        f"{'raw encode_passages(all texts), warm':50} {n:>7} {raw_s:8.2f} {n / raw_s:9.1f}  "
        + " ".join(f"{x:.2f}" for x in raw)
    )
    print(
        f"{'rebuild(reembed=True): chunk+embed+DB+FAISS':50} {totals.encoded:>7} "
        f"{pipeline_s:8.2f} {totals.encoded / pipeline_s:9.1f}  "
        + " ".join(f"{x:.2f}" for x in pipeline)
    )
    print(
        f"{'  of which encode_passages (batched)':50} {counter.texts:>7} "
        f"{inside_s:8.2f} {counter.texts / inside_s:9.1f}  " + " ".join(f"{x:.2f}" for x in inside)
    )
    print(
        f"{'  of which chunking + DB rows + FAISS write':50} {'':>7} {pipeline_s - inside_s:8.2f}"
    )
    print(
        f"pipeline / raw warm = {pipeline_s / raw_s:.3f}  ->  overhead {100 * overhead:+.1f}% "
        f"(goal < 10%); encoder calls per rebuild {counter.calls}"
    )
    print(
        f"chunks in table before {n}, after {chunks_after}; locales rebuilt: "
        + ", ".join(f"{s.model_id}/{s.locale}={s.added}" for s in syncs)
    )
    return {
        "model": encoder.model_id,
        "raw": raw_s,
        "pipeline": pipeline_s,
        "overhead": overhead,
        "chunks_per_s": totals.encoded / pipeline_s,
    }


# --- b. publish to searchable ---------------------------------------------------------------

SYLLABLES = ["ka", "zo", "vri", "mu", "tel", "qua", "rin", "dax", "po", "lum", "xe", "bor"]


def nonsense_word(rng):
    return "".join(rng.choice(SYLLABLES) for _ in range(5))


class CountingEncode:
    """Wraps every model's encode_passages to count the texts it is handed (and time it)
    while `active`."""

    def __init__(self):
        self.encoders = encoders()
        self.original = {e.model_id: e.encode_passages for e in self.encoders}
        self.active = False
        self.reset()

    def reset(self):
        self.texts = 0
        self.calls = 0
        self.seconds = 0.0

    def install(self):
        counter = self

        def wrap(original):
            def encode_passages(texts):
                if not counter.active:
                    return original(texts)
                started = time.perf_counter()
                try:
                    return original(texts)
                finally:
                    counter.calls += 1
                    counter.texts += len(texts)
                    counter.seconds += time.perf_counter() - started

            return encode_passages

        for encoder in self.encoders:  # an instance attribute shadows the method
            encoder.encode_passages = wrap(self.original[encoder.model_id])

    def uninstall(self):
        for encoder in self.encoders:
            encoder.__dict__.pop("encode_passages", None)


def pad_english(target, skip_external_id, vectors="random", batch=5000, seed=3):
    """Add synthetic chunks to live public English pages (not the one being edited) until
    the English index holds `target` chunks, then sync FAISS (not timed).

    vectors="random": around 2000 random gaussian centres (sigma 0.04), far from real text;
    vectors="near-real": noisy copies (sigma 0.045) of the real English chunk vectors, i.e.
    ~100 near-duplicates of every real chunk at 100k."""
    encoder = get_encoder(model_for_language("en"))
    en = Locale.objects.get(language_code="en")
    pages = list(
        SolutionArticlePage.objects.live()
        .filter(locale=en, audience=SolutionArticlePage.AUDIENCE_PUBLIC)
        .exclude(external_id=skip_external_id)
        .values_list("pk", flat=True)
    )
    rng = np.random.default_rng(seed)
    existing = Chunk.objects.filter(locale=en, model_id=encoder.model_id).count()
    if vectors == "near-real":
        _, centres = db_vectors("en", encoder.model_id)
        sigma = 0.045
    else:
        centres = rng.standard_normal((2000, encoder.dimension), dtype="float32")
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
        sigma = 0.04
    insert_synthetic_chunks(
        pages, target - existing, centres, sigma, rng, batch=batch, model_id=encoder.model_id
    )
    indexing.sync_locale("en", encoder.model_id)
    return store_for(encoder.model_id).read_manifest("en")


def bench_publish(external_id, repeats, timeout_s=120.0, pad_to=0, pad_vectors="random"):
    user = get_user_model().objects.filter(is_superuser=True).first()
    note = ""
    if pad_to:
        manifest = pad_english(pad_to, external_id, pad_vectors)
        note = (
            f"; English index padded to {manifest['count']:,} chunks ({manifest['kind']}, "
            f"{pad_vectors} synthetic vectors)"
        )
    page = SolutionArticlePage.objects.live().get(
        external_id=external_id, locale__language_code="en"
    )
    rng = random.Random(20240601)
    counter = CountingEncode()
    counter.install()
    rows = []
    try:
        # Warm everything (model, store reload, FTS) with one search before timing.
        service.search("printer offline", user=user, channel="operator", locale="en")
        for _ in range(repeats):
            word = nonsense_word(rng)
            query = f"what does {word} mean"
            before = service.search(query, user=user, channel="operator", locale="en")
            first_before = bool(before.hits) and before.hits[0].page.pk == page.pk
            page = SolutionArticlePage.objects.get(pk=page.pk)
            raw = page.resolution.get_prep_value()
            step = next(b for b in raw if b["type"] == "step")
            step["value"]["instruction"] = (
                f"<p>Open the {word} panel and check that {word} shows the printer as ready.</p>"
            )
            page.resolution = raw
            counter.reset()
            counter.active = True
            started = time.perf_counter()
            with transaction.atomic():
                page.save_revision(user=user).publish(user=user)
            committed = time.perf_counter()  # on_commit index task has run (immediate backend)
            counter.active = False
            searches, found = 0, False
            while time.perf_counter() - started < timeout_s:
                response = service.search(query, user=user, channel="operator", locale="en")
                searches += 1
                if response.hits and response.hits[0].page.pk == page.pk:
                    found = True
                    break
                time.sleep(0.05)
            done = time.perf_counter()
            # Every model's own index: the new chunk among the 10 nearest to the new text.
            per_model = {}
            for encoder in encoders():
                new_ids = set(
                    Chunk.objects.filter(
                        page_id=page.pk, model_id=encoder.model_id, text__contains=word
                    ).values_list("pk", flat=True)
                )
                vector = query_vector(f"{page.title}: {word}", encoder.model_id)
                while time.perf_counter() - started < timeout_s:
                    near = nearest_chunks(vector, ["en"], 10, encoder.model_id)
                    if new_ids & set(near):
                        break
                    time.sleep(0.05)
                per_model[encoder.model_id] = ms(time.perf_counter() - started)
            rows.append(
                {
                    "word": word,
                    "first_before": first_before,
                    "commit_ms": ms(committed - started),
                    "total_ms": ms(done - started),
                    "searches": searches,
                    "found": found,
                    "encoded": counter.texts,
                    "encode_calls": counter.calls,
                    "per_model": per_model,
                }
            )
    finally:
        counter.uninstall()
    print(f"\n## b. Publish to searchable ({external_id}, en; {repeats} edits of step 1{note})\n")
    print(
        f"{'new word':16} {'1st before':>10} {'publish+index ms':>17} {'searchable ms':>14} "
        f"{'searches':>8} {'found':>6} {'texts encoded':>14}"
    )
    for r in rows:
        print(
            f"{r['word']:16} {str(r['first_before']):>10} {r['commit_ms']:17.0f} "
            f"{r['total_ms']:14.0f} {r['searches']:>8} {str(r['found']):>6} {r['encoded']:>14}"
        )
    totals = [r["total_ms"] for r in rows]
    commits = [r["commit_ms"] for r in rows]
    print(f"publish+index: median {statistics.median(commits):.0f} ms, max {max(commits):.0f} ms")
    print(
        f"publish-to-searchable: median {statistics.median(totals):.0f} ms, "
        f"max {max(totals):.0f} ms"
    )
    for model_id in rows[0]["per_model"]:
        values = [r["per_model"][model_id] for r in rows]
        print(
            f"publish-to-searchable in {model_id}'s own index: median "
            f"{statistics.median(values):.0f} ms, max {max(values):.0f} ms (goal <= 2000 ms)"
        )
    encoded = sorted({r["encoded"] for r in rows})
    print(
        f"texts encoded per publish: {encoded} (only the changed chunk, once per model: "
        f"expected [{len(rows[0]['per_model'])}])"
    )
    return rows


# --- c. store scaling ---------------------------------------------------------------------


def clustered(n, d, centres, sigma, rng):
    """n normalised vectors around the given centres (float32), built in blocks."""
    out = np.empty((n, d), dtype="float32")
    block = 100_000
    for start in range(0, n, block):
        stop = min(n, start + block)
        which = rng.integers(0, len(centres), stop - start)
        x = centres[which] + sigma * rng.standard_normal((stop - start, d), dtype="float32")
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        out[start:stop] = x
    return out


def make_index(kind, d):
    """The store's two index types (embeddings.store.new_index), chosen explicitly."""
    if kind == "hnsw":
        inner = faiss.IndexHNSWFlat(d, store.HNSW_M, faiss.METRIC_INNER_PRODUCT)
        inner.hnsw.efConstruction = store.HNSW_EF_CONSTRUCTION
        inner.hnsw.efSearch = store.HNSW_EF_SEARCH
        return faiss.IndexIDMap2(inner)
    return faiss.IndexIDMap2(faiss.IndexFlatIP(d))


try:
    _libc = ctypes.CDLL("libc.so.6")
except OSError:  # not glibc: RSS deltas may under-count reused heap
    _libc = None


def rss():
    """Resident set size after handing freed heap back to the OS (so deltas mean new memory)."""
    gc.collect()
    if _libc is not None:
        _libc.malloc_trim(0)
    return psutil.Process().memory_info().rss


def bench_scaling(sizes, n_queries=200, d=384, n_centres=2000, sigma=0.04, seed=7):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n_centres, d), dtype="float32")
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    rows = []
    tmpdir = Path(tempfile.mkdtemp(prefix="kb-faiss-", dir=WORKDIR))
    for n in sizes:
        vectors = clustered(n, d, centres, sigma, rng)
        ids = rng.integers(1, 2**62, n, dtype="int64")  # random 62-bit ids, like Chunk.id
        queries = clustered(n_queries, d, centres, sigma, rng)
        exact_ids = None
        for kind in ("flat", "hnsw"):
            before = rss()
            index = make_index(kind, d)
            started = time.perf_counter()
            index.add_with_ids(vectors, ids)
            build_s = time.perf_counter() - started
            rss_delta = rss() - before
            path = tmpdir / f"{kind}-{n}.faiss"
            faiss.write_index(index, str(path))
            size = path.stat().st_size
            path.unlink()
            for q in queries[:20]:  # warm-up
                index.search(q.reshape(1, -1), 10)
            lat = []
            found = np.empty((n_queries, 10), dtype="int64")
            for i, q in enumerate(queries):
                t = time.perf_counter()
                _, got = index.search(q.reshape(1, -1), 10)
                lat.append(time.perf_counter() - t)
                found[i] = got[0]
            if kind == "flat":
                exact_ids = found
                recall = None
            else:
                recall = float(
                    np.mean([len(set(found[i]) & set(exact_ids[i])) / 10 for i in range(n_queries)])
                )
            rows.append(
                {
                    "n": n,
                    "kind": kind,
                    "build_s": build_s,
                    "size_mb": size / 2**20,
                    "rss_mb": rss_delta / 2**20,
                    "p50": ms(np.percentile(lat, 50)),
                    "p95": ms(np.percentile(lat, 95)),
                    "recall": recall,
                }
            )
            r = rows[-1]
            print(
                f"  {n:>9,} {kind:5} built in {build_s:.1f} s, p50 {r['p50']:.2f} ms",
                file=sys.stderr,
                flush=True,
            )
            del index
        del vectors, ids
    shutil.rmtree(tmpdir, ignore_errors=True)
    print(
        f"\n## c. Store scaling (synthetic: {n_centres} gaussian centres, sigma {sigma}, d {d}; "
        f"{n_queries} single queries, k=10; faiss {faiss.__version__}, "
        f"{faiss.omp_get_max_threads()} OpenMP threads)\n"
    )
    print(
        f"{'chunks':>10} {'index':28} {'build s':>8} {'file MB':>8} {'RSS +MB':>8} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'recall@10':>9}"
    )
    for r in rows:
        label = (
            "IDMap2(FlatIP) exact"
            if r["kind"] == "flat"
            else f"IDMap2(HNSWFlat {store.HNSW_M}, ef {store.HNSW_EF_SEARCH})"
        )
        recall = "exact" if r["recall"] is None else f"{r['recall']:.3f}"
        print(
            f"{r['n']:>10,} {label:28} {r['build_s']:8.1f} {r['size_mb']:8.1f} "
            f"{r['rss_mb']:8.0f} {r['p50']:7.2f} {r['p95']:7.2f} {recall:>9}"
        )
    by = {(r["n"], r["kind"]): r for r in rows}
    for n in sizes:
        f, h = by[(n, "flat")], by[(n, "hnsw")]
        print(
            f"{n:>10,}: HNSW/exact p50 latency {h['p50'] / f['p50']:.2f}x, "
            f"build {h['build_s'] / max(f['build_s'], 1e-9):.0f}x, file {h['size_mb'] / f['size_mb']:.2f}x"
        )
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="synthetic store sizes")
    parser.add_argument("--publish-article", default="demo-printer-offline")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--publish-pad",
        type=int,
        default=0,
        help="before part b, pad the English index with synthetic chunks to this many",
    )
    parser.add_argument("--pad-vectors", choices=["random", "near-real"], default="random")
    parser.add_argument("--skip-build", action="store_true")
    parser.add_argument("--rounds", type=int, default=3, help="build rounds per model (part a)")
    parser.add_argument("--skip-publish", action="store_true")
    parser.add_argument("--models", default="", help="part a: only these model ids (comma list)")
    parser.add_argument("--skip-scaling", action="store_true")
    parser.add_argument(
        "--torch-threads", type=int, default=0, help="torch.set_num_threads (default: torch's)"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    started = time.perf_counter()
    watch = CpuWatch()
    print(run_header("Vector index benchmark", WORKDIR, args.torch_threads))
    parts = [
        (args.skip_build, bench_build, (args.rounds, args.models)),
        (
            args.skip_publish,
            bench_publish,
            (args.publish_article, args.repeats, 120.0, args.publish_pad, args.pad_vectors),
        ),
        (args.skip_scaling, bench_scaling, (sizes,)),
    ]
    try:
        for skip, part, part_args in parts:
            if skip:
                continue
            part_watch = CpuWatch()
            part(*part_args)
            print(part_watch.report())
    finally:
        shutil.rmtree(WORKDIR, ignore_errors=True)
    print(run_footer(watch, started))


if __name__ == "__main__":
    main()
