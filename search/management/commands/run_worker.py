from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.crypto import get_random_string
from django_tasks_db.compat import (
    DEFAULT_TASK_BACKEND_ALIAS,
    DEFAULT_TASK_QUEUE_NAME,
    task_backends,
)

from search.jobs import JOBS, KBWorker, is_database_backend


class Command(BaseCommand):
    help = (
        "Run queued tasks (django-tasks database backend) and the periodic jobs: pruning search "
        "logs, draining pending index updates, retention of contact requests, feedback comments "
        "and flags, old Wagtail revisions, review-due reminders. Stops cleanly on SIGTERM/SIGINT. Periods: "
        "KB_WORKER_PERIODS (seconds)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--once",
            action="store_true",
            help="Run every job once, run the queued tasks, then exit (cron, tests)",
        )
        parser.add_argument(
            "--job",
            action="append",
            choices=sorted(JOBS),
            help="Only this job (repeat for several); default: all with a period above 0",
        )
        parser.add_argument(
            "--no-tasks", action="store_true", help="Periodic jobs only; leave queued tasks"
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="Seconds to wait for new tasks when the queue is empty (default 1)",
        )
        parser.add_argument("--queue-name", default=DEFAULT_TASK_QUEUE_NAME)

    def handle(self, *args, **options):
        if options["interval"] <= 0:
            raise CommandError("--interval must be above 0")
        periods = {
            name: int(settings.KB_WORKER_PERIODS.get(name, 0)) for name in (options["job"] or JOBS)
        }
        if not options["job"]:
            periods = {name: p for name, p in periods.items() if p > 0}
        for name, period in periods.items():
            if period <= 0 and not options["once"]:
                raise CommandError(f"{name} has no period (KB_WORKER_PERIODS); use --once")
        backend = task_backends[DEFAULT_TASK_BACKEND_ALIAS]
        worker = KBWorker(
            periods=periods,
            once=options["once"],
            run_tasks=not options["no_tasks"] and is_database_backend(backend),
            queue_names=options["queue_name"].split(","),
            interval=options["interval"],
            backend_name=DEFAULT_TASK_BACKEND_ALIAS,
            worker_id=get_random_string(32),
            excluded_queue_names=[],
        )
        worker.configure_signals()
        try:
            worker.run()
        finally:
            worker.reset_signals()
        if worker.failed_jobs:
            raise CommandError(f"jobs failed: {', '.join(worker.failed_jobs)} (see the log)")
