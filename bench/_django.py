"""Set up Django for a benchmark script run as `python bench/<script>.py`."""

import functools
import os
import subprocess
import sys
import time as _time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED_EVAL_ENV = "KB_SHARED_EVAL"


def _main_checkout():
    """The main checkout when ROOT is a git worktree (/work/wt/NAME), else ROOT or None."""
    try:
        common = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--git-common-dir"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return (ROOT / common).resolve().parent if common else None


@functools.cache
def shared_eval_dir():
    """The shared evaluation sets (`../shared/eval`, kept out of the repository): $KB_SHARED_EVAL
    when set, else next to this checkout, else next to the main checkout (from a git worktree
    such as /work/wt/NAME, whose ../shared does not exist). Exits with where it looked."""
    if os.environ.get(SHARED_EVAL_ENV):
        path = Path(os.environ[SHARED_EVAL_ENV]).expanduser()
        if path.is_dir():
            return path
        sys.exit(f"{SHARED_EVAL_ENV}={path} is not a directory.")
    candidates = [ROOT.parent / "shared" / "eval"]
    main = _main_checkout()
    if main is not None and main != ROOT:
        candidates.append(main.parent / "shared" / "eval")
    for path in candidates:
        if path.is_dir():
            return path
    looked = ", ".join(str(p) for p in candidates)
    sys.exit(
        f"The shared evaluation sets were not found (looked in {looked}): "
        f"set {SHARED_EVAL_ENV} to the directory that holds banking77.gold.jsonl."
    )


def setup(settings_module="kbsite.settings.dev"):
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import django

    django.setup()


CODE_FILES = [
    "embeddings/indexing.py",
    "embeddings/store.py",
    "embeddings/encoder.py",
    "embeddings/chunking.py",
    "embeddings/vectors.py",
    "articles/indexing.py",
    "search/service.py",
    "search/views.py",
]


def code_fingerprint():
    """Short hash of the product files measured here (the code changes between runs)."""
    import hashlib

    digest = hashlib.sha256()
    for name in CODE_FILES:
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()[:12]


def run_header(title, workdir, torch_threads=0):
    """Set torch's intra-op threads (0: torch's default) and return the run's first line:
    CPUs, torch threads, load average at start, the database copy and code_fingerprint()."""
    import torch

    if torch_threads:
        torch.set_num_threads(torch_threads)
    return (
        f"# {title} ({os.cpu_count()} CPUs, torch threads {torch.get_num_threads()}, "
        f"load average at start {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
        f"DB copy in {workdir}; product code {code_fingerprint()})"
    )


def run_footer(watch, started):
    """The run's last lines: `watch`'s CPU report (a CpuWatch), the load average at the end
    and the seconds since `started` (time.perf_counter())."""
    return (
        f"\n{watch.report()}\nload average at end {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
        f"total run time {_time.perf_counter() - started:.0f} s"
    )


def copy_database(prefix):
    """Copy var/db.sqlite3 (and a non-empty WAL) to a temp dir; point Django at the copy.

    Call before setup(): the settings read these environment variables."""
    import shutil
    import tempfile

    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    source = ROOT / "var" / "db.sqlite3"
    if not source.exists():
        raise SystemExit("run `make demo` first: var/db.sqlite3 is missing")
    shutil.copyfile(source, workdir / "db.sqlite3")
    wal = source.with_name("db.sqlite3-wal")
    if wal.exists() and wal.stat().st_size:
        shutil.copyfile(wal, workdir / "db.sqlite3-wal")
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'db.sqlite3'}"
    os.environ["KB_VECTOR_INDEX_DIR"] = str(workdir / "vector_index")
    os.environ["KB_VAR_DIR"] = str(workdir)
    migrate_copy()
    return workdir


