from django.core.management.base import BaseCommand, CommandError

from incidents.models import ApiKey
from incidents.services import revoke_api_key


class Command(BaseCommand):
    help = "Revoke an integration API key by its prefix (the first 10 characters)."

    def add_arguments(self, parser):
        parser.add_argument("prefix")

    def handle(self, *args, **options):
        key = ApiKey.objects.filter(prefix=options["prefix"]).first()
        if key is None:
            raise CommandError(f"No API key with prefix {options['prefix']!r}.")
        revoke_api_key(key)
        self.stdout.write(f"Revoked {key}")
