"""Periodic jobs and the one worker loop that runs them next to the queued django-tasks tasks.

`manage.py run_worker` runs this loop; `run_worker --once` runs every job once, drains the
task queue and exits (cron, tests). Periods come from KB_WORKER_PERIODS (seconds, 0 = never),
each set by an environment variable (kbsite/settings/base.py). Every job is idempotent, so
two workers, or a restart that runs everything again at once, do no harm.
"""

import datetime
import logging
import signal
import sys
import time

from django.db import close_old_connections, connection
from django.db.utils import OperationalError
from django.utils import timezone
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from articles.reminders import send_review_reminders
from articles.retention import prune_flags
from articles.revisions import purge_old_revisions
from embeddings.encoder import comparison_model_id, get_encoder
from embeddings.indexing import process_pending
from incidents.webhooks import deliver_due
from insights.early_warning import run_early_warning
from insights.gaps import REFINEMENT_WINDOW, collect_items, embed_texts
from insights.learning import apply_learning
from insights.retention import prune, prune_contact_requests, prune_feedback_comments

logger = logging.getLogger("kb.worker")


def release_stale_connections():
    """Drop expired or broken connections between jobs, as Django does after each request; not
    inside a transaction (a caller's atomic block, a test), where closing would break it."""
    if not connection.in_atomic_block:
        close_old_connections()


def prune_search_logs():
    events, outcomes = prune()
    return f"{events} search events and {outcomes} call outcomes deleted (daily counts kept)"


def drain_index_updates():
    return f"{len(process_pending())} pending index updates done"


def retention():
    return (
        f"{prune_contact_requests()} contact requests deleted, "
        f"{prune_feedback_comments()} feedback comments cleared, "
        f"{prune_flags()} closed flags deleted"
    )


def purge_revisions():
    """Wagtail revisions older than KB_REVISION_RETENTION_DAYS, except the live, latest,
    first, scheduled and in-moderation ones (articles/revisions.py)."""
    deleted, protected = purge_old_revisions()
    return f"{deleted} old revisions deleted, {protected} protected ones kept"


def review_reminders():
    return f"{send_review_reminders()} review reminders sent"


def deliver_webhooks():
    """Known-problem status webhooks whose retry is due (the first attempt runs at once)."""
    return f"{deliver_due()} webhook deliveries attempted"


def early_warning():
    """Raise a warning when unresolved requests about one topic rise well above their usual rate."""
    result = run_early_warning()
    return (
        f"{result['window']} unresolved requests in the window, {result['raised']} warnings "
        f"raised, {result['refreshed']} refreshed"
    )


def learning():
    """Solved calls' wordings (evidence the outcome API stored) become learned phrasings:
    merge, confirm, cap, re-index the articles whose searchable set changed."""
    result = apply_learning()
    return (
        f"{result['evidence']} new wordings, {len(result['changed_articles'])} articles "
        f"re-indexed, {result['active']} phrasings searchable"
    )


# Each run looks back this far (the job keeps no state: a restarted worker, or two, are fine).
GAP_VECTORS_LOOKBACK = datetime.timedelta(hours=1)


def gap_vectors(now=None):
    """Unresolved demand (unanswered searches, 'no article' calls, 'not helpful' comments)
    gets its comparison-model vector here, before the gap report or early warning needs it.

    A search the comparison model served (nl, fr) kept its vector when it was logged; an
    English one (MiniLM) was encoded with the comparison model on the request until session
    8 (~30 ms of CPU on a busy machine, bench/request_cpu.py). Only what the report counts
    is encoded: searches the same person refined (search-as-you-type prefixes) are not, so
    an item waits until REFINEMENT_WINDOW has passed (its refinement would have arrived).
    Texts already encoded cost one lookup. What this job misses (the worker was down longer
    than the look-back, a contact request hours after its search) the report encodes itself."""
    now = now or timezone.now()
    until = now - REFINEMENT_WINDOW
    # Refinement is judged against every search up to now; items are taken up to `until`.
    items = collect_items(until - GAP_VECTORS_LOOKBACK, now)
    keys = sorted({item.key for item in items if item.created_at < until})
    encoded = 0
    if keys:
        _vectors, encoded = embed_texts(keys, get_encoder(comparison_model_id()))
    return f"{encoded} of {len(keys)} unresolved texts encoded for the gap report"


JOBS = {
    "prune_search_logs": prune_search_logs,
    "drain_index_updates": drain_index_updates,
    "retention": retention,
    "purge_revisions": purge_revisions,
    "review_reminders": review_reminders,
    "deliver_webhooks": deliver_webhooks,
    "early_warning": early_warning,
    "learning": learning,
    "gap_vectors": gap_vectors,
}


def run_job(name):
    """Run one job; log its outcome. Returns True if it succeeded."""
    started = time.monotonic()
    try:
        summary = JOBS[name]()
    except Exception:
        logger.exception("periodic job %s failed; it runs again at its next period", name)
        return False
    finally:
        release_stale_connections()
    logger.info("%s: %s (%.1f s)", name, summary, time.monotonic() - started)
    return True


class KBWorker(Worker):
    """django-tasks-db's worker (claiming and running a task is its code) with periodic jobs
    between tasks, and a shutdown that always lets the current task or job finish."""

    def __init__(self, *, periods, once=False, run_tasks=True, **kwargs):
        super().__init__(batch=once, startup_delay=False, max_tasks=None, **kwargs)
        self.periods = periods
        self.once = once
        self.run_tasks = run_tasks
        self.failed_jobs = []

    def shutdown(self, signum, frame):
        if not self.running:  # a second signal: stop now
            logger.warning("received %s again: stopping at once", signal.strsignal(signum))
            self.reset_signals()
            sys.exit(1)
        logger.warning(
            "received %s: stopping after the current task or job", signal.strsignal(signum)
        )
        self.running = False

    def run(self):
        logger.info(
            "worker %s started: jobs %s; queued tasks %s",
            self.worker_id,
            ", ".join(f"{n} every {p}s" for n, p in self.periods.items()) or "none",
            "on" if self.run_tasks else "off (the task backend runs them where they are enqueued)",
        )
        next_due = dict.fromkeys(self.periods, 0.0)  # everything once at start
        while self.running:
            for name, period in self.periods.items():
                if not self.running:
                    break
                if self.once or next_due[name] <= time.monotonic():
                    if not run_job(name):
                        self.failed_jobs.append(name)
                    next_due[name] = time.monotonic() + period
            if self.once:
                while self.running and self.run_tasks and self.run_one_task():
                    pass
                break
            if self.run_tasks and self.run_one_task():
                continue  # more may be waiting: look again before sleeping
            wake = min([self.interval + time.monotonic(), *next_due.values()])
            self._sleep_until(wake)
        logger.info("worker %s stopped", self.worker_id)

    def _sleep_until(self, wake):
        # Short naps: a SIGTERM during the wait ends the loop within half a second.
        while self.running and time.monotonic() < wake:
            time.sleep(min(0.5, max(0.0, wake - time.monotonic())))

    def run_one_task(self):
        """Claim the next ready task and run it (django-tasks-db's own claim and run)."""
        release_stale_connections()
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        with exclusive_transaction(tasks.db):
            try:
                task_result = tasks.get_locked()
                if task_result is not None:
                    task_result.claim(self.worker_id)
            except OperationalError as exc:
                if not is_locked_database_exception(exc):
                    raise
                task_result = None
        if task_result is None:
            return False
        self.run_task(task_result)
        return True


def is_database_backend(backend):
    return isinstance(backend, DatabaseBackend)
