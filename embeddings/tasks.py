"""Background tasks (django-tasks) and how index updates are requested.

Immediate backend by default; `db_worker` in production. request_index() is what the
content app's signal handlers call: it records the owed update in the caller's
transaction and enqueues the task after commit.
"""

import contextlib
import logging
import threading

from django.db import transaction
from django_tasks import task

from . import indexing
from .models import PendingIndexUpdate

logger = logging.getLogger("kb.indexing")
_state = threading.local()


@task()
def process_index_updates(page_ids=None):
    results = indexing.process_pending(page_ids)
    return {"pages": len(results), "encoded": sum(r.encoded for r in results)}


def request_index(page_id, reason, locale_id=None):
    """Record that a page's index entry is owed, then enqueue the task after commit.

    The PendingIndexUpdate row is written in the caller's transaction, so a publish that
    commits always leaves a trace the index can catch up from, even if enqueueing fails."""
    PendingIndexUpdate.objects.update_or_create(
        page_id=page_id,
        defaults={"reason": reason, "locale_id": locale_id, "attempts": 0, "last_error": ""},
    )
    deferred = getattr(_state, "deferred", None)
    if deferred is not None:
        deferred.append(page_id)
        return
    transaction.on_commit(lambda: enqueue_processing([page_id]))


def enqueue_processing(page_ids):
    try:
        process_index_updates.enqueue(page_ids=list(page_ids))
    except Exception:
        # Publishing must not fail because the queue is down: the pending rows remain and
        # the next run (another publish, the worker, or `rebuild_vector_index`) catches up.
        logger.exception(
            "could not enqueue the index update for pages %s; it stays pending", page_ids
        )


@contextlib.contextmanager
def deferred_indexing():
    """Collect index requests (e.g. during a bulk import) and enqueue one task at the end."""
    outer = getattr(_state, "deferred", None)
    if outer is not None:
        yield
        return
    _state.deferred = []
    try:
        yield
    finally:
        page_ids, _state.deferred = _state.deferred, None
        if page_ids:
            transaction.on_commit(lambda: enqueue_processing(sorted(set(page_ids))))
