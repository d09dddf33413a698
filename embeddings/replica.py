"""Vector index replicas: every node keeps its own FAISS files and catches up from the database.

The chunk table is the source of truth. Every transaction that changes chunk rows bumps the
database generation (`IndexState.bump`, embeddings/indexing.py) and logs which page and
locale changed (`IndexChange`). A node (one KB_VECTOR_INDEX_DIR, shared by the processes of
one machine) records in `replica.json` the database generation its files reflect.

`catch_up()` compares the two and, when the node is behind, brings each model's index of
every locale changed since then in line with the chunk table (only the chunks that differ
are loaded; missing or corrupt files are rebuilt). When the change log no longer reaches
back to the node's generation (a node that was off for a long time), or the node has no
`replica.json` (new, or stopped mid-update before it first finished), every locale with
files is rewritten from the database. Only then does `replica.json` move: a node killed
mid-update starts over from its old generation, and applying a change twice is harmless.

Who calls it: a follower thread in each web process (`start_follower`, started by the
warm-up), every KB_REPLICA_CHECK_SECONDS and whenever a search wakes it. A search never
catches up itself while its process has a follower (`maybe_catch_up` only wakes the thread,
at most once per KB_REPLICA_CHECK_SECONDS per process, and the search is served from the
current files): a catch-up reads chunk rows and writes FAISS files, which an operator must
not wait for. A process without a follower (management commands, tests, a shell) catches
up in the search, as before, so it always answers from the database's generation.
"""

import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections, connections
from django.utils import timezone
from filelock import FileLock, Timeout
from wagtail.models import Locale

from .encoder import model_ids
from .indexing import holds_generation, sync_locale
from .models import IndexChange, IndexState

logger = logging.getLogger("kb.replica")

STATE_FILE = "replica.json"
# Fault tests only: pause after each index written during a catch-up, so a test can kill a
# node in the middle of one (tests/test_replicas.py). Never set in production.
_FAULT_PAUSE_SECONDS = float(os.environ.get("KB_REPLICA_FAULT_PAUSE", "0") or 0)


@dataclass
class CatchUp:
    from_generation: int | None
    to_generation: int
    locales: list = field(default_factory=list)
    full: bool = False
    seconds: float = 0.0


def _directory():
    return Path(settings.KB_VECTOR_INDEX_DIR)


def local_generation(directory=None):
    """The database generation this node's files reflect; None if unknown (a new node)."""
    path = (directory or _directory()) / STATE_FILE
    try:
        return int(json.loads(path.read_text())["generation"])
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        logger.warning("%s is unreadable; this node catches up from scratch", STATE_FILE)
        return None


def _write_local_generation(directory, generation):
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".{STATE_FILE}.tmp-{os.getpid()}-{threading.get_ident()}"
    with open(tmp, "w") as fh:
        json.dump({"generation": generation, "applied_at": time.time()}, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, directory / STATE_FILE)


def _changed_locales(since, until):
    """(locale codes changed in generations (since, until] or None for all of them, whether
    the log no longer reaches back to `since`)."""
    if not IndexChange.objects.filter(generation=since + 1).exists():
        return None, True
    locale_ids = set(
        IndexChange.objects.filter(generation__gt=since, generation__lte=until)
        .values_list("locale_id", flat=True)
        .distinct()
    )
    if None in locale_ids:  # a page removed, or `rebuild_vector_index`: any locale
        return None, False
    codes = Locale.objects.filter(pk__in=locale_ids).values_list("language_code", flat=True)
    return sorted(codes), False


