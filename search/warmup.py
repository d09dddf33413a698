"""Load what the first search would otherwise wait for: the embedding model(s), each
language's FAISS index (caught up with the database), the full-text query path, the known
problems' vectors, the URLconf and the database connection; then start the thread that
keeps this node's index replica current.

Called once per serving process before it takes requests: by gunicorn's post_worker_init
(gunicorn.conf.py) and by `manage.py runserver` (search/management/commands/runserver.py),
never on import, so tests, migrations and other commands stay fast.
"""

import logging
import time

from django.conf import settings
from django.db import connections
from django.urls import get_resolver

from embeddings import replica
from embeddings.encoder import model_ids
from embeddings.vectors import clear_query_cache
from incidents.matching import matching_problems

from . import service

logger = logging.getLogger("kb.warmup")

# One ordinary query per language, so a model that serves only some languages loads too.
WARM_QUERIES = {"en": "printer offline", "nl": "printer offline", "fr": "imprimante hors ligne"}


def limit_worker_threads():
    """Give torch and FAISS KB_QUERY_THREADS intra-op threads (default 1) for the life of this
    serving process. Gunicorn runs two workers per core: with the libraries' default of one
    thread per core each, 4 workers start 8+ threads on 2 cores that wait on each other, and
    `query_threads()` switched the pools down and back up around every search. 0 leaves the
    library defaults. Returns (torch threads, FAISS threads)."""
    import faiss
    import torch

    wanted = int(getattr(settings, "KB_QUERY_THREADS", 1) or 0)
    if wanted > 0:
        torch.set_num_threads(wanted)
        faiss.omp_set_num_threads(wanted)
        try:
            torch.set_num_interop_threads(wanted)
        except RuntimeError:  # only allowed before the first inter-op parallel work
            logger.info("torch inter-op threads already started; left at its default")
    return torch.get_num_threads(), faiss.omp_get_max_threads()


def warm_up():
    """Limit this process's intra-op threads, run one search per content language; return
    the seconds it took."""

    started = time.perf_counter()
    limit_worker_threads()
    # Files left behind by an earlier run (or a node killed mid-update) are brought up to
    # the database's generation before the first search, then kept there by a thread.
    replica.catch_up(wait=True)
    for code, _name in settings.WAGTAIL_CONTENT_LANGUAGES:
        service.search(WARM_QUERIES.get(code, "printer"), channel="public", locale=code, limit=1)
    # Every search API also matches the active known problems, whose texts are embedded on
    # first use, and the first request would import every view module through the URLconf
    # (bench/first_search.py, busy machine: first search 1.1-3.8 s without these two, 0.3-0.7 s
    # with them).
    for model_id in model_ids():  # the search APIs match with the model that served them
        matching_problems(WARM_QUERIES["en"], channel="operator", model_id=model_id)
    get_resolver().url_patterns  # noqa: B018 (loads the URLconf and the views)
    # The warm-up queries must not sit in the query cache as if someone had asked them.
    clear_query_cache()
    connections.close_all()
    replica.start_follower()
    return time.perf_counter() - started