def migrate_copy():
    """Bring the copied database to the code's migrations. A var/db.sqlite3 made by an older
    `make demo` lacks tables the code now reads (2026-11-30: every article page of the load
    test answered 500, "no such table: articles_sitebranding", and each worker's warm-up
    failed on the missing index-generation table), so benchmarks migrate their copy first."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--no-input"],
        cwd=ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"},
        capture_output=True,
        text=True,
    )
    if result.returncode:
        raise SystemExit(f"could not migrate the copied database:\n{result.stderr[-2000:]}")
    applied = [line.strip() for line in result.stdout.splitlines() if "Applying" in line]
    if applied:
        print(
            f"(the copy of var/db.sqlite3 was {len(applied)} migrations behind; migrated it: "
            "run `make demo` again to bring var/ itself up to date)",
            file=sys.stderr,
        )


OPERATOR_SESSION = r"""
from django.contrib.auth import get_user_model
from django.test import Client
client = Client()
client.force_login(get_user_model().objects.get(username="operator"))
print(client.cookies["sessionid"].value)
"""


def operator_session(env):
    """A logged-in operator's session cookie, made by `manage.py shell` with `env` (the
    server's settings and database) before the server starts."""
    import subprocess

    return subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", OPERATOR_SESSION],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[-1]


def publish_revision(pages, n):
    """The load test's editor, one publish: load the latest revision of the n-th of `pages`
    (cyclically), change a step's expected result and publish it in a transaction (the index
    update runs on commit). bench/load_test.py's PUBLISHER and bench/publish_cost.py."""
    from django.db import transaction

    page = pages[n % len(pages)].get_latest_revision_as_object()
    blocks = list(page.resolution.raw_data)
    step = next(b for b in blocks if b["type"] == "step")
    step["value"]["expected_result"] = f"load test revision {n} {_time.time()}"
    page.resolution = page.resolution.stream_block.to_python(blocks)
    with transaction.atomic():
        page.save_revision().publish()


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now (the system picks it)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthz(port):
    """True when http://127.0.0.1:<port>/healthz answers 200 (False while the server cannot
    be reached or answers an error): the server reports ready."""
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def wait_for(ready, seconds=300, pause=1.0, process=None):
    """Call ready() every `pause` seconds until it is true (True), `seconds` have passed or
    `process` (a Popen) has exited (False); e.g. wait_for(lambda: healthz(port))."""
    deadline = _time.monotonic() + seconds
    while True:
        if ready():
            return True
        if _time.monotonic() > deadline or (process is not None and process.poll() is not None):
            return False
        _time.sleep(pause)


def rank_scores(results, ext, k=10):
    """Scores of ranked answers to gold questions: `results` gives per question its relevant
    external ids (empty: unanswerable), its ranking [(page id, ...), ...] and its confidence;
    `ext` maps page ids to external ids. Returns the percentages of answerable questions with
    a relevant article first (hit1) and in the top 3 (hit3), 100 x the mean reciprocal rank
    of the first relevant article in the top k (mrr), the confidences of the answerable (pos)
    and unanswerable (neg) questions, and n, the answerable count (at least 1)."""
    mrr = hit1 = hit3 = n = 0
    pos, neg = [], []
    for relevant, ranked, conf in results:
        if not relevant:
            neg.append(conf)
            continue
        pos.append(conf)
        n += 1
        ids = [ext.get(row[0]) for row in ranked[:k]]
        r = next((i for i, e in enumerate(ids, 1) if e in relevant), None)
        if r:
            mrr += 1 / r
            hit1 += r == 1
            hit3 += r <= 3
    n = max(n, 1)
    return {
        "mrr": 100 * mrr / n,
        "hit1": 100 * hit1 / n,
        "hit3": 100 * hit3 / n,
        "pos": pos,
        "neg": neg,
        "n": n,
    }