def catch_up(wait=False):
    """Bring this node's files to the database generation. Returns a CatchUp (empty `locales`
    when nothing was owed), or None when another process of this node is already at it and
    `wait` is false (its readers reload the files it writes)."""
    directory = _directory()
    target = IndexState.current()
    local = local_generation(directory)
    if local == target:
        return CatchUp(local, local)
    directory.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(directory / ".replica.lock"), timeout=-1 if wait else 0)
    try:
        lock.acquire()
    except Timeout:
        return None
    try:
        started = time.perf_counter()
        local = local_generation(directory)
        target = IndexState.current()
        if local == target:
            return CatchUp(local, local)
        if local is not None and local > target:
            # The database went back (a restored dump, another database): start over.
            logger.warning(
                "this node's index is at generation %s, the database at %s (restored?): "
                "rewriting it from the database",
                local,
                target,
            )
            codes, gap = None, True
        elif local is None:
            codes, gap = None, False  # a new node compares every locale it has files for
        else:
            codes, gap = _changed_locales(local, target)
        result = CatchUp(local, target, full=gap)
        if codes is None:
            codes = [code for code, _name in settings.WAGTAIL_CONTENT_LANGUAGES]
        for code in codes:
            for model_id in model_ids():
                if not result.full and holds_generation(code, model_id, target):
                    # Written from the chunk table at `target` or later (by this node's own
                    # indexer, on a single machine): nothing to load or compare.
                    continue
                # Chunks are read after `target`: the files hold at least that generation.
                sync = sync_locale(code, model_id, only_if_built=True, full=result.full)
                if sync.added or sync.removed or sync.rebuilt:
                    result.locales.append(f"{code}/{model_id}")
                    if _FAULT_PAUSE_SECONDS:
                        logger.warning("fault pause after %s/%s", code, model_id)
                        time.sleep(_FAULT_PAUSE_SECONDS)
        _write_local_generation(directory, target)
        result.seconds = time.perf_counter() - started
        logger.info(
            "vector index replica caught up from generation %s to %s in %.2f s%s: %s",
            local,
            target,
            result.seconds,
            " (rebuilt from the database)" if result.full else "",
            ", ".join(result.locales) or "no index needed a change",
        )
        return result
    finally:
        lock.release()


_checks = {}  # index directory -> monotonic time of this process's last check
_checks_lock = threading.Lock()


def maybe_catch_up():
    """Before a search, at most once per KB_REPLICA_CHECK_SECONDS per process: wake this
    process's follower thread (the search is served from the current files meanwhile), or,
    without a follower, catch up here. Never fails the search: on an error the node serves
    its current files and tries again later. Returns "woken", "caught up" or None."""
    key = str(_directory())
    now = time.monotonic()
    with _checks_lock:
        if now - _checks.get(key, float("-inf")) < settings.KB_REPLICA_CHECK_SECONDS:
            return None
        _checks[key] = now
    if follower_running():
        _follower["wake"].set()
        return "woken"
    try:
        catch_up()
    except Exception:
        logger.exception("vector index replica could not catch up; serving the current files")
        return None
    return "caught up"


def status():
    """This node against the database, for /healthz: generations, lag and its age."""
    local = local_generation()
    database = IndexState.current()
    row = {"local_generation": local, "database_generation": database, "lag": 0}
    row["behind_seconds"] = None
    if local is not None and local > database:
        row["lag"] = None
        row["problem"] = "ahead of the database (restored?): the node rewrites its index"
        return row
    row["lag"] = database - (local or 0)
    if row["lag"]:
        oldest = (
            IndexChange.objects.filter(generation__gt=local or 0)
            .order_by("generation")
            .values_list("changed_at", flat=True)
            .first()
        )
        if oldest is not None:
            row["behind_seconds"] = round((timezone.now() - oldest).total_seconds(), 1)
    return row


_follower = {"thread": None, "wake": threading.Event(), "stop": threading.Event()}


def follower_running():
    thread = _follower["thread"]
    return thread is not None and thread.is_alive()


def start_follower(interval=None):
    """A daemon thread that catches up every `interval` seconds (KB_REPLICA_CHECK_SECONDS)
    and as soon as a search wakes it, so searches never wait for a catch-up and a node
    without searches stays current too. One per process; returns the thread."""
    if follower_running():
        return _follower["thread"]
    interval = interval or settings.KB_REPLICA_CHECK_SECONDS
    wake, stop = _follower["wake"], _follower["stop"]
    stop.clear()

    def follow():
        try:
            while not stop.is_set():
                wake.wait(interval)
                wake.clear()
                if stop.is_set():
                    break
                try:
                    close_old_connections()
                    catch_up()
                except Exception:
                    logger.exception("vector index replica could not catch up; retrying")
        finally:
            connections.close_all()  # this thread's own connections

    thread = threading.Thread(target=follow, name="kb-replica-follower", daemon=True)
    thread.start()
    _follower["thread"] = thread
    return thread


def stop_follower(timeout=30):
    """Stop this process's follower thread (tests; a web process keeps it until it exits)."""
    thread = _follower["thread"]
    if thread is None:
        return
    _follower["stop"].set()
    _follower["wake"].set()
    thread.join(timeout)
    _follower["thread"] = None
