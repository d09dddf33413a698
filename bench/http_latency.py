"""Operator search over HTTP against its floor (issue 13's latency goal), in one run.

    .venv/bin/python bench/http_latency.py [--rounds 2] [--server LABEL=TREE[,KEY=VALUE...]]...

Works on a copy of var/db.sqlite3 (`make demo`; the figures in docs/ also had banking77 and
the cross-lingual articles imported). Starts gunicorn (the repository's gunicorn.conf.py,
ONE worker, settings kbsite.settings.bench: DEBUG off; persistent database connections as
deployed, DB_CONN_MAX_AGE=60, unless the environment says otherwise) on 127.0.0.1, logs a superuser in
through a session cookie, and sends every demo gold query (170, en/nl/fr, distinct) to
GET /api/v1/search/ one at a time, --rounds times with a different suffix each round so
no query vector is ever cached. Right after each request, in this process and on the same
query, the floor: the routed model's query encoding + an exact FAISS inner-product search
(IndexFlatIP) over all of that model's chunk vectors (the same number of vectors the
search reads), one thread, as gunicorn's worker uses. Prints p50/p95 of both and the ratio
(goal: p95 <= 1.5x the floor's p95), and what other processes used of the CPU meanwhile.

With several --server variants (another checkout's code, other environment settings), one
gunicorn per variant runs on its own copy of the database, and every query goes to each of
them in turn (the order rotating), then to the floor: a before/after in one run, at the
same load. Each variant's server CPU per request (master + worker, from /proc) is printed
too: far less sensitive to other processes than the wall-clock percentiles. It includes
work done after the answer was sent (the operator search's log row, written once the
response is closed: insights/events.py), which the wall-clock figures do not wait for.
"""

import argparse
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from _django import ROOT, CpuWatch, code_fingerprint, copy_database, free_port, healthz, wait_for

