"""Set up Django for a benchmark script run as `python bench/<script>.py`."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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
    return workdir
