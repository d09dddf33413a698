"""List the misses of one gold file, query by query: which article came first, which chunk
won it, its dense and full-text scores, and where the right article was.

Reads the production path (search.service.gather + rank with the settings in force), so it
shows what an operator would have got. For looking at failures before changing anything:

    python bench/search_misses.py search/eval/demo_gold.jsonl --split tune --locale nl fr

Use the tune half to decide what to change; the test half is for reporting.
"""

import argparse
from collections import Counter

from _django import setup

setup()

from django.contrib.auth import get_user_model  # noqa: E402

from articles.models import SolutionArticlePage  # noqa: E402
from embeddings.encoder import model_for_language  # noqa: E402
from search import service  # noqa: E402
from search.evaluation import read_gold  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("gold")
    parser.add_argument(
        "--split",
        default="tune",
        help="tune, test or all (odd/even lines when the file has no split)",
    )
    parser.add_argument("--locale", nargs="*", default=None)
    parser.add_argument("--channel", default="operator")
    parser.add_argument("--all", action="store_true", help="also list the hits")
    parser.add_argument(
        "--summary", action="store_true", help="only the summary of the misses, not each one"
    )
    args = parser.parse_args()
    user = get_user_model().objects.filter(is_superuser=True).first()
    pages = {
        p.pk: p
        for p in SolutionArticlePage.objects.select_related("locale").only(
            "pk", "title", "external_id", "locale__language_code", "translation_key"
        )
    }
    by_ext = {}
    for p in pages.values():
        by_ext.setdefault(p.external_id, []).append(p.pk)
    misses = total = 0
    first_by_set, right_rank, confusions = Counter(), Counter(), Counter()
    for number, q in enumerate(read_gold(args.gold)):
        half = q.split or ("tune" if number % 2 == 0 else "test")
        if args.split != "all" and half != args.split:
            continue
        if args.locale and q.locale not in args.locale:
            continue
        text = service.clean_query(q.query)
        c = service.gather(text, user=user, channel=args.channel, locale=q.locale)
        p = service.RankingParams.for_mode("hybrid", q.locale)
        ranked = service.rank(c, p)
        conf = service.confidence_of(c, ranked)
        ids = [pages[pid].external_id for pid, _, _ in ranked]
        if not q.relevant:
            if args.summary:
                continue
            print(f"-- [{q.locale}] UNANSWERABLE conf {conf:.3f}: {q.query}")
            for pid, _s, _f in ranked[:1]:
                print(f"     1. {pages[pid].title} [{pages[pid].locale.language_code}]")
            continue
        total += 1
        r = next((i for i, e in enumerate(ids, 1) if e in q.relevant), None)
        if r == 1 and not args.all:
            continue
        misses += r != 1
        if r != 1:
            first = pages[ranked[0][0]]
            # Which collection the wrong first article belongs to ("xsid:", "banking77:", demo).
            origin = first.external_id.split(":")[0] if ":" in first.external_id else "demo"
            first_by_set[(origin, first.locale.language_code)] += 1
            right_rank[r if r and r <= 5 else "6+ or none"] += 1
            confusions[(q.relevant[0], first.external_id)] += 1
        if args.summary:
            continue
        print(
            f"\n{'MISS' if r != 1 else 'hit '} [{q.locale}] rank {r} conf {conf:.3f} ({model_for_language(q.locale)}): {q.query}"
        )
        print(f"   wanted {q.relevant}")
        for i, (pid, s, _fb) in enumerate(ranked[:4], 1):
            page = pages[pid]
            chunk = c.best_chunk.get(pid, ("", "", None))
            top = c.top_chunks_by_page.get(pid)
            mark = "*" if page.external_id in q.relevant else " "
            print(
                f"  {mark}{i}. {s:.4f} d={c.dense_by_page.get(pid, 0):.4f} top3={tuple(round(x, 3) for x in top or ())} "
                f"lex={c.lexical_by_page.get(pid, 0):.2f} [{page.locale.language_code}] {page.title}"
            )
            print(f"        chunk ({chunk[1]}): {chunk[0][:110]}")
        if r and r > 4:
            pid = ranked[r - 1][0]
            page = pages[pid]
            chunk = c.best_chunk.get(pid, ("", "", None))
            print(
                f"  *{r}. {ranked[r - 1][1]:.4f} d={c.dense_by_page.get(pid, 0):.4f} [{page.locale.language_code}] {page.title}"
            )
            print(f"        chunk ({chunk[1]}): {chunk[0][:110]}")
    print(f"\n{misses} misses of {total} answerable")
    print("the wrong first article, by collection and language:", dict(first_by_set.most_common()))
    print("rank of the right article in those misses:", dict(right_rank.most_common()))
    print("most frequent confusions (wanted, got):")
    for (wanted, got), count in confusions.most_common(10):
        print(f"  {count} x {wanted} -> {got}")


if __name__ == "__main__":
    main()
