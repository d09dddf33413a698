from django.core.management.base import BaseCommand, CommandError

from articles.site_setup import SiteSetupError, is_local_hostname, setup_site


class Command(BaseCommand):
    help = (
        "Prepare a fresh installation: locales, a home page per language, staff groups and "
        "permissions, the review workflow and the site's address. No demo content; idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--base-url",
            metavar="URL",
            help="Public address, e.g. https://kb.example.be (default: $KB_BASE_URL)",
        )
        parser.add_argument("--hostname", help="Site hostname (overrides --base-url's)")
        parser.add_argument("--port", type=int, help="Site port (overrides --base-url's)")

    def handle(self, *args, **options):
        try:
            report = setup_site(
                base_url=options["base_url"], hostname=options["hostname"], port=options["port"]
            )
        except SiteSetupError as exc:
            raise CommandError(str(exc)) from exc
        created = ", ".join(report.homes_created) or "none (all present)"
        self.stdout.write(f"Locales: {', '.join(report.locales)}; home pages created: {created}")
        self.stdout.write(
            f"Site address: {report.root_url}" + (" (changed)" if report.site_changed else "")
        )
        if is_local_hostname(report.hostname):
            self.stdout.write(
                self.style.WARNING(
                    "The site still answers to a local address: links to self-service pages "
                    "will not work for customers. In production run "
                    "`setup_site --base-url https://your.host`."
                )
            )
        self.stdout.write(
            self.style.SUCCESS(
                "Site ready. Next: createsuperuser, then import_articles FILE --publish."
            )
        )