class CpuWatch:
    """CPU-seconds used by other processes while the benchmark ran (contention check)."""

    def __init__(self):
        import psutil

        self._psutil = psutil
        self.started = _time.perf_counter()
        self.system = self._busy(self._psutil.cpu_times())
        self.own = self._own()

    def _busy(self, t):
        return t.user + t.nice + t.system + getattr(t, "irq", 0) + getattr(t, "softirq", 0)

    def _own(self):
        t = self._psutil.Process().cpu_times()
        return t.user + t.system + t.children_user + t.children_system

    def other(self):
        """CPU-seconds used by other processes since the start (0 on a quiet machine)."""
        system = self._busy(self._psutil.cpu_times()) - self.system
        return max(0.0, system - (self._own() - self.own))

    def report(self):
        wall = _time.perf_counter() - self.started
        system = self._busy(self._psutil.cpu_times()) - self.system
        own = self._own() - self.own
        return (
            f"CPU-seconds over {wall:.0f} s wall: this process {own:.0f}, "
            f"other processes {max(0.0, system - own):.0f} (of {wall * (os.cpu_count() or 1):.0f} available)"
        )


def print_first_hit_change(label, text, query, ranked_a, ranked_b, ext, pages, width):
    """One line of a --diff between two ranking variants when their first hits differ: the
    question and each variant's first article, marked ok/bad against the gold."""
    if not (ranked_a and ranked_b) or ranked_a[0][0] == ranked_b[0][0]:
        return
    marks = ["ok " if ext.get(r[0][0]) in query.relevant else "bad" for r in (ranked_a, ranked_b)]
    first_a, first_b = pages[ranked_a[0][0]][:width], pages[ranked_b[0][0]][:width]
    print(
        f"[{label}] {text[: width * 2 - 1]:<{width * 2 - 1}} {marks[0]} {first_a:<{width}}"
        f" -> {marks[1]} {first_b}"
    )


def insert_synthetic_chunks(
    pages, missing, centres, sigma, rng, counter=0, batch=5000, model_id=None
):
    """Insert `missing` English Chunk rows with clustered, L2-normalised float32 vectors
    (noisy copies of `centres`) spread over `pages`; return the updated row counter.

    Only the rows: the caller brings FAISS in line (embeddings.indexing.sync_locale)."""
    import numpy as np
    from wagtail.models import Locale

    from embeddings.encoder import get_encoder, model_for_language
    from embeddings.models import Chunk

    encoder = get_encoder(model_id or model_for_language("en"))
    en = Locale.objects.get(language_code="en")
    while missing > 0:
        n = min(batch, missing)
        x = centres[rng.integers(0, len(centres), n)] + sigma * rng.standard_normal(
            (n, encoder.dimension), dtype="float32"
        )
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        owners = rng.choice(pages, n)
        rows = []
        for i in range(n):
            counter += 1
            rows.append(
                Chunk(
                    page_id=int(owners[i]),
                    locale=en,
                    position=100_000 + counter,
                    kind="issue",
                    text=f"synthetic chunk {counter}",
                    text_hash=f"synthetic-{counter}",
                    vector=Chunk.encode_vector(x[i]),
                    model_id=encoder.model_id,
                    dimension=encoder.dimension,
                    visibility=Chunk.VISIBILITY_PUBLIC,
                )
            )
        Chunk.objects.bulk_create(rows, batch_size=batch)
        missing -= n
    return counter


def gathered_gold(cache, paths, fresh, rows_of):
    """Rows gathered once for every query of the gold files `paths` and kept in the pickle
    `cache` (read back while it holds the same paths; `fresh`: gathered again):
    rows_of(path, query, half, user) gives each query's rows, with `half` as in
    bench/tune_search.py (the gold's committed "split"; otherwise even lines tune, odd
    lines test) and `user` the first superuser (an operator's search sees everything)."""
    import pickle

    if cache.exists() and not fresh:
        cached = pickle.loads(cache.read_bytes())
        if cached["paths"] == paths:
            return cached["rows"]
    from django.contrib.auth import get_user_model

    from search.evaluation import read_gold

    user = get_user_model().objects.filter(is_superuser=True).first()
    rows = []
    for path in paths:
        print(f"retrieving candidates for {path} ...", file=sys.stderr)
        for number, q in enumerate(read_gold(path)):
            half = q.split or ("tune" if number % 2 == 0 else "test")
            rows.extend(rows_of(path, q, half, user))
    cache.write_bytes(pickle.dumps({"paths": paths, "rows": rows}))
    return rows
