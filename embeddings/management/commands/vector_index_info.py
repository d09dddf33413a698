import json

from django.conf import settings
from django.core.management.base import BaseCommand

from embeddings.encoder import model_ids
from embeddings.info import index_info


class Command(BaseCommand):
    help = "Per model and locale: chunks, pages, model, generation, stale chunks, and DB/index disagreement."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        rows = [
            index_info(code, model_id)
            for model_id in model_ids()
            for code, _ in settings.WAGTAIL_CONTENT_LANGUAGES
        ]
        if options["json"]:
            self.stdout.write(json.dumps(rows, indent=2))
            return
        header = f"{'locale':6} {'chunks':>7} {'pages':>6} {'indexed':>8} {'gen':>4} {'kind':5} {'stale':>6} {'missing':>8} {'extra':>6} {'pending':>8}  model"
        self.stdout.write(header)
        for r in rows:
            self.stdout.write(
                f"{r['locale']:6} {r['db_chunks']:>7} {r['pages']:>6} {str(r['index_count']):>8} "
                f"{str(r['generation']):>4} {str(r['kind']):5} {r['stale_chunks']:>6} "
                f"{r['missing_from_index']:>8} {r['extra_in_index']:>6} {r['pending_updates']:>8}  {r['model_id']}"
            )
            if r["problem"]:
                self.stdout.write(self.style.WARNING(f"  {r['locale']}: {r['problem']}"))
        if any(r["problem"] or r["missing_from_index"] or r["extra_in_index"] for r in rows):
            self.stdout.write(
                self.style.WARNING("DB and index disagree: run `manage.py rebuild_vector_index`.")
            )
