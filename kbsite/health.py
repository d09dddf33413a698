"""`GET /healthz` for monitoring: the database, this node's vector index per language, its
replica generation against the database's, and how far the background worker lags. JSON, no secrets (no addresses, paths or settings).

Status "ok" (200); "degraded" (200: searches are served but something needs attention — an
index behind or ahead of the chunk table or unreadable, which the next search or
`rebuild_vector_index` rebuilds from the database, or a lagging worker); "down" (503: the
database does not answer, or it lacks migrations the code needs: pages would answer 500). The index part loads each language's files from disk,
so it is computed at most every HEALTH_CACHE_SECONDS per process.
"""

import os
import socket
import time

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from embeddings import replica
from embeddings.encoder import model_ids
from embeddings.info import index_info
from embeddings.models import PendingIndexUpdate

# Polling every few seconds must not reload every FAISS file every few seconds.
HEALTH_CACHE_SECONDS = 10
# A queued task or owed index update older than this marks the worker as lagging.
WORKER_LAG_WARNING_SECONDS = 120
# A node whose files miss a database change older than this is degraded: it catches up
# within a second or two of a change (embeddings/replica.py) unless something is wrong.
REPLICA_LAG_WARNING_SECONDS = 30

_index_cache = {"at": 0.0, "value": None}


_latest_migrations = []  # this code's newest migration per app, read once per process


def pending_migrations():
    """The newest migrations of this code that the database has not applied ("app.name").

    A server started on a database an older release left behind answers 500 on every page
    that reads a new table (the load test of 2026-11-30: "no such table:
    articles_sitebranding"); it must not report ready. The migration files are read once per
    process, the applied list (one small query) on every call."""
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.recorder import MigrationRecorder

    if not _latest_migrations:
        graph = MigrationLoader(None, ignore_no_migrations=True).graph
        _latest_migrations.extend(sorted(graph.leaf_nodes()))
    applied = MigrationRecorder(connection).applied_migrations()
    return [f"{app}.{name}" for app, name in _latest_migrations if (app, name) not in applied]


def database_health():
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        pending = pending_migrations()
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}
    if pending:
        return {"ok": False, "error": "migrations not applied (run migrate)", "pending": pending}
    return {"ok": True, "vendor": connection.vendor, "ms": round(_ms_since(started), 1)}


def _model_health(code, model_id):

    try:
        row = index_info(code, model_id)
    except Exception as exc:
        return {"ok": False, "in_sync": False, "generation": None, "problem": type(exc).__name__}
    return {
        "ok": not row.get("problem"),
        "generation": row.get("generation"),
        "vectors": row.get("index_count"),
        "db_chunks": row.get("db_chunks"),
        "in_sync": not row.get("missing_from_index") and not row.get("extra_in_index"),
        "problem": row.get("problem") or "",
    }


def index_health():
    """Per language: each embedding model's index generation on this node's disk and whether
    it matches the chunk table; the language is fine when every model's index is."""

    now = time.monotonic()
    if _index_cache["value"] is not None and now - _index_cache["at"] < HEALTH_CACHE_SECONDS:
        return _index_cache["value"]
    locales = {}
    for code, _name in settings.WAGTAIL_CONTENT_LANGUAGES:
        models = {model_id: _model_health(code, model_id) for model_id in model_ids()}
        generations = [m["generation"] for m in models.values()]
        locales[code] = {
            "ok": all(m["ok"] for m in models.values()),
            "in_sync": all(m["in_sync"] for m in models.values()),
            # The oldest model's generation: None until every model has an index here.
            "generation": None if None in generations else min(generations),
            "models": models,
        }
    _index_cache.update(at=now, value=locales)
    return locales


def replica_health():
    """This node's index replica against the database: generations, lag, and how old the
    oldest change it has not applied yet is. Not cached: two primary-key reads and a file."""
    try:
        row = replica.status()
    except Exception as exc:
        return {"ok": False, "problem": type(exc).__name__}
    row["ok"] = row["lag"] == 0 or (
        row["lag"] is not None and (row["behind_seconds"] or 0) <= REPLICA_LAG_WARNING_SECONDS
    )
    return row


def worker_health():
    """Queued tasks (database backend) and owed index updates, with the age of the oldest."""

    backend = settings.TASKS["default"]["BACKEND"].rsplit(".", 1)[-1]
    now = timezone.now()
    result = {"backend": backend, "queued_tasks": 0, "oldest_task_seconds": None}
    if "django_tasks_db" in settings.INSTALLED_APPS and backend == "DatabaseBackend":
        from django_tasks_db.models import DBTaskResult

        ready = DBTaskResult.objects.ready()
        result["queued_tasks"] = ready.count()
        oldest = ready.order_by("enqueued_at").values_list("enqueued_at", flat=True).first()
        if oldest is not None:
            result["oldest_task_seconds"] = round((now - oldest).total_seconds(), 1)
    pending = PendingIndexUpdate.objects.all()
    result["pending_index_updates"] = pending.count()
    oldest = pending.order_by("requested_at").values_list("requested_at", flat=True).first()
    result["oldest_index_update_seconds"] = (
        round((now - oldest).total_seconds(), 1) if oldest is not None else None
    )
    lag = max(result["oldest_task_seconds"] or 0, result["oldest_index_update_seconds"] or 0)
    result["lag_seconds"] = lag
    result["ok"] = lag <= WORKER_LAG_WARNING_SECONDS
    return result


@never_cache
@require_GET
def healthz(request):
    started = time.perf_counter()
    body = {"node": socket.gethostname(), "pid": os.getpid(), "database": database_health()}
    if not body["database"]["ok"]:
        body["status"] = "down"
        return JsonResponse(body, status=503)
    body["vector_index"] = index_health()
    body["replica"] = replica_health()
    body["worker"] = worker_health()
    indexes_fine = all(row["ok"] and row["in_sync"] for row in body["vector_index"].values())
    fine = indexes_fine and body["replica"]["ok"] and body["worker"]["ok"]
    body["status"] = "ok" if fine else "degraded"
    body["took_ms"] = round(_ms_since(started), 1)
    return JsonResponse(body)


def _ms_since(started):
    return (time.perf_counter() - started) * 1000
