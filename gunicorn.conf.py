"""Gunicorn settings: `.venv/bin/gunicorn -c gunicorn.conf.py kbsite.wsgi`.

Each worker loads the embedding model and the FAISS indexes once, right after it starts,
so the first operator whose search lands on a fresh worker does not wait ~2 s for them.
Environment: GUNICORN_BIND (127.0.0.1:8001), WEB_CONCURRENCY (workers, default 2 per core),
KB_QUERY_THREADS (threads per search, default 1: workers, not threads, use the cores).
"""

import logging
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8001")
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1)))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
# The app (and torch) is loaded in each worker, after the fork: torch's thread pools do not
# survive a fork, and a model loaded in the master would be copied on write anyway.
preload_app = False


def post_worker_init(worker):
    """Warm this worker: model, query path, every language's FAISS index, the DB."""
    log = logging.getLogger("gunicorn.error")
    try:
        from django.db import connections

        from embeddings.vectors import clear_query_cache
        from search import service

        # One search per embedding model (routing is by language): every model loaded.
        for language in ("en", "nl"):
            service.search("printer offline", channel="public", locale=language, limit=1)
        clear_query_cache()
        connections.close_all()
        log.info("worker %s warmed: embedding model and vector indexes loaded", worker.pid)
    except Exception:  # a cold worker still serves; the first search then loads everything
        log.exception("worker %s could not warm the search", worker.pid)
