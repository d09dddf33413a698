"""Fill the search analytics with a realistic month of demo events (development only)."""

from django.core.management.base import BaseCommand, CommandError

from search.demo.events import clear_demo_events, load_demo_events


class Command(BaseCommand):
    help = (
        "Create a realistic month of searches, operator outcomes, clicks, feedback and contact "
        "requests over the demo articles, through the same functions the real endpoints use "
        "(queries redacted). Replaces the demo events of an earlier run; real events are kept."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=30, help="length of the period (1-366)")
        parser.add_argument(
            "--seed", type=int, default=1, help="random seed (same seed, same events)"
        )
        parser.add_argument(
            "--clear", action="store_true", help="only delete the demo events, create none"
        )

    def handle(self, *args, days, seed, clear, **options):
        if clear:
            deleted = clear_demo_events()
            self.stdout.write(f"Deleted {deleted} demo rows.")
            return
        if not 1 <= days <= 366:
            raise CommandError("--days must be between 1 and 366.")
        try:
            report = load_demo_events(days=days, seed=seed)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Demo events for {days} days: {report}"))
