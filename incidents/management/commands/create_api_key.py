from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from incidents.models import ApiKey
from incidents.services import create_api_key


class Command(BaseCommand):
    help = "Create an API key for an integration; the key is printed once and stored hashed."

    def add_arguments(self, parser):
        parser.add_argument("name", help="Which integration uses it, e.g. 'Ticketing (TopDesk)'")
        parser.add_argument(
            "--scope",
            action="append",
            choices=[code for code, _label in ApiKey.SCOPES],
            help="suggest and/or link (repeat); default both",
        )

    def handle(self, *args, **options):
        scopes = options["scope"] or [code for code, _label in ApiKey.SCOPES]
        try:
            key, raw = create_api_key(options["name"], scopes)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(f"API key for {key.name} (scopes: {', '.join(key.scopes)}):")
        self.stdout.write(raw)
        self.stdout.write(
            "Store it now: only its hash is kept. Revoke: manage.py revoke_api_key " + key.prefix
        )
