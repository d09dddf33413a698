"""Print how well a duplicate threshold separates translations of one article from
different articles, on the articles in the database (e.g. the demo set)."""

import numpy as np
from django.core.management.base import BaseCommand

from articles.similarity import calibration_pairs, duplicate_threshold, paraphrase_pairs


class Command(BaseCommand):
    help = "Measure the similar-articles duplicate threshold on the indexed articles."

    def add_arguments(self, parser):
        parser.add_argument(
            "--gold",
            default="search/eval/demo_gold.jsonl",
            help="Evaluation gold set whose queries stand in for newly written issues.",
        )
        parser.add_argument(
            "--external-id-prefix",
            default="demo-",
            help="Only articles whose external id starts with this (default: the demo set).",
        )

    def handle(self, *args, **options):
        import json
        from pathlib import Path

        gold_path = Path(options["gold"])
        if gold_path.exists():
            gold = [json.loads(line) for line in gold_path.read_text().splitlines() if line.strip()]
            pos, neg = (
                np.array(x)
                for x in paraphrase_pairs(gold, external_id_prefix=options["external_id_prefix"])
            )
            self.stdout.write(
                f"caller wordings ({gold_path}): {len(pos)}; score with the answering article "
                f"median {np.median(pos):.3f}, with the best other article median {np.median(neg):.3f}"
            )
            self.stdout.write("threshold  answering article above  another article above")
            for threshold in np.arange(0.50, 0.96, 0.05):
                self.stdout.write(
                    f"{threshold:9.2f}  {np.mean(pos >= threshold):23.1%}  {np.mean(neg >= threshold):23.1%}"
                )
        same, other = calibration_pairs(external_id_prefix=options["external_id_prefix"])
        if not same:
            self.stdout.write("No translated articles indexed: nothing to measure.")
            return
        same, other = np.array(same), np.array(other)
        self.stdout.write(
            f"translation pairs: {len(same)}  min {same.min():.3f}  p10 "
            f"{np.percentile(same, 10):.3f}  median {np.median(same):.3f}"
        )
        self.stdout.write(
            f"best other-problem score per article: {len(other)}  median "
            f"{np.median(other):.3f}  p90 {np.percentile(other, 90):.3f}  max {other.max():.3f}"
        )
        self.stdout.write("threshold  translations caught  articles with a false duplicate")
        for threshold in np.arange(0.50, 0.96, 0.05):
            self.stdout.write(
                f"{threshold:9.2f}  {np.mean(same >= threshold):19.1%}  "
                f"{np.mean(other >= threshold):31.1%}"
            )
        self.stdout.write(f"current KB_DUPLICATE_THRESHOLD: {duplicate_threshold():.2f}")
