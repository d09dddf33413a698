import json

from django.core.management.base import BaseCommand, CommandError

from insights.privacy import PrivacyRequestError, export


class Command(BaseCommand):
    help = (
        "Data-subject request: print as JSON everything stored about an e-mail address "
        "(contact requests, the searches and feedback on their trail, mentions, staff accounts)."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--output", metavar="FILE", help="Write the JSON to FILE")

    def handle(self, *args, **options):
        try:
            data = export(options["email"])
        except PrivacyRequestError as exc:
            raise CommandError(str(exc)) from exc
        text = json.dumps(data, indent=2, ensure_ascii=False)
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
            self.stderr.write(f"Written to {options['output']}")
        else:
            self.stdout.write(text)
