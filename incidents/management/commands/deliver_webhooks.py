from django.core.management.base import BaseCommand

from incidents.webhooks import deliver_due


class Command(BaseCommand):
    help = "Send the webhook deliveries that are due (retries with back-off). Run every minute."

    def handle(self, *args, **options):
        count = deliver_due()
        self.stdout.write(f"{count} webhook deliveries attempted")
