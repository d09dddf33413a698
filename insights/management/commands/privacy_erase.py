from django.core.management.base import BaseCommand, CommandError

from insights.privacy import PrivacyRequestError, erase, subject_hash


class Command(BaseCommand):
    help = (
        "Data-subject request: delete the contact requests of an e-mail address, unlink their "
        "search trail and feedback, replace the address where others mention it. Logged with "
        "a hash of the address."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation")

    def handle(self, *args, **options):
        email = options["email"]
        if not options["yes"]:
            answer = input(f"Erase what is stored about {email}? Type 'erase' to go on: ")
            if answer.strip() != "erase":
                raise CommandError("Nothing erased.")
        try:
            counts = erase(email)
        except PrivacyRequestError as exc:
            raise CommandError(str(exc)) from exc
        for key, value in counts.items():
            self.stdout.write(f"{key.replace('_', ' ')}: {value}")
        self.stdout.write(self.style.SUCCESS(f"Done; logged as {subject_hash(email)}."))
