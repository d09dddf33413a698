"""CPU-seconds per operator search request, load-independent, and where they go.

    .venv/bin/python bench/request_cpu.py [--questions 150] [--public-every 4]
                                          [--publish-every 0] [--profile]

In one process, on a copy of var/db.sqlite3 (migrated; settings kbsite.settings.bench: DEBUG
off), warmed as a gunicorn worker is (search/warmup.py), a logged-in operator sends the load
test's requests through Django's test client: for each of the first --questions questions of
the honest pool (bench/query_pool.py, nl/fr/en), the half-typed text, then the whole question,
to GET /api/v1/search/?limit=8 (the same view, middleware, serializer and search log as over
HTTP, without the socket); after every --public-every operator requests, a customer asks the
same question on the public search API (the load test mixes both; 0: operators only). The CPU time of the whole process (every thread: torch, FAISS,
the replica follower) is read around each request, so other processes on the machine do not
inflate it; wall-clock p50/p95 are printed too, with the load average. The peer, in the
same run: the earlier load test's 12 queries, whose query vectors are cached after a first
pass (what a request costs without encoding), and the ratio of the two.

Database statements per request are counted too (every statement the request's connection
runs: the session, the search, the known problems, the log write); --show-queries prints
those of one warm English and one Dutch operator request.

With --publish-every S, another process publishes an article revision every S seconds (as
the load test's editor does), so the requests also pay this worker's share of catching up
with published changes. With --profile, cProfile's top functions by cumulative time.
"""

import argparse
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.parse

from _django import ROOT, code_fingerprint, copy_database