WORKDIR = copy_database("kb-http-bench-")
os.environ["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)  # the same for gunicorn and us
os.environ.setdefault("KB_QUERY_THREADS", "1")
# Persistent database connections, as the documented deployment runs (deploy/kb.env.example:
# DB_CONN_MAX_AGE=60). The settings' default, 0, opens a new connection for every request:
# with SQLite that is the schema parsed again and a cold page cache, ~10 ms of the worker's
# CPU per search here (docs/performance.md); give --server x=.,DB_CONN_MAX_AGE=0 to see it.
os.environ.setdefault("DB_CONN_MAX_AGE", "60")

from _django import setup  # noqa: E402

setup("kbsite.settings.bench")

import faiss  # noqa: E402
import numpy as np  # noqa: E402
import psutil  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from embeddings.encoder import get_encoder, model_for_language, model_ids, query_threads  # noqa: E402
from embeddings.vectors import clear_query_cache, db_vectors  # noqa: E402
from search.evaluation import read_gold  # noqa: E402


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


def parse_server(spec):
    """LABEL=TREE[,KEY=VALUE...] -> (label, tree, {key: value})."""
    label, _, rest = spec.partition("=")
    tree, *pairs = rest.split(",") if rest else [str(ROOT)]
    env = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        env[key] = value
    return label or "this tree", Path(tree or ROOT).resolve(), env


def server_cpu(pid):
    """CPU-seconds used so far by a gunicorn master and its workers."""
    try:
        master = psutil.Process(pid)
        total = 0.0
        for proc in [master, *master.children(recursive=True)]:
            t = proc.cpu_times()
            total += t.user + t.system
        return total
    except psutil.Error:
        return float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gold", default=str(ROOT / "search" / "eval" / "demo_gold.jsonl"))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--server",
        action="append",
        metavar="LABEL=TREE[,KEY=VALUE...]",
        help="a variant to measure (repeatable; requests alternate between them): the code "
        "checked out at TREE (default this one) with these extra environment settings, "
        "e.g. --server main=/work/main --server branch=. or "
        "--server conn0=.,DB_CONN_MAX_AGE=0 --server conn60=.,DB_CONN_MAX_AGE=60",
    )
    args = parser.parse_args()
    variants = [parse_server(spec) for spec in (args.server or ["this tree="])]

    user = get_user_model().objects.filter(is_superuser=True).first()
    client = Client()
    client.force_login(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    queries = [(q.query, q.locale) for q in read_gold(args.gold)]
    indexes = floor_indexes()
    sizes = {m: index.ntotal for m, index in indexes.items()}
    # Every server gets its own copy of the database (with the session row) and index folder,
    # so one server's search-log writes never wait for another's.
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()

    servers = []
    try:
        for number, (label, tree, extra) in enumerate(variants):
            folder = WORKDIR / f"server{number}"
            folder.mkdir()
            shutil.copyfile(WORKDIR / "db.sqlite3", folder / "db.sqlite3")
            port = free_port()
            log = open(folder / "gunicorn.log", "w")  # noqa: SIM115
            env = {
                **os.environ,
                "GUNICORN_BIND": f"127.0.0.1:{port}",
                "WEB_CONCURRENCY": "1",
                "DJANGO_SETTINGS_MODULE": "kbsite.settings.bench",
                "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
                "KB_VECTOR_INDEX_DIR": str(folder / "vector_index"),
                "KB_VAR_DIR": str(folder),
                **extra,
            }
            process = subprocess.Popen(
                [str(gunicorn_path()), "-c", "gunicorn.conf.py", "kbsite.wsgi"],
                cwd=tree,
                env=env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
            commit = subprocess.run(
                ["git", "-C", str(tree), "log", "-1", "--format=%h"],
                capture_output=True,
                text=True,
            ).stdout.strip()
            servers.append(
                {
                    "label": label,
                    "desc": f"{tree} @ {commit or '?'}"
                    + (f" {' '.join(f'{k}={v}' for k, v in extra.items())}" if extra else ""),
                    "base": f"http://127.0.0.1:{port}",
                    "port": port,
                    "process": process,
                    "log": log,
                    "folder": folder,
                    "http": [],
                    "errors": 0,
                }
            )

        def get(server, path):
            request = urllib.request.Request(server["base"] + path, headers={"Cookie": cookie})
            started = time.perf_counter()
            with urllib.request.urlopen(request, timeout=30) as response:
                body = response.read()
                status = response.status
            return (time.perf_counter() - started) * 1000, status, body

        for server in servers:
            if not wait_for(lambda s=server: healthz(s["port"]), process=server["process"]):
                raise SystemExit(f"gunicorn did not start; see {server['folder'] / 'gunicorn.log'}")
            for text, locale in queries[:10]:  # warm-up (not measured)
                get(
                    server,
                    "/api/v1/search/?" + urllib.parse.urlencode({"q": text, "locale": locale}),
                )

        watch = CpuWatch()
        for server in servers:
            server["cpu0"] = server_cpu(server["process"].pid)
        floor = []
        suffixes = ["", " please", " thanks", " asap"]
        for round_number in range(args.rounds):
            suffix = suffixes[round_number % len(suffixes)]
            for number, (text, locale) in enumerate(queries):
                query = text + suffix
                params = urllib.parse.urlencode({"q": query, "locale": locale})
                # Alternate which variant goes first, so neither always follows the floor.
                shift = (number + round_number) % len(servers)
                for server in servers[shift:] + servers[:shift]:
                    ms, status, _body = get(server, f"/api/v1/search/?{params}")
                    if status != 200:
                        server["errors"] += 1
                        continue
                    server["http"].append(ms)
                model_id = model_for_language(locale)
                encoder = get_encoder(model_id)
                clear_query_cache()
                started = time.perf_counter()
                with query_threads():
                    vector = np.asarray(encoder.encode_query(query), dtype="float32")
                    indexes[model_id].search(vector.reshape(1, -1), 100)
                floor.append((time.perf_counter() - started) * 1000)
        for server in servers:
            server["cpu"] = server_cpu(server["process"].pid) - server["cpu0"]
    finally:
        for server in servers:
            os.killpg(server["process"].pid, signal.SIGTERM)
            try:
                server["process"].wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server["process"].pid, signal.SIGKILL)
            server["log"].close()

    print(
        f"# Operator search over HTTP vs its floor (gunicorn, 1 worker, DEBUG off; "
        f"{os.cpu_count()} CPUs, load average at end {os.getloadavg()[0]:.2f}; "
        f"DB_CONN_MAX_AGE {os.environ['DB_CONN_MAX_AGE']} unless a variant says otherwise; "
        f"product code {code_fingerprint()})"
    )
    print(f"vectors per model: {sizes}; {len(floor)} queries, requests alternate between:")
    for server in servers:
        print(f"  {server['label']}: {server['desc']}")
    print(f"{'path':48} {'p50 ms':>8} {'p95 ms':>8} {'server CPU ms/request':>22}")
    for server in servers:
        http = server["http"]
        label = f"GET /api/v1/search/ ({server['label']})"
        cpu = server["cpu"] * 1000 / max(1, len(http))
        print(
            f"{label:48} {percentile(http, 50):8.1f} {percentile(http, 95):8.1f} {cpu:22.1f}"
            f"   ({len(http)} requests, {server['errors']} errors)"
        )
    print(
        f"{'floor: query encoding + exact FAISS':48} {percentile(floor, 50):8.1f} {percentile(floor, 95):8.1f}"
    )
    for server in servers:
        http = server["http"]
        ratio50 = percentile(http, 50) / percentile(floor, 50)
        ratio95 = percentile(http, 95) / percentile(floor, 95)
        print(
            f"ratio HTTP / floor ({server['label']}): p50 {ratio50:.2f}x, p95 {ratio95:.2f}x "
            "(goal: p95 <= 1.5x)"
        )
    print(watch.report())


def gunicorn_path():
    return Path(sys.executable).with_name("gunicorn")


if __name__ == "__main__":
    main()
