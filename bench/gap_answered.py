"""The knowledge-gap report's "answered since" rule: the search's rule vs the raw cosine.

Run: nice -n 10 .venv/bin/python bench/gap_answered.py [--days 31] [--repeats 3]
     [--scale 20000 --gold ../shared/eval/banking77.gold.jsonl]

On a copy of var/db.sqlite3 (the demo: its search log is older than every article, so each
unresolved item has newer articles and the rule is exercised on all of them):

1. Agreement. Every unresolved item of the period is judged by the search's rule with no
   pre-filter (one search per distinct text, language and audience: search/gap_answers.py)
   and by the raw-cosine rule before session 11 (a newer article's chunk at or above the
   no-good-match threshold in the report's model). Items are split in two halves by the hash
   of their text: "tune" chose insights.gaps.PREFILTER_MARGIN, "test" reports it.
2. The pre-filter (insights.gaps._search_space_candidates: a newer article's chunk near the
   threshold in the search's own model and language): per margin, the items the search's
   rule answers that the pass does not offer it (missed), and the searches it costs. The
   first pass embeds the English texts with the English model (cached afterwards).
3. Time: knowledge_gaps() with the raw rule only (as before) and with the search's rule
   (as now), alternating, median of --repeats runs each, per stage.

--scale N: the copy's search log is replaced by N synthetic no-good-match public searches
built from the banking77 messages as bench/gap_clustering.py builds them (same function,
banking77 articles unpublished in the copy; every demo article is newer than them), 1 and 2
are skipped (one search per distinct text), and the first run (it embeds every text, with
both models) is timed on its own before 3.
"""

import argparse
import logging
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _django  # noqa: E402

