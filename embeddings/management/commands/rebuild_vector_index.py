import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from articles.models import SolutionArticlePage
from embeddings import indexing
from embeddings.encoder import EncoderUnavailable


class Command(BaseCommand):
    help = (
        "Re-chunk live articles, embed what changed (or everything) and rewrite the FAISS indexes."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--locale",
            action="append",
            dest="locales",
            metavar="L",
            help="Only this language (repeatable)",
        )
        parser.add_argument(
            "--reembed", action="store_true", help="Re-embed every chunk, changed or not"
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options):
        known = [code for code, _ in settings.WAGTAIL_CONTENT_LANGUAGES]
        locales = options["locales"] or known
        unknown = sorted(set(locales) - set(known))
        if unknown:
            raise CommandError(
                f"Unknown locale(s): {', '.join(unknown)}; known: {', '.join(known)}"
            )
        total = SolutionArticlePage.objects.filter(locale__language_code__in=locales).count()
        progress = tqdm(
            total=total,
            unit="article",
            desc="Indexing",
            file=sys.stderr,
            disable=options["no_progress"],
        )
        try:
            totals, syncs = indexing.rebuild(locales, reembed=options["reembed"], progress=progress)
        except EncoderUnavailable as exc:
            raise CommandError(str(exc)) from exc
        finally:
            progress.close()
        for sync in syncs:
            self.stdout.write(f"{sync.locale}: {sync.added} vectors, generation {sync.generation}")
        self.stdout.write(
            self.style.SUCCESS(
                f"{totals.encoded} chunks embedded, {totals.kept} unchanged chunks reused"
            )
        )
