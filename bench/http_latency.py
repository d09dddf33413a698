"""Operator search over HTTP against its floor (issue 13's latency goal), in one run.

    .venv/bin/python bench/http_latency.py [--rounds 2]

Works on a copy of var/db.sqlite3 (`make demo`; the figures in docs/ also had banking77 and
the cross-lingual articles imported). Starts gunicorn (the repository's gunicorn.conf.py,
ONE worker, settings kbsite.settings.bench: DEBUG off) on 127.0.0.1, logs a superuser in
through a session cookie, and sends every demo gold query (170, en/nl/fr, distinct) to
GET /api/v1/search/ one at a time, --rounds times with a different suffix each round so
no query vector is ever cached. Right after each request, in this process and on the same
query, the floor: the routed model's query encoding + an exact FAISS inner-product search
(IndexFlatIP) over all of that model's chunk vectors (the same number of vectors the
search reads), one thread, as gunicorn's worker uses. Prints p50/p95 of both and the ratio
(goal: p95 <= 1.5x the floor's p95), and what other processes used of the CPU meanwhile.
"""

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

from _django import ROOT, CpuWatch, code_fingerprint, copy_database

WORKDIR = copy_database("kb-http-bench-")
os.environ["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)  # the same for gunicorn and us
os.environ.setdefault("KB_QUERY_THREADS", "1")

from _django import setup  # noqa: E402

setup("kbsite.settings.bench")

import faiss  # noqa: E402
import numpy as np  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.test import Client  # noqa: E402

from embeddings.encoder import get_encoder, model_for_language, model_ids, query_threads  # noqa: E402
from embeddings.vectors import clear_query_cache, db_vectors  # noqa: E402
from search.evaluation import read_gold  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values, q):
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def floor_indexes():
    """Per model: an exact inner-product index over all its chunk vectors (every locale)."""
    languages = [code for code, _ in settings.WAGTAIL_CONTENT_LANGUAGES]
    indexes = {}
    for model_id in model_ids():
        dimension = get_encoder(model_id).dimension
        parts = [db_vectors(code, model_id, dimension)[1] for code in languages]
        matrix = np.ascontiguousarray(np.vstack([p for p in parts if p is not None]))
        index = faiss.IndexFlatIP(dimension)
        index.add(matrix)
        indexes[model_id] = index
    return indexes


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gold", default=str(ROOT / "search" / "eval" / "demo_gold.jsonl"))
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    user = get_user_model().objects.filter(is_superuser=True).first()
    client = Client()
    client.force_login(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    queries = [(q.query, q.locale) for q in read_gold(args.gold)]
    indexes = floor_indexes()
    sizes = {m: index.ntotal for m, index in indexes.items()}

    port = free_port()
    log = open(WORKDIR / "gunicorn.log", "w")  # noqa: SIM115
    env = {**os.environ, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "1"}
    env["DJANGO_SETTINGS_MODULE"] = "kbsite.settings.bench"
    server = subprocess.Popen(
        [str(gunicorn_path()), "-c", "gunicorn.conf.py", "kbsite.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"

    def get(path):
        request = urllib.request.Request(base + path, headers={"Cookie": cookie})
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
            status = response.status
        return (time.perf_counter() - started) * 1000, status, body

    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                if get("/healthz")[1] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not start; see {WORKDIR / 'gunicorn.log'}")
            time.sleep(1)
        for text, locale in queries[:10]:  # warm-up (not measured)
            get("/api/v1/search/?" + urllib.parse.urlencode({"q": text, "locale": locale}))

        watch = CpuWatch()
        http, floor, errors = [], [], 0
        suffixes = ["", " please", " thanks", " asap"]
        for round_number in range(args.rounds):
            suffix = suffixes[round_number % len(suffixes)]
            for text, locale in queries:
                query = text + suffix
                params = urllib.parse.urlencode({"q": query, "locale": locale})
                ms, status, _body = get(f"/api/v1/search/?{params}")
                if status != 200:
                    errors += 1
                    continue
                http.append(ms)
                model_id = model_for_language(locale)
                encoder = get_encoder(model_id)
                clear_query_cache()
                started = time.perf_counter()
                with query_threads():
                    vector = np.asarray(encoder.encode_query(query), dtype="float32")
                    indexes[model_id].search(vector.reshape(1, -1), 100)
                floor.append((time.perf_counter() - started) * 1000)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()

    print(
        f"# Operator search over HTTP vs its floor (gunicorn, 1 worker, DEBUG off; "
        f"{os.cpu_count()} CPUs, load average at end {os.getloadavg()[0]:.2f}; "
        f"product code {code_fingerprint()})"
    )
    print(f"vectors per model: {sizes}; {len(http)} requests, {errors} errors")
    print(f"{'path':48} {'p50 ms':>8} {'p95 ms':>8}")
    print(
        f"{'GET /api/v1/search/ (HTTP, end to end)':48} {percentile(http, 50):8.1f} {percentile(http, 95):8.1f}"
    )
    print(
        f"{'floor: query encoding + exact FAISS':48} {percentile(floor, 50):8.1f} {percentile(floor, 95):8.1f}"
    )
    ratio50 = percentile(http, 50) / percentile(floor, 50)
    ratio95 = percentile(http, 95) / percentile(floor, 95)
    print(f"ratio HTTP / floor: p50 {ratio50:.2f}x, p95 {ratio95:.2f}x (goal: p95 <= 1.5x)")
    print(watch.report())


def gunicorn_path():
    from pathlib import Path

    return Path(sys.executable).with_name("gunicorn")


if __name__ == "__main__":
    main()
