"""Bounded load test: gunicorn (several workers) on 127.0.0.1, locust headless, rising concurrency.

    python bench/load_test.py [--users 10,25,50] [--seconds 30] [--workers 3]

Runs against a copy of var/db.sqlite3 (after `make demo`), so the dev database is untouched.
During the last (design-load) step a separate process edits and publishes articles every
two seconds, so searches run while the index is being rewritten. Only 127.0.0.1 is used;
every step stops by itself after --seconds.
"""

import argparse
import csv
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from _django import copy_database

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
PORT = 8021

PUBLISHER = r"""
import os, sys, time
sys.path.insert(0, os.getcwd())
import django
django.setup()
from django.db import transaction
from articles.models import SolutionArticlePage
pages = list(SolutionArticlePage.objects.live().filter(locale__language_code="en", audience="public")[:5])
n = 0
deadline = time.time() + float(sys.argv[1])
while time.time() < deadline:
    page = pages[n % len(pages)].get_latest_revision_as_object()
    blocks = list(page.resolution.raw_data)
    step = next(b for b in blocks if b["type"] == "step")
    step["value"]["expected_result"] = f"load test revision {n}"
    page.resolution = page.resolution.stream_block.to_python(blocks)
    with transaction.atomic():
        page.save_revision().publish()
    n += 1
    time.sleep(2)
print(f"published {n} revisions", flush=True)
"""


def wait_for(url, seconds=90):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=5).read()
            return
        except OSError:
            time.sleep(1)
    raise SystemExit(f"server did not come up at {url}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", default="10,25,50")
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--workers", type=int, default=3)
    args = parser.parse_args()
    work = copy_database("kb-load-")  # sets DATABASE_URL, KB_VECTOR_INDEX_DIR, KB_VAR_DIR
    if (ROOT / "var" / "vector_index").exists():
        shutil.copytree(ROOT / "var" / "vector_index", work / "vector_index")
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="kbsite.settings.bench",  # DEBUG off, as in production
        # One key for every worker of this run (the bench settings would pick one per process).
        DJANGO_SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
    )
    server = subprocess.Popen(
        [
            str(Path(PY).with_name("gunicorn")),
            "-c",
            str(ROOT / "gunicorn.conf.py"),  # each worker warms the model after its fork
            "kbsite.wsgi",
            "--workers",
            str(args.workers),
            "--bind",
            f"127.0.0.1:{PORT}",
            "--timeout",
            "60",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(work / "gunicorn.log", "w"),
    )
    rows = []
    try:
        wait_for(f"http://127.0.0.1:{PORT}/en/")
        urllib.request.urlopen(f"http://127.0.0.1:{PORT}/api/v1/public/search/?q=warmup").read()
        steps = [int(u) for u in args.users.split(",")]
        for users in steps:
            publisher = None
            if users == steps[-1]:
                publisher = subprocess.Popen(
                    [PY, "-c", PUBLISHER, str(args.seconds)],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.PIPE,
                    text=True,
                )
            prefix = work / f"u{users}"
            subprocess.run(
                [
                    str(Path(PY).with_name("locust")),
                    "-f",
                    str(ROOT / "bench" / "locustfile.py"),
                    "--headless",
                    "-u",
                    str(users),
                    "-r",
                    str(users),
                    "-t",
                    f"{args.seconds}s",
                    "--host",
                    f"http://127.0.0.1:{PORT}",
                    "--csv",
                    str(prefix),
                    "--only-summary",
                ],
                cwd=ROOT,
                env=env,
                check=False,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            published = publisher.communicate(timeout=120)[0].strip() if publisher else ""
            with open(f"{prefix}_stats.csv") as fh:
                for row in csv.DictReader(fh):
                    if row["Name"] in ("login form", "login"):
                        continue
                    rows.append(
                        (
                            users,
                            row["Name"],
                            int(row["Request Count"]),
                            int(row["Failure Count"]),
                            float(row["Requests/s"]),
                            row["50%"],
                            row["95%"],
                            row["99%"],
                            published,
                        )
                    )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    print(
        f"gunicorn {args.workers} workers on 127.0.0.1, {args.seconds} s per step, machine: {os.cpu_count()} cores"
    )
    print(
        f"{'users':>5} {'endpoint':24} {'requests':>8} {'errors':>6} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'p99 ms':>7}  note"
    )
    for users, name, count, failures, rps, p50, p95, p99, note in rows:
        print(
            f"{users:>5} {name:24} {count:>8} {failures:>6} {rps:>7.1f} {p50:>7} {p95:>7} {p99:>7}  "
            f"{note if name == 'Aggregated' else ''}"
        )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
