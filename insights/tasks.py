"""Background tasks (django-tasks): immediate backend by default, `db_worker` in production."""

import logging

from django.db import transaction
from django_tasks import task

from . import learning

logger = logging.getLogger("kb.learning")


@task()
def apply_learning_task():
    """Turn pending evidence from solved calls into learned phrasings; re-index what changed."""
    return learning.apply_learning()


def schedule_learning():
    """Apply learning after the current transaction commits (not during a deferred replay)."""
    if not learning.is_deferred():
        transaction.on_commit(_enqueue)


def _enqueue():
    try:
        apply_learning_task.enqueue()
    except Exception:
        # The evidence is stored; the next learning run (a later call, the worker, or
        # replay_solved_calls) picks it up.
        logger.exception("could not enqueue the learning task; evidence stays pending")
