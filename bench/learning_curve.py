"""Search that learns from solved calls: Hit@1 against replayed calls per article.

    python bench/learning_curve.py --db var/b77.sqlite3 [--per-article 0 5 10 20 40] [--wrong 0 0.1]

Works on a copy of a database holding the demo articles and banking77 (imported with
--publish and indexed). For each point of the curve it clears what was learned, replays the
first N wordings per article of ../shared/eval/banking77.replay.jsonl through
search.management.commands.replay_solved_calls.replay (events.record_outcome, the service
POST /api/v1/outcomes/ calls, then learning.apply_learning: merge, confirm, cap, re-index),
then ranks every banking77 gold query through search.service.gather + rank (the production
path, as bench/tune_search.py does) for a grid of learned-chunk weights.

Tuning split: the learned-chunk weight is chosen on half A of the gold queries (even line
numbers), averaged over every point of the curve; the figures reported are on half B (odd
line numbers) and on all queries. No-good-match AUROC: the demo gold set (its unanswerable
queries) searched with the banking77 learning in place, and banking77 itself with 11 of its
77 articles unpublished (their gold queries have no answer; their replayed calls are dropped).

Since session 8 the learned share in the confidence (KB_LEARNED_CONFIDENCE_WEIGHT; ranking
keeps the learned-chunk weight) is compared with --confidence-weights: chosen on the demo
gold's committed `tune` half and on half A of banking77 with articles held out, reported on
the demo `test` half and half B (the script's last table).
"""

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from _django import ROOT, setup, shared_eval_dir

EVAL = shared_eval_dir()


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default=str(ROOT / "var" / "b77.sqlite3"))
    parser.add_argument("--per-article", type=int, nargs="+", default=[0, 10, 40])
    parser.add_argument("--wrong", type=float, nargs="+", default=[0.0, 0.1])
    parser.add_argument("--weights", type=float, nargs="+", default=[0.8, 0.85, 0.9, 0.95, 1.0])
    parser.add_argument(
        "--votes",
        nargs="+",
        default=["5:0", "5:0.1"],
        help="learned votes K:weight to try with every weight (search.service, K:0 = off)",
    )
    parser.add_argument(
        "--confidence-weights",
        nargs="+",
        default=["1"],
        help="shares of a learned cosine in the confidence (no-good-match) to compare, each X "
        "(every model) or X/Y (English model X, multilingual model Y); chosen on the demo "
        "gold's tune half and banking77 half A with articles held out (session 8)",
    )
    parser.add_argument("--dump", help="pickle the gathered demo and hold-out rows here")
    parser.add_argument(
        "--setting", action="append", default=[], help="learning setting NAME=VALUE for the run"
    )
    parser.add_argument(
        "--crosslingual",
        type=int,
        nargs="*",
        default=None,
        help="also the cross-lingual curve at these per-article points (German wordings)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--held-out", type=int, default=11, help="articles unpublished for AUROC")
    parser.add_argument("--skip-holdout", action="store_true")
    parser.add_argument(
        "--per-article-none",
        action="store_true",
        help="no banking77 curve (e.g. only --crosslingual); the setting is w 1.0, no votes",
    )
    return parser.parse_args()


def use_copy(db):
    import os

    workdir = Path(tempfile.mkdtemp(prefix="kb-learning-"))
    shutil.copyfile(db, workdir / "db.sqlite3")
    index = Path(db).with_name(Path(db).stem + "_index")
    if index.exists():
        shutil.copytree(index, workdir / "vector_index")
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'db.sqlite3'}"
    os.environ["KB_VECTOR_INDEX_DIR"] = str(workdir / "vector_index")
    os.environ["KB_VAR_DIR"] = str(workdir)
    return workdir


