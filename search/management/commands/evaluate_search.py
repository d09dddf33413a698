import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from search.evaluation import evaluate, read_gold
from search.service import MODES


class Command(BaseCommand):
    help = (
        "Evaluate search on a gold file: Hit@1/3/10, MRR@10, nDCG@10, no-good-match AUROC, latency."
    )

    def add_arguments(self, parser):
        parser.add_argument("gold")
        parser.add_argument("--channel", choices=["operator", "public"], default="operator")
        parser.add_argument("--k", type=int, default=10)
        parser.add_argument(
            "--mode",
            choices=MODES + ("all",),
            default="hybrid",
            help="hybrid (default), dense, lexical, or all three side by side",
        )
        parser.add_argument(
            "--split",
            choices=["tune", "test"],
            help="only the queries of this committed half of the gold file",
        )
        parser.add_argument("--run-out", metavar="RUN.jsonl")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        try:
            queries = read_gold(options["gold"], options["split"])
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        user = None
        if options["channel"] == "operator":
            user = get_user_model().objects.filter(is_superuser=True).first() or get_user_model()(
                is_superuser=True
            )
        modes = MODES if options["mode"] == "all" else (options["mode"],)
        rows = {}
        for mode in modes:
            run_out = options["run_out"] if len(modes) == 1 else None
            metrics = evaluate(
                queries,
                channel=options["channel"],
                user=user,
                k=options["k"],
                mode=mode,
                run_out=run_out,
            )
            metrics.pop("confidences")
            rows[mode] = metrics
        if options["json"]:
            self.stdout.write(json.dumps(rows, indent=2))
            return
        first = next(iter(rows.values()))
        self.stdout.write(
            f"{first['queries']} queries ({first['answerable']} answerable, "
            f"{first['unanswerable']} without an answer), channel={options['channel']}"
        )
        self.stdout.write(
            f"{'mode':8} {'Hit@1':>6} {'Hit@3':>6} {'Hit@10':>6} {'MRR@10':>6} {'nDCG@10':>7} "
            f"{'AUROC':>6} {'NGM-unans':>9} {'NGM-ans':>7} {'p50ms':>6} {'p95ms':>6}"
        )

        def fmt(v, w, d=1):
            return f"{v:>{w}.{d}f}" if isinstance(v, float | int) else f"{'–':>{w}}"

        for mode, m in rows.items():
            self.stdout.write(
                f"{mode:8} {fmt(m['hit@1'], 6)} {fmt(m['hit@3'], 6)} {fmt(m['hit@10'], 6)} {fmt(m['mrr@10'], 6)} "
                f"{fmt(m['ndcg@10'], 7)} {fmt(m['auroc'], 6, 3)} {fmt(m['no_good_match_on_unanswerable'], 9)} "
                f"{fmt(m['no_good_match_on_answerable'], 7)} {fmt(m['latency_p50_ms'], 6)} {fmt(m['latency_p95_ms'], 6)}"
            )
