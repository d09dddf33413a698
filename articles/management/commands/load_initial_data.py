import sys

from django.core.management.base import BaseCommand
from tqdm import tqdm

from articles.demo.loader import load_initial_data


class Command(BaseCommand):
    help = (
        "Development: setup_site, then demo categories, users, service catalogue and articles "
        "(idempotent)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bars")

    def handle(self, *args, **options):
        def progress(description, total):
            return tqdm(
                total=total,
                desc=description,
                unit="article",
                file=sys.stderr,
                disable=options["no_progress"],
            )

        self.stdout.write("Setting up the site, then loading the demo content ...")
        report = load_initial_data(stdout=self.stdout, progress=progress)
        if report.errors:
            self.stderr.write(
                self.style.ERROR(f"{len(report.errors)} demo articles could not be loaded")
            )
        self.stdout.write(
            self.style.SUCCESS(
                "Demo data ready. Logins: operator / secondline / manager / admin "
                "(password: <username>-demo)"
            )
        )