def main():
    args = parse_args()
    workdir = use_copy(args.db)
    setup()
    import numpy as np
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from articles.models import SolutionArticlePage
    from embeddings import vectors
    from embeddings.encoder import get_encoder, model_for_language, model_ids
    from embeddings.indexing import sync_locale
    from embeddings.models import Chunk
    from insights import learning
    from insights.learning import LEARNED_KIND
    from insights.management.commands.replay_solved_calls import read_calls, replay
    from insights.models import CallOutcome, LearnedPhrasing, PhrasingEvidence
    from search import service
    from search.evaluation import auroc, read_gold

    for item in args.setting:  # e.g. KB_LEARNING_MERGE_SIMILARITY=0.92 (today's value)
        name, value = item.split("=", 1)
        setattr(settings, name, type(learning.DEFAULTS[name])(float(value)))
    print(
        "learning settings: "
        + ", ".join(f"{name}={learning.setting(name)}" for name in learning.DEFAULTS),
        file=sys.stderr,
    )
    started = time.perf_counter()
    # Same vectors, encoded once: the replayed wordings and learned chunks recur at every point.
    for model_id in model_ids():
        encoder = get_encoder(model_id)
        for method in ("encode_queries", "encode_passages"):
            raw, memo = getattr(encoder, method), {}

            def memoised(texts, raw=raw, memo=memo):
                texts = list(texts)
                missing = [t for t in dict.fromkeys(texts) if t not in memo]
                if missing:
                    memo.update(zip(missing, raw(missing), strict=True))
                return np.stack([memo[t] for t in texts]) if texts else raw([])

            setattr(encoder, method, memoised)
    vectors._query_cache.size = 20_000  # every gold query encoded once, in batches
    # Each query with the model its language uses (an English-only set needs no e5 pass).
    by_model = {}
    for path in (EVAL / "banking77.gold.jsonl", ROOT / "search/eval/demo_gold.jsonl"):
        for q in read_gold(path):
            model_id = model_for_language(q.locale)
            by_model.setdefault(model_id, []).append(service.clean_query(q.query))
    for model_id, texts in by_model.items():
        batch = get_encoder(model_id).encode_queries(texts)
        for text, vector in zip(texts, batch, strict=True):
            vectors._query_cache.get((model_id, text), lambda v=vector: v)

    print(f"query vectors encoded ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    user = get_user_model().objects.filter(is_superuser=True).first()
    ext = dict(SolutionArticlePage.objects.values_list("pk", "external_id"))
    gold = read_gold(EVAL / "banking77.gold.jsonl")
    demo = read_gold(ROOT / "search" / "eval" / "demo_gold.jsonl")
    calls = read_calls(EVAL / "banking77.replay.jsonl")
    halves = {"A": gold[0::2], "B": gold[1::2]}

    def forget_learning():
        LearnedPhrasing.objects.all().delete()
        PhrasingEvidence.objects.all().delete()
        CallOutcome.objects.all().delete()
        Chunk.objects.filter(kind=LEARNED_KIND).delete()
        for code in ("en", "nl", "fr"):
            for model_id in model_ids():
                sync_locale(code, model_id)

    def first_per_article(n, allowed=None):
        seen, kept = {}, []
        for call in calls:
            if allowed is not None and call[1] not in allowed:
                continue
            seen[call[1]] = seen.get(call[1], 0) + 1
            if seen[call[1]] <= n:
                kept.append(call)
        return kept

    def gathered(queries):
        rows = []
        for q in queries:
            text = service.clean_query(q.query)
            rows.append((q, service.gather(text, user=user, channel="operator", locale=q.locale)))
        print(f"    gathered {len(rows)} queries", file=sys.stderr)
        return rows

    grid = [(w, v) for v in args.votes for w in args.weights]
    english_model = model_for_language("en")

    def confidence_weight(label, model_id):
        """--confidence-weights label: "X" for every model, "X/Y": English model X, else Y."""
        parts = label.split("/")
        return float(parts[0] if model_id == english_model or len(parts) == 1 else parts[1])

    def measure(rows, config, ext=ext, confidence=None):
        """Hit@1 and no-good-match AUROC of `rows` ranked with `config`; `confidence`: a
        --confidence-weights label for the confidence (None: the production setting)."""
        weight, vote = config if isinstance(config, tuple) else (config, "5:0")
        votes, vote_weight = vote.split(":")
        hit1 = n = 0
        pos, neg = [], []
        for q, c in rows:
            params = service.RankingParams.for_mode("hybrid", q.locale)
            params.learned_weight = weight
            params.learned_votes, params.learned_vote_weight = int(votes), float(vote_weight)
            ranked = service.rank(c, params)
            share = None if confidence is None else confidence_weight(confidence, c.model_id)
            conf = service.confidence_of(c, ranked, share)
            if not q.relevant:
                neg.append(conf)
                continue
            pos.append(conf)
            n += 1
            hit1 += bool(ranked) and ext.get(ranked[0][0]) in q.relevant
        return {"hit1": 100 * hit1 / max(n, 1), "auroc": auroc(pos, neg), "n": n}

    def demo_figures(rows, config):
        """The demo gold set per committed split (tune = choose, test = report) and in all:
        Hit@1 and, per confidence label, the no-good-match AUROC."""
        out = {}
        for split in ("tune", "test", "all"):
            part = [r for r in rows if split == "all" or r[0].split == split]
            out[split] = {"hit1": measure(part, config)["hit1"]}
            for label in args.confidence_weights:
                out[split][label] = measure(part, config, confidence=label)["auroc"]
            if split == "tune":  # per language, to see where a change comes from
                for code in ("en", "nl", "fr"):
                    lang = [r for r in part if r[0].locale == code]
                    out[split][f"hit1 {code}"] = measure(lang, config)["hit1"]
                    for label in args.confidence_weights:
                        out[split][f"{label} {code}"] = measure(lang, config, confidence=label)[
                            "auroc"
                        ]
        return out

    dumped = {}

    def keep(key, rows):
        """With --dump, the gathered rows so far (for exploring other confidence rules)."""
        dumped[key] = rows
        if args.dump:
            import pickle

            with open(args.dump, "wb") as fh:
                pickle.dump(dumped, fh)

    results = {}
    print(
        f"banking77: {len(gold)} gold queries (half A {len(halves['A'])}, half B "
        f"{len(halves['B'])}), {len(calls)} replay lines; demo gold {len(demo)} queries",
        file=sys.stderr,
    )
    for n in [] if args.per_article_none else args.per_article:
        for wrong in args.wrong if n else [0.0]:
            forget_learning()
            summary = replay(first_per_article(n), wrong_share=wrong, seed=args.seed) if n else None
            print(f"    replayed ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
            rows = {h: gathered(qs) for h, qs in halves.items()}
            demo_rows = gathered(demo)
            point = {
                "active": LearnedPhrasing.objects.filter(status=LearnedPhrasing.ACTIVE).count(),
                "replayed": summary["recorded"] if summary else 0,
            }
            keep(("demo", n, wrong), demo_rows)
            for w in grid:
                point[w] = {
                    "A": measure(rows["A"], w)["hit1"],
                    "B": measure(rows["B"], w)["hit1"],
                    "demo_auroc": measure(demo_rows, w)["auroc"],
                    "demo_hit1": measure(demo_rows, w)["hit1"],
                    "demo": demo_figures(demo_rows, w),
                }
            results[(n, wrong)] = point
            print(json.dumps({"point": [n, wrong], **{str(k): v for k, v in point.items()}}))
            sys.stdout.flush()
            print(
                f"  {n:>2} per article, {wrong:.0%} wrong: {point['active']} searchable phrasings; "
                + ", ".join(f"w{w[0]} v{w[1]}: A {point[w]['A']:.1f}" for w in grid)
                + f"  ({time.perf_counter() - started:.0f} s)",
                file=sys.stderr,
            )

    learned_points = [k for k in results if k[0]]
    plain = (1.0, "5:0")
    # Ties go to the simpler setting: weight nearest 1, then no votes.
    chosen = (
        plain
        if not learned_points
        else max(
            grid,
            key=lambda w: (
                round(float(np.mean([results[k][w]["A"] for k in learned_points])), 6),
                -abs(w[0] - 1.0),
                w[1].endswith(":0"),
            ),
        )
    )
    print(
        "Learned-chunk weight and votes (K:weight), mean Hit@1 on half A over the learned "
        "points of the curve:"
    )
    for w in grid:
        mean = np.mean([results[k][w]["A"] for k in learned_points])
        print(f"  {w[0]:.2f} {w[1]:>7}: {mean:.2f}" + ("  <- chosen" if w == chosen else ""))
    print(f"\nHit@1 at the chosen setting {chosen} (half B = not used for tuning; all = A+B):")
    print(
        f"{'calls/article':>13} {'wrong':>6} {'searchable':>10} {'Hit@1 B':>8} {'Hit@1 all':>9} "
        f"{'demo AUROC':>10} {'demo Hit@1':>10}"
    )
    for (n, wrong), point in results.items():
        p = point[chosen]
        both = (p["A"] * len(halves["A"]) + p["B"] * len(halves["B"])) / len(gold)
        print(
            f"{n:>13} {wrong:>6.0%} {point['active']:>10} {p['B']:>8.1f} {both:>9.1f} "
            f"{p['demo_auroc']:>10.3f} {p['demo_hit1']:>10.1f}"
        )
    if plain in grid and plain != chosen:
        print("\nFor comparison, learned weight 1.0 without votes: Hit@1 B / demo AUROC")
        for (n, wrong), point in results.items():
            p = point[plain]
            print(f"{n:>13} {wrong:>6.0%} {p['B']:>8.1f} {p['demo_auroc']:>10.3f}")

    if args.crosslingual is not None:
        # German customer wordings -> English articles (xSID): the even lines' German wordings
        # are replayed as solved calls (locale de); the odd lines are searched, in German and
        # in the original English. Nothing is tuned on this set.
        xde = read_gold(EVAL / "crosslingual_de.gold.jsonl")
        xen = read_gold(EVAL / "crosslingual_en.gold.jsonl")
        xcalls = [(q.query, q.relevant[0], "de") for q in xde[0::2]]
        xtests = {"de": xde[1::2], "en": xen[1::2]}

        def first_of(n):
            seen, kept = {}, []
            for call in xcalls:
                seen[call[1]] = seen.get(call[1], 0) + 1
                if seen[call[1]] <= n:
                    kept.append(call)
            return kept

        def gathered_x(queries):
            content = dict(settings.WAGTAIL_CONTENT_LANGUAGES)
            rows = []
            for q in queries:
                text = service.clean_query(q.query)
                locale = q.locale if q.locale in content else settings.LANGUAGE_CODE
                candidates = service.gather(
                    text,
                    user=user,
                    channel="operator",
                    locale=locale,
                    model_id=model_for_language(q.locale),
                )
                rows.append((q, candidates))
            return rows

        per = max(sum(1 for c in xcalls if c[1] == a) for a in {c[1] for c in xcalls})
        print(
            f"\nCross-lingual dev set (xSID, 15 English articles): {len(xcalls)} German wordings "
            f"replayed (at most {per} per article), {len(xtests['de'])} test queries per "
            f"language; Hit@1 at {chosen} / at 1.0 without votes:"
        )
        print(
            f"{'calls/article':>13} {'wrong':>6} {'searchable':>10} {'de->en':>13} {'en->en':>13}"
        )
        for n in args.crosslingual:
            for wrong in args.wrong if n else [0.0]:
                forget_learning()
                if n:
                    replay(first_of(n), wrong_share=wrong, seed=args.seed)
                active = LearnedPhrasing.objects.filter(status=LearnedPhrasing.ACTIVE).count()
                cells = []
                for code in ("de", "en"):
                    rows = gathered_x(xtests[code])
                    cells.append(
                        f"{measure(rows, chosen)['hit1']:.1f} / {measure(rows, plain)['hit1']:.1f}"
                    )
                print(f"{n:>13} {wrong:>6.0%} {active:>10} {cells[0]:>13} {cells[1]:>13}")
                sys.stdout.flush()

    holdout = {}
    if not args.skip_holdout:
        # Unanswerable banking77 queries: unpublish some articles, keep their gold queries.
        import random

        rng = random.Random(args.seed)
        ids = sorted({q.relevant[0] for q in gold})
        held = set(rng.sample(ids, args.held_out))
        forget_learning()
        for page in SolutionArticlePage.objects.filter(external_id__in=held):
            page.unpublish()
        from embeddings.indexing import process_pending

        process_pending()
        queries = [
            type(q)(q.query, [] if q.relevant[0] in held else q.relevant, q.locale) for q in gold
        ]
        print(
            f"\nNo-good-match separation on banking77 with {len(held)} articles unpublished "
            f"({sum(not q.relevant for q in queries)} unanswerable queries), weight {chosen}:"
        )
        print(f"{'calls/article':>13} {'wrong':>6} {'AUROC':>6} {'Hit@1':>6}")
        allowed = set(ids) - held
        for n, wrong in [(0, 0.0), (10, 0.1), (40, 0.0), (40, 0.1)]:
            forget_learning()
            if n:
                replay(first_per_article(n, allowed), wrong_share=wrong, seed=args.seed)
            hrows = gathered(queries)
            keep(("holdout", n, wrong), hrows)
            m = measure(hrows, chosen)
            # Per half of the gold queries: A chooses the confidence weight, B reports.
            holdout[(n, wrong)] = {
                label: {
                    half: measure(part, chosen, confidence=label)["auroc"]
                    for half, part in (("A", hrows[0::2]), ("B", hrows[1::2]), ("all", hrows))
                }
                for label in args.confidence_weights
            }
            print(f"{n:>13} {wrong:>6.0%} {m['auroc']:>6.3f} {m['hit1']:>6.1f}")
            print(json.dumps({"holdout": [n, wrong], **holdout[(n, wrong)]}))
            sys.stdout.flush()
    if (0, 0.0) in results and learned_points:
        choose_confidence(args.confidence_weights, results, chosen, holdout)
    print(f"\n({time.perf_counter() - started:.0f} s; work copy {workdir})", file=sys.stderr)


def choose_confidence(labels, results, chosen, holdout):
    """The learned share in the confidence: among the labels whose no-good-match AUROC does
    not drop below no learning at any learned point, on the demo gold's tune half and on
    banking77 half A with articles held out (when measured), the one with the highest mean
    of those AUROCs; if none, the one whose worst drop is smallest. Then reported on the demo
    test half and banking77 half B."""
    import numpy as np

    base = results[(0, 0.0)][chosen]["demo"]
    points = [k for k in results if k[0]]
    held = [k for k in holdout if k[0]]

    def tune(label):
        demo = [results[k][chosen]["demo"]["tune"][label] for k in points]
        hold = [holdout[k][label]["A"] for k in held]
        drops = [d - base["tune"][label] for d in demo]
        drops += [h - holdout[(0, 0.0)][label]["A"] for h in hold] if (0, 0.0) in holdout else []
        value = np.mean([np.mean(demo)] + ([np.mean(hold)] if hold else []))
        return min(drops), float(value)

    scores = {label: tune(label) for label in labels}
    ok = [label for label in labels if scores[label][0] >= 0]
    pick = (
        max(ok, key=lambda label: scores[label][1])
        if ok
        else max(labels, key=lambda label: scores[label][0])
    )
    print(
        "\nLearned share in the confidence (X: every model; X/Y: English model X, multilingual "
        "Y), TUNING figures: no-good-match AUROC on the demo tune half (no learning "
        f"{base['tune'][labels[0]]:.3f}) per learned point"
        + (", and on banking77 half A with articles held out" if held else "")
        + "; worst drop against no learning; mean:"
    )
    print(
        f"{'label':>10} "
        + " ".join(f"{f'demo {n}/{w:.0%}':>12}" for n, w in points)
        + "".join(f" {f'held A {n}/{w:.0%}':>14}" for n, w in held)
        + f" {'worst':>7} {'mean':>6}"
    )
    for label in labels:
        print(
            f"{label:>10} "
            + " ".join(f"{results[k][chosen]['demo']['tune'][label]:>12.3f}" for k in points)
            + "".join(f" {holdout[k][label]['A']:>14.3f}" for k in held)
            + f" {scores[label][0]:>+7.3f} {scores[label][1]:>6.3f}"
            + ("  <- chosen" if label == pick else "")
        )
    shown = [pick] + (["1"] if pick != "1" and "1" in labels else [])
    print(
        f"\nREPORT (not used for choosing): demo TEST half, AUROC at confidence {' / '.join(shown)}"
        ", and Hit@1 (ranking unchanged); banking77 half B Hit@1"
        + (" and, articles held out, half B AUROC" if held else "")
        + ":"
    )
    print(f"{'calls/article':>13} {'wrong':>6} {'demo test AUROC':>17} {'Hit@1':>6} {'B Hit@1':>8}")
    for (n, wrong), point in results.items():
        test = point[chosen]["demo"]["test"]
        print(
            f"{n:>13} {wrong:>6.0%} {' / '.join(f'{test[s]:.3f}' for s in shown):>17} "
            f"{test['hit1']:>6.1f} {point[chosen]['B']:>8.1f}"
        )
    if holdout:
        print(f"{'held out':>13} {'wrong':>6} {'B AUROC':>17}")
        for (n, wrong), by_label in holdout.items():
            cells = " / ".join(f"{by_label[s]['B']:.3f}" for s in shown)
            print(f"{n:>13} {wrong:>6.0%} {cells:>17}")
    return pick


if __name__ == "__main__":
    main()