MARGINS = [0.0, 0.01, 0.02, 0.03, 0.05, 0.1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=31)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scale", type=int, default=0)
    parser.add_argument("--gold", help="default: banking77.gold.jsonl of the shared eval set")
    args = parser.parse_args()
    started = time.perf_counter()
    workdir = _django.copy_database("kb-gap-answered-")
    _django.setup()
    print(_django.run_header("gap report: answered since", workdir))
    logging.getLogger("kb.gaps").setLevel(logging.ERROR)

    import numpy as np

    from embeddings.encoder import comparison_model_id, get_encoder
    from insights import gaps
    from search.gap_answers import first_answer

    encoder = get_encoder(comparison_model_id())
    if args.scale:
        scale(args, encoder)
        timings(args, encoder, started)
        return
    since, until = gaps.period(args.days)
    items = gaps.collect_items(since, until)
    keys = sorted({item.key for item in items})
    vectors, _ = gaps.embed_texts(keys, encoder)
    key_index = {k: i for i, k in enumerate(keys)}
    live = gaps._LiveChunks(encoder.model_id, encoder.dimension)
    scores, rows = live.search(vectors)
    latest = gaps._last_published_by_article(live)
    newer = np.array([any(p > i.created_at for p in latest.values()) for i in items])
    print(
        f"\n{len(items)} unresolved items ({len(keys)} distinct texts) in {args.days} days; "
        f"{int(newer.sum())} have an article published after them; model {encoder.model_id}"
    )

    clock = time.perf_counter()
    answers = {}
    full = np.zeros(len(items), bool)
    for i, item in enumerate(items):
        public = item.channel == "public"
        question = (" ".join(item.text.split()), item.locale, public)
        if question not in answers:
            answers[question] = first_answer(question[0], locale=item.locale, public=public)
        answer = answers[question]
        if answer and not answer[2] and answer[0]:
            published = latest.get(answer[0])
            full[i] = bool(published and published > item.created_at)
    per_search = (time.perf_counter() - clock) / max(1, len(answers))
    raw = gaps._newer_article_candidates(items, key_index, scores, rows, live, 0.0)
    half = np.array([int(gaps.text_hash(i.key)[0], 16) % 2 for i in items])

    print(f"({len(answers)} searches, {per_search * 1000:.0f} ms each)\n")
    print("## 1. Agreement: items dropped as answered since (search rule without pre-filter)\n")
    print("| half | items | raw rule (before) | search rule | raw only | search only |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, part in (("tune", half == 0), ("test", half == 1), ("all", half >= 0)):
        print(
            f"| {name} | {int(part.sum())} | {int((raw & part).sum())} | "
            f"{int((full & part).sum())} | {int((raw & ~full & part).sum())} | "
            f"{int((full & ~raw & part).sum())} |"
        )

    print("\n## 2. The search-space pre-filter: answered items it misses, searches it costs\n")
    print("| margin | tune missed | test missed | test candidates | searches (all) |")
    print("|---:|---:|---:|---:|---:|")
    for margin in MARGINS:
        clock = time.perf_counter()
        cand, _vectors, encoded = gaps._search_space_candidates(items, live, latest, margin)
        if encoded:
            cold = f"(the first pass embedded {encoded} texts: {time.perf_counter() - clock:.1f} s)"
        searched = {
            (" ".join(i.text.split()), i.locale, i.channel == "public")
            for i, c in zip(items, cand, strict=True)
            if c
        }
        mark = " (chosen)" if margin == gaps.PREFILTER_MARGIN else ""
        print(
            f"| {margin}{mark} | {int((full & ~cand & (half == 0)).sum())} of "
            f"{int((full & (half == 0)).sum())} | {int((full & ~cand & (half == 1)).sum())} of "
            f"{int((full & (half == 1)).sum())} | {int((cand & (half == 1)).sum())} | "
            f"{len(searched)} |"
        )

    print(f"\n{cold if 'cold' in locals() else '(no text to embed: all cached)'}")
    timings(args, encoder, started)


def scale(args, encoder):
    import random

    import gap_clustering
    from django.utils import timezone

    from articles.models import SolutionArticlePage
    from embeddings.models import Chunk
    from insights import gaps
    from insights.models import SearchEvent

    if args.gold:
        gap_clustering.GOLD = Path(args.gold)
    messages, _intents = gap_clustering.load_gold()
    banking = SolutionArticlePage.objects.filter(external_id__startswith="banking")
    if banking.exists():
        Chunk.objects.filter(page__in=banking).delete()
        print(f"(bench copy: {banking.update(live=False)} banking77 articles unpublished)")
    texts = gap_clustering.synthetic(messages, args.scale, 1)
    now, rng = timezone.now(), random.Random(1)
    SearchEvent.objects.all().delete()
    SearchEvent.objects.bulk_create(
        [
            SearchEvent(
                channel="public", locale="en", query=t, no_good_match=True, session_key=f"b-{i}"
            )
            for i, t in enumerate(texts)
        ],
        batch_size=5000,
    )
    for day in range(30):
        ids = list(SearchEvent.objects.values_list("pk", flat=True)[day::30])
        SearchEvent.objects.filter(pk__in=ids).update(
            created_at=now - timezone.timedelta(days=day, minutes=rng.randint(1, 600))
        )
    print(
        f"\n{len(texts)} synthetic banking77 searches "
        f"({len({gaps.normalise(t) for t in texts})} distinct normalised texts)"
    )
    clock = time.perf_counter()
    report = gaps.knowledge_gaps(days=args.days, encoder=encoder)
    print(
        f"first run (search's rule): {time.perf_counter() - clock:.1f} s, stages "
        f"{report.timings}, {report.encoded} texts embedded for the report's model, "
        f"{report.rescore.get('encoded', 0)} for the search's, {report.items} open items"
    )


def timings(args, encoder, started):
    from embeddings.vectors import clear_query_cache
    from insights import gaps

    print(f"\n## 3. knowledge_gaps(days={args.days}), median of {args.repeats} runs (seconds)\n")
    rule = gaps._answer_rule
    if not args.scale:  # warm: vectors cached, models loaded (--scale: its first run did)
        gaps.knowledge_gaps(days=args.days, encoder=encoder)
    runs = {"raw rule (before)": [], "search rule (now)": []}
    for _ in range(args.repeats):
        for name in runs:
            gaps._answer_rule = None if name.startswith("raw") else rule
            clear_query_cache()  # a report in a fresh worker: no query vector kept yet
            clock = time.perf_counter()
            report = gaps.knowledge_gaps(days=args.days, encoder=encoder)
            runs[name].append((time.perf_counter() - clock, report))
    gaps._answer_rule = rule
    stages = list(runs["search rule (now)"][0][1].timings)
    print("| rule | total | " + " | ".join(stages) + " | answered since | candidates | searches |")
    print("|---|---:|" + "---:|" * len(stages) + "---:|---:|---:|")
    for name, results in runs.items():
        report = results[-1][1]
        medians = [statistics.median(r.timings[s] for _t, r in results) for s in stages]
        print(
            f"| {name} | {statistics.median(t for t, _r in results):.2f} | "
            + " | ".join(f"{m:.2f}" for m in medians)
            + f" | {report.answered_since} | {report.rescore.get('candidates', '-')} "
            f"| {report.rescore.get('searches', 0)} |"
        )
    print(
        f"\nload average at end {' '.join(f'{x:.2f}' for x in __import__('os').getloadavg())}; "
        f"total run time {time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
