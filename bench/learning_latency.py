"""What learned phrasings cost: searching, publishing and the outcome API, with and without.

    python bench/learning_latency.py --db var/b77.sqlite3 [--per-article 10] [--queries 150]

Works on a copy of a database holding the demo and banking77 articles (as
bench/learning_curve.py). Replays the first N wordings per article of
../shared/eval/banking77.replay.jsonl (learning applied, articles re-indexed), then times,
in the same run, each path against its peer, alternating blocks (with, without, with,
without) so load on the shared machine hits both alike; prints medians, p95 and ratios:

  search    search.service.search (operator channel, hybrid) on banking77 gold queries with
            the learned chunks in the index, against the same index with them removed
            (Chunk rows deleted and FAISS synced; restored for the next block). Query vectors
            are cached first (encoding does not depend on learned chunks; its noise would
            hide the difference).
  publish   publishing a revision of a banking77 article that has searchable learned
            phrasings (its learned chunks re-built and indexed) against the same articles with
            their phrasings set back to candidates (no learned chunks).
  outcome   POST /api/v1/outcomes/ "solved" with a wording as it is now (the redacted wording
            stored; run_worker's "learning" job applies it later), against the same POST
            followed by the learning pass in the request, as before (merge, confirm, re-index
            what changed: what the immediate task backend ran after the commit until the pass
            moved to the job), and against the POST as "no_article" (nothing to learn). The
            learning job's own pass over each block's new wordings is timed too (off the
            request: what the worker spends).
"""

import argparse
import statistics
import sys
import time

from _django import CpuWatch, setup
from learning_curve import EVAL, ROOT, use_copy


