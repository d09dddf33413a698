from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from insights.retention import prune


class Command(BaseCommand):
    help = "Delete search events and call outcomes older than KB_LOG_RETENTION_DAYS, keeping daily counts."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help=f"Retention in days (default KB_LOG_RETENTION_DAYS={settings.KB_LOG_RETENTION_DAYS})",
        )

    def handle(self, *args, **options):
        if options["days"] is not None and options["days"] < 0:
            raise CommandError("--days must be zero or more")
        events, outcomes = prune(options["days"])
        self.stdout.write(
            self.style.SUCCESS(
                f"Deleted {events} search events and {outcomes} call outcomes; daily counts kept."
            )
        )
