"""Gunicorn settings: `.venv/bin/gunicorn -c gunicorn.conf.py kbsite.wsgi`.

Each worker loads the embedding model and the FAISS indexes once, right after it starts,
so the first operator whose search lands on a fresh worker does not wait ~2 s for them.
Environment: GUNICORN_BIND (127.0.0.1:8001), WEB_CONCURRENCY (workers, default 2 per core),
KB_QUERY_THREADS (torch and FAISS intra-op threads per worker, set once by the warm-up;
default 1: workers, not threads, use the cores),
GUNICORN_ACCESS_LOG (a file, or - for stderr; off by default).

The access log goes through kbsite.log_redaction.RedactingGunicornLogger: personal data in
the request line, query string and referer (a search for an e-mail address) is redacted
before the line is written.
"""

import logging
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8001")
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1)))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
# The app (and torch) is loaded in each worker, after the fork: torch's thread pools do not
# survive a fork, and a model loaded in the master would be copied on write anyway.
preload_app = False

accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
# Apache's combined format; every URL atom in it is redacted by the logger class below.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'
logger_class = "kbsite.log_redaction.RedactingGunicornLogger"


def post_worker_init(worker):
    """Warm this worker before it accepts requests (search/warmup.py)."""
    log = logging.getLogger("gunicorn.error")
    try:
        from search.warmup import warm_up

        seconds = warm_up()
        log.info(
            "worker %s warmed in %.1f s: embedding models and vector indexes loaded",
            worker.pid,
            seconds,
        )
    except Exception:  # a cold worker still serves; the first search then loads everything
        log.exception("worker %s could not warm the search", worker.pid)
