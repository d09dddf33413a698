import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from embeddings import indexing
from embeddings.encoder import EncoderUnavailable, model_ids


class Command(BaseCommand):
    help = (
        "Re-chunk live articles, embed what changed (or everything) for every embedding model "
        "and rewrite the FAISS indexes."
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
        parser.add_argument(
            "--model",
            action="append",
            dest="models",
            metavar="MODEL_ID",
            help="With --reembed: only this model's vectors (repeatable)",
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
        try:
            configured = model_ids()
        except EncoderUnavailable as exc:
            raise CommandError(str(exc)) from exc
        unknown = sorted(set(options["models"] or []) - set(configured))
        if unknown:
            raise CommandError(
                f"Unknown model(s): {', '.join(unknown)}; configured: {', '.join(configured)}"
            )
        total = len(indexing.page_source().page_ids(locales))
        progress = tqdm(
            total=total,
            unit="article",
            desc="Indexing",
            file=sys.stderr,
            disable=options["no_progress"],
        )
        try:
            totals, syncs, timings = indexing.rebuild(
                locales, reembed=options["reembed"], progress=progress, models=options["models"]
            )
        except EncoderUnavailable as exc:
            raise CommandError(str(exc)) from exc
        finally:
            progress.close()
        for sync in syncs:
            self.stdout.write(
                f"{sync.model_id} {sync.locale}: {sync.added} vectors, generation {sync.generation}"
            )
        for model_id, (count, seconds) in timings["encode"].items():
            self.stdout.write(
                f"{model_id}: {count} chunks embedded in {seconds:.1f} s "
                f"({count / max(seconds, 1e-9):.0f} chunks/s)"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"{totals.encoded} chunks embedded, {totals.kept} unchanged chunks reused"
            )
        )