WORKDIR = copy_database("kb-request-cpu-")
os.environ["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)

from _django import setup  # noqa: E402

setup("kbsite.settings.bench")

import numpy as np  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from load_test import PUBLISHER  # noqa: E402
from query_pool import OLD_POOL, build_pool  # noqa: E402


def thread_settings():
    import faiss
    import torch

    return (
        f"torch threads {torch.get_num_threads()}, interop {torch.get_num_interop_threads()}, "
        f"faiss omp {faiss.omp_get_max_threads()}, OMP_NUM_THREADS="
        f"{os.environ.get('OMP_NUM_THREADS', '(unset)')}"
    )


STAGES = [
    ("search.views", "known_problems_for_search", "known problems (views)"),
    ("search.views", "response_to_dict", "serializer (response_to_dict)"),
    ("insights.events", "log_search", "search log (log_search; operator: queued)"),
    ("insights.events", "_write_search", "search log row written (operator: after the answer)"),
    ("search.service", "search", "service.search"),
    ("search.service", "gather", "  gather (retrieval)"),
    ("search.service", "lexical_candidates", "    lexical query"),
    ("search.service", "dense_candidates", "    dense (catch-up check + encode + FAISS)"),
    ("embeddings.replica", "catch_up", "      replica catch_up (files)"),
    ("search.service", "chunk_rows", "    chunk rows of the FAISS hits"),
    ("search.service", "visible_pages", "    visibility of the candidate pages"),
    ("search.service", "hydrate_pages", "  page hydration (pages, services, teams)"),
    ("django.contrib.auth", "get_user", "session and user lookup (middleware)"),
]


def time_stages():
    """Wrap the named functions to add up the CPU time their calling thread spends in them."""
    import functools
    import importlib

    totals = {}

    def wrap(owner, attr, label):
        original = getattr(owner, attr)
        totals[label] = [0, 0.0]

        @functools.wraps(original)
        def timed(*a, **kw):
            started = time.thread_time()  # this thread's CPU: one intra-op thread per search
            try:
                return original(*a, **kw)
            finally:
                totals[label][0] += 1
                totals[label][1] += time.thread_time() - started

        setattr(owner, attr, timed)

    for module, attr, label in STAGES:
        wrap(importlib.import_module(module), attr, label)
    # Encoding the active known problems' texts (a matrix rebuilt when they change).
    wrap(
        importlib.import_module("incidents.matching")._ProblemMatrix,
        "refresh",
        "known problems: encoding the problems",
    )
    # A new database connection (with DB_CONN_MAX_AGE 0, the settings' default, every request
    # opens one: SQLite's functions registered, the PRAGMAs run).
    wrap(
        importlib.import_module("django.db.backends.sqlite3.base").DatabaseWrapper,
        "get_new_connection",
        "new database connection (get_new_connection)",
    )
    from embeddings.encoder import encoders

    for encoder in encoders():
        wrap(encoder, "encode_queries", f"query encoding, {encoder.model_id}")
    return totals


class StatementCounter:
    """A database execute wrapper: counts the statements run (and keeps their SQL)."""

    def __init__(self, keep=False):
        self.count, self.keep, self.sql = 0, keep, []

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        if self.keep:
            self.sql.append(" ".join(str(sql).split()))
        return execute(sql, params, many, context)

    def take(self):
        count, self.count = self.count, 0
        return count


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=150)
    parser.add_argument("--publish-every", type=float, default=0.0)
    parser.add_argument("--public-every", type=int, default=4)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--profile-out", help="with --profile: also save the cProfile stats here")
    parser.add_argument("--show-queries", action="store_true")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="cumulative", help="cProfile order: cumulative, tottime")
    args = parser.parse_args()
    stages = time_stages()

    from search.warmup import warm_up

    warmed = warm_up()
    for total in stages.values():  # the warm-up's own encoding is not a request's
        total[:] = [0, 0.0]
    client = Client()
    client.force_login(get_user_model().objects.get(username="operator"))
    pool = build_pool()[: args.questions]
    requests = []
    for question in pool:
        q = question["query"]
        for text in (q[: max(3, len(q) // 2)], q):
            params = {"q": text, "locale": question["locale"], "limit": 8}
            requests.append(
                (question["locale"], "/api/v1/search/?" + urllib.parse.urlencode(params))
            )
            if args.public_every and len(requests) % (args.public_every + 1) == args.public_every:
                params = {"q": q, "locale": question["locale"]}
                requests.append(
                    ("public", "/api/v1/public/search/?" + urllib.parse.urlencode(params))
                )

    publisher = None
    if args.publish_every:
        publisher = subprocess.Popen(
            [sys.executable, "-c", PUBLISHER, "600", str(args.publish_every)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        time.sleep(args.publish_every + 5)  # the editor's first publish has landed

    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
    cpu, wall, errors = [], [], 0
    by_locale, statements = {}, {}
    counter = StatementCounter()
    load_before = os.getloadavg()[0]
    started_cpu, started_wall = time.process_time(), time.perf_counter()
    for locale, path in requests:
        c0, w0 = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        with connection.execute_wrapper(counter):
            response = client.get(path)
        if profiler:
            profiler.disable()
        c1, w1 = time.process_time(), time.perf_counter()
        statements.setdefault(locale if locale == "public" else "operator", []).append(
            counter.take()
        )
        if response.status_code != 200:
            errors += 1
        cpu.append((c1 - c0) * 1000)
        wall.append((w1 - w0) * 1000)
        by_locale.setdefault(locale, []).append((c1 - c0) * 1000)
    total_cpu, total_wall = time.process_time() - started_cpu, time.perf_counter() - started_wall
    stage_totals = {name: tuple(value) for name, value in stages.items()}
    # The peer, in the same run: the earlier load test's 12 queries, whose vectors are in the
    # query cache after a first pass: what a request costs without encoding.
    peer = []
    for text in OLD_POOL:
        peer += [text[: max(3, len(text) // 2)], text]
    peer = [
        "/api/v1/search/?" + urllib.parse.urlencode({"q": t, "locale": "en", "limit": 8})
        for t in peer
    ]
    for path in peer:
        client.get(path)
    peer_started = time.process_time()
    for _ in range(3):
        for path in peer:
            client.get(path)
    peer_cpu = (time.process_time() - peer_started) * 1000 / (3 * len(peer))
    if publisher:
        publisher.terminate()
        publisher.wait(timeout=30)

    print(
        f"# CPU per operator search request, in-process (product code {code_fingerprint()}; "
        f"{os.cpu_count()} CPUs; load average {load_before:.2f} before, "
        f"{os.getloadavg()[0]:.2f} after; warm-up {warmed:.1f} s)"
    )
    print(f"worker thread settings after warm-up: {thread_settings()}")
    print(
        f"{len(requests)} requests ({len(pool)} questions, half-typed + whole; public: a "
        f"customer's search after every {args.public_every} operator requests), {errors} errors, "
        f"publishing every {args.publish_every:g} s"
        if args.publish_every
        else f"{len(requests)} requests ({len(pool)} questions, half-typed + whole; public: a "
        f"customer's search after every {args.public_every} operator requests), {errors} errors, "
        "no publishing"
    )
    print(
        f"CPU ms per request: mean {total_cpu * 1000 / len(requests):.1f}, "
        f"p50 {np.percentile(cpu, 50):.1f}, p95 {np.percentile(cpu, 95):.1f}; "
        f"wall ms p50 {np.percentile(wall, 50):.1f}, p95 {np.percentile(wall, 95):.1f}; "
        f"CPU/wall {total_cpu / total_wall:.2f}"
    )
    for locale, values in sorted(by_locale.items()):
        print(f"  {locale}: {len(values)} requests, CPU ms mean {np.mean(values):.1f}")
    for kind, counts in sorted(statements.items()):
        print(
            f"database statements per {kind} search request: mean {np.mean(counts):.1f}, "
            f"min {min(counts)}, max {max(counts)} (the replica's generation check, at most "
            "every KB_REPLICA_CHECK_SECONDS, falls in some)"
        )
    print(
        f"-> 2 cores saturate at about {2000 / (total_cpu * 1000 / len(requests)):.0f} "
        "requests/s of this mix (CPU alone)"
    )
    honest_cpu = total_cpu * 1000 / len(requests)
    print(
        f"peer (same run): the old load test's 12 queries with cached query vectors, "
        f"{3 * len(peer)} requests: CPU ms per request mean {peer_cpu:.1f}; honest pool / "
        f"peer: {honest_cpu / peer_cpu:.2f}x"
    )
    print(
        "CPU ms per request spent in (thread CPU, inclusive; nested stages overlap; the replica's follower thread counts too):"
    )
    for name, (calls, seconds) in stage_totals.items():
        print(f"  {name:44} {calls:5} calls {seconds * 1000 / len(requests):7.1f}")
    if args.show_queries:
        for text, locale in [
            ("my printer says it is offline", "en"),
            ("mijn printer zegt dat hij offline is", "nl"),
        ]:
            path = "/api/v1/search/?" + urllib.parse.urlencode(
                {"q": text, "locale": locale, "limit": 8, "source": "console"}
            )
            client.get(path)  # warm: the query vector cached, the replica checked
            listing = StatementCounter(keep=True)
            with connection.execute_wrapper(listing):
                client.get(path)
            print(f"statements of one warm operator search ({locale}): {len(listing.sql)}")
            for number, sql in enumerate(listing.sql, start=1):
                print(f"  {number:2}. {sql[:150]}")
    if profiler:
        import io
        import pstats

        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).sort_stats(args.sort)
        stats.print_stats(args.top)
        if args.profile_out:
            stats.dump_stats(args.profile_out)
        print(out.getvalue())
    shutil.rmtree(WORKDIR, ignore_errors=True)


if __name__ == "__main__":
    main()
