import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from articles.importing import READERS, import_records
from embeddings.tasks import deferred_indexing


class Command(BaseCommand):
    help = (
        "Import solution articles from kb-jsonl or a Zendesk Help Center export (HTML sanitised)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path to the file to import")
        parser.add_argument("--format", choices=sorted(READERS), default="kb-jsonl")
        parser.add_argument("--publish", action="store_true", help="Publish the imported articles")
        parser.add_argument("--parent", metavar="SLUG", help="Slug of the category to import into")
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        if options["format"] == "kb-jsonl":
            with open(path, encoding="utf-8-sig") as fh:
                total = sum(1 for line in fh if line.strip())
        else:
            total = None
        records = READERS[options["format"]](path)
        progress = tqdm(
            total=total,
            unit="article",
            disable=options["no_progress"],
            file=sys.stderr,
            desc="Importing",
        )
        # One index update for the whole file instead of one per article.
        with deferred_indexing():
            report = import_records(
                records,
                publish=options["publish"],
                parent_slug=options["parent"],
                progress=progress,
            )
        progress.close()
        label = "record" if options["format"] == "zendesk" else "line"
        for position, message in report.errors:
            self.stderr.write(self.style.WARNING(f"{label} {position}: {message} (skipped)"))
        summary = (
            f"{report.created} created, {report.updated} updated, {len(report.errors)} skipped"
        )
        self.stdout.write(self.style.SUCCESS(summary) if report.ok else summary)
