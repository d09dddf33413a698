from django.core.management.base import BaseCommand

from articles.demo.loader import load_initial_data


class Command(BaseCommand):
    help = "Create the demo locales, groups, users, service catalogue and articles (idempotent)."

    def handle(self, *args, **options):
        report = load_initial_data(stdout=self.stdout)
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