def stats(times):
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return statistics.median(ordered) * 1000, p95 * 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default=str(ROOT / "var" / "b77.sqlite3"))
    parser.add_argument("--per-article", type=int, default=10)
    parser.add_argument("--queries", type=int, default=150)
    parser.add_argument("--publishes", type=int, default=8, help="articles published per block")
    parser.add_argument("--outcomes", type=int, default=20, help="POSTs per block")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    workdir = use_copy(args.db)
    setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    from articles.models import SolutionArticlePage
    from embeddings import vectors
    from embeddings.encoder import model_for_language
    from embeddings.indexing import sync_locale
    from embeddings.models import Chunk
    from insights import learning
    from insights.learning import LEARNED_KIND
    from insights.management.commands.replay_solved_calls import demo_operators, read_calls
    from insights.management.commands.replay_solved_calls import replay as replay_calls
    from insights.models import LearnedPhrasing
    from search import jobs, service
    from search.evaluation import read_gold

    watch = CpuWatch()
    calls = read_calls(EVAL / "banking77.replay.jsonl")
    seen, kept = {}, []
    for call in calls:
        seen[call[1]] = seen.get(call[1], 0) + 1
        if seen[call[1]] <= args.per_article:
            kept.append(call)
    summary = replay_calls(kept, seed=args.seed)
    learned = list(Chunk.objects.filter(kind=LEARNED_KIND).values())
    print(
        f"{summary['recorded']} calls replayed ({args.per_article} per article): "
        f"{summary['learning']['active']} searchable phrasings, {len(learned)} learned chunks "
        f"(all models) of {Chunk.objects.count()} chunks"
    )
    user = get_user_model().objects.filter(is_superuser=True).first()
    gold = read_gold(EVAL / "banking77.gold.jsonl")[1 :: max(1, 3080 // args.queries)]
    queries = [service.clean_query(q.query) for q in gold][: args.queries]
    vectors._query_cache.size = max(vectors._query_cache.size, 4 * len(queries))
    model_id = model_for_language("en")
    for text in queries:
        vectors.query_vector(text, model_id)

    def set_learned_chunks(present):
        Chunk.objects.filter(kind=LEARNED_KIND).delete()
        if present:
            Chunk.objects.bulk_create([Chunk(**row) for row in learned])
        for code in ("en", "nl", "fr"):
            for model in {row["model_id"] for row in learned}:
                sync_locale(code, model)

    def time_search():
        out = []
        for text in queries:
            t0 = time.perf_counter()
            service.search(text, user=user, channel="operator", locale="en")
            out.append(time.perf_counter() - t0)
        return out

    with_articles = list(
        LearnedPhrasing.objects.filter(status=LearnedPhrasing.ACTIVE)
        .values_list("article_id", flat=True)
        .distinct()[: args.publishes]
    )
    active = {
        pid: list(
            LearnedPhrasing.objects.filter(
                article_id=pid, status=LearnedPhrasing.ACTIVE
            ).values_list("pk", flat=True)
        )
        for pid in with_articles
    }

    def time_publish(present):
        status = LearnedPhrasing.ACTIVE if present else LearnedPhrasing.CANDIDATE
        out = []
        for pid in with_articles:
            LearnedPhrasing.objects.filter(pk__in=active[pid]).update(status=status)
            page = SolutionArticlePage.objects.get(pk=pid)
            t0 = time.perf_counter()
            page.save_revision(user=user).publish(user=user)
            out.append(time.perf_counter() - t0)
        return out

    from django.conf import settings

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    operator = demo_operators(1)[0]
    client = Client()
    client.force_login(operator)
    pages = list(SolutionArticlePage.objects.filter(external_id__startswith="banking77:"))
    posted = [0]

    def time_outcomes(kind):
        """kind: "now" (POST solved), "before" (POST solved + the learning pass in the
        request, the old path), "none" (POST no_article)."""
        out = []
        for _ in range(args.outcomes):
            posted[0] += 1
            page = pages[posted[0] % len(pages)]
            body = {
                "outcome": "no_article" if kind == "none" else "solved",
                "article_id": page.pk,
                "query": f"{queries[posted[0] % len(queries)]} (call {posted[0]})",
                "locale": "en",
            }
            if kind == "none":
                body.pop("article_id")
            t0 = time.perf_counter()
            response = client.post("/api/v1/outcomes/", body, content_type="application/json")
            if kind == "before":
                learning.apply_learning()
            out.append(time.perf_counter() - t0)
            if response.status_code != 201:
                raise SystemExit(f"outcome API: {response.status_code} {response.content[:200]}")
        return out

    def time_job():
        t0 = time.perf_counter()
        if not jobs.run_job("learning"):
            raise SystemExit("the learning job failed")
        return [time.perf_counter() - t0]

    results = {name: {True: [], False: []} for name in ("search", "publish")}
    outcomes = {"now": [], "before": [], "none": [], "job": []}
    for block in range(4):
        present = block % 2 == 0
        set_learned_chunks(present)
        results["search"][present] += time_search()
        results["publish"][present] += time_publish(present)
        for kind in ("now", "before", "none") if present else ("before", "none", "now"):
            outcomes[kind] += time_outcomes(kind)
            if kind == "now":  # the worker's pass over this block's wordings
                outcomes["job"] += time_job()
        print(f"  block {block + 1}/4 done", file=sys.stderr)
    set_learned_chunks(True)

    labels = {
        "search": ("with learned chunks", "without"),
        "publish": ("with learned phrasings", "without"),
    }
    print(f"\n{'path':<8} {'measured':<30} {'n':>4} {'p50 ms':>8} {'p95 ms':>8}   ratio p50 / p95")
    for name, by in results.items():
        a, b = stats(by[True]), stats(by[False])
        print(f"{name:<8} {labels[name][0]:<30} {len(by[True]):>4} {a[0]:>8.1f} {a[1]:>8.1f}")
        print(
            f"{'':<8} {labels[name][1]:<30} {len(by[False]):>4} {b[0]:>8.1f} {b[1]:>8.1f}"
            f"   {a[0] / b[0]:.2f}x / {a[1] / b[1]:.2f}x"
        )
    base = stats(outcomes["none"])
    for kind, label in (
        ("now", '"solved", now (job learns)'),
        ("before", '"solved" + learning (before)'),
        ("none", '"no_article"'),
    ):
        a = stats(outcomes[kind])
        print(
            f"{'outcome' if kind == 'now' else '':<8} {label:<30} {len(outcomes[kind]):>4} "
            f"{a[0]:>8.1f} {a[1]:>8.1f}   {a[0] / base[0]:.2f}x / {a[1] / base[1]:.2f}x"
        )
    job = stats(outcomes["job"])
    print(
        f"{'job':<8} {'learning pass, off request':<30} {len(outcomes['job']):>4} "
        f"{job[0]:>8.1f} {job[1]:>8.1f}   (each over {args.outcomes} new wordings)"
    )
    print(f"\n{watch.report()}; work copy {workdir}")


if __name__ == "__main__":
    main()
