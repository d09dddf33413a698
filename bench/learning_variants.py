"""Exploration for bench/learning_curve.py: how should learned phrasings rank an article?

    python bench/learning_variants.py --db var/b77.sqlite3 [--per-article 10 40] [--wrong 0 0.1]

Fast and approximate, for choosing what to implement (the figures in docs/ come from
bench/learning_curve.py, the production path). Replays the first N wordings per article
through replay_solved_calls' code and applies learning (confirmation, cap) WITHOUT
re-indexing; then scores offline, exactly (no FAISS top-k cut): every English-model chunk of
the visible articles, plus each searchable learned phrasing encoded as its chunk would be
("Title: wording", encode_passages). Lexical scores come from the production full-text
query. Hybrid fusion as search.service.rank (dense weight 0.9 for English, lexical / max).

Variants of an article's dense score (O: its own chunks' cosines, L: its learned ones):
  max      max(max O, w * max L)                      (the rule, w = learned weight; learned
           phrasings embedded as "Title: wording", as until session 7)
  meanK    mean of the K best of O and w * L
  votK/b   max(...) + b * (sum of the K best learned cosines - ...) see vote()
  cent/b   max(max O, w * max L, b * cosine to the centroid of the article's learned vectors)
  plain    the max rule with each learned phrasing embedded as the wording alone (no "Title: ";
           production since session 7, KB_LEARNED_CHUNK_TITLE = False)
  both max the max rule over both forms of each learned phrasing
Tuned on half A (even lines); half B printed for the chosen variants only.
"""

import argparse
import sys
import time
from collections import defaultdict

from _django import setup
from learning_curve import EVAL, ROOT, use_copy


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default=str(ROOT / "var" / "b77.sqlite3"))
    parser.add_argument("--per-article", type=int, nargs="+", default=[10, 40])
    parser.add_argument("--wrong", type=float, nargs="+", default=[0.0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--setting", action="append", default=[], help="NAME=VALUE override")
    parser.add_argument("--report", nargs="*", default=[], help="variants to show on half B")
    parser.add_argument("--all-candidates", action="store_true", help="also score every candidate")
    parser.add_argument(
        "--grid",
        nargs="*",
        default=[],
        help="learning settings to try on one replay, each NAME=V1,V2,... (all combinations); "
        "prints Hit@1 on half A of the max rule at w 1.0 per combination",
    )
    return parser.parse_args()


def main():
    args = parse_args()
    use_copy(args.db)
    setup()
    import numpy as np
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from articles.models import SolutionArticlePage
    from articles.selectors import visible_articles
    from embeddings.chunking import phrasing_text
    from embeddings.encoder import get_encoder, model_for_language
    from embeddings.models import Chunk
    from insights import learning
    from insights.management.commands.replay_solved_calls import read_calls, replay
    from insights.models import CallOutcome, LearnedPhrasing, PhrasingEvidence
    from search import service
    from search.evaluation import read_gold

    for item in args.setting:
        name, value = item.split("=", 1)
        setattr(settings, name, type(learning.DEFAULTS[name])(float(value)))
    learning.reindex_articles = lambda ids: None  # offline scoring: no index needed
    started = time.perf_counter()
    user = get_user_model().objects.filter(is_superuser=True).first()
    model_id = model_for_language("en")
    encoder = get_encoder(model_id)
    visible = dict(visible_articles(user).values_list("pk", "external_id"))
    titles = dict(SolutionArticlePage.objects.values_list("pk", "title"))
    rows = list(
        Chunk.objects.filter(model_id=model_id, page_id__in=list(visible))
        .exclude(kind=learning.LEARNED_KIND)
        .values_list("page_id", "vector")
    )
    pages = sorted(visible)
    col = {p: i for i, p in enumerate(pages)}
    own_pages = np.array([col[r[0]] for r in rows])
    own_vecs = Chunk.decode_many([r[1] for r in rows], encoder.dimension)
    gold = read_gold(EVAL / "banking77.gold.jsonl")
    texts = [service.clean_query(q.query) for q in gold]
    qv = encoder.encode_queries(texts)
    relevant = np.array([col[next(p for p in pages if visible[p] == q.relevant[0])] for q in gold])
    scope = SolutionArticlePage.objects.searchable()
    lex = np.zeros((len(gold), len(pages)), "float32")
    for i, text in enumerate(texts):
        found = service.lexical_candidates(text, scope, 50, "en")
        top = max(found.values(), default=0.0)
        for pid, score in found.items():
            if pid in col and top > 0:
                lex[i, col[pid]] = score / top
    own_sims = qv @ own_vecs.T
    # own[i, p] = sorted own cosines of page p (descending), padded with -1
    width = np.bincount(own_pages).max()
    own = np.full((len(gold), len(pages), width), -1.0, "float32")
    fill = defaultdict(int)
    for j, p in enumerate(own_pages):
        own[:, p, fill[p]] = own_sims[:, j]
        fill[p] += 1
    own = -np.sort(-own, axis=2)
    half = {"A": np.arange(len(gold)) % 2 == 0, "B": np.arange(len(gold)) % 2 == 1}
    print(f"set-up {time.perf_counter() - started:.0f} s", file=sys.stderr)

    memo = {}

    def encode_passages(batch):
        missing = [t for t in dict.fromkeys(batch) if t not in memo]
        if missing:
            memo.update(zip(missing, encoder.encode_passages(missing), strict=True))
        return np.stack([memo[t] for t in batch])

    def learned_matrix(statuses, plain=False):
        """Cosines of every gold query with each learned phrasing of the given statuses, as
        its chunk is embedded ("Title: wording"; plain=True: the wording alone)."""
        items = list(
            LearnedPhrasing.objects.filter(
                status__in=statuses, article_id__in=list(visible)
            ).values_list("article_id", "text")
        )
        if not items:
            return np.zeros((len(gold), len(pages), 1), "float32") - 1, {}
        vecs = encode_passages([t if plain else phrasing_text(titles[a], t) for a, t in items])
        sims = qv @ vecs.T
        counts = defaultdict(int)
        for a, _ in items:
            counts[a] += 1
        out = np.full((len(gold), len(pages), max(counts.values())), -1.0, "float32")
        fill = defaultdict(int)
        by_page = defaultdict(list)
        for j, (a, _) in enumerate(items):
            out[:, col[a], fill[a]] = sims[:, j]
            fill[a] += 1
            by_page[col[a]].append(vecs[j])
        cent = {}
        for p, vs in by_page.items():
            c = np.mean(vs, axis=0)
            cent[p] = c / np.linalg.norm(c)
        return -np.sort(-out, axis=2), cent

    def hit1(dense, mask):
        score = 0.9 * dense[mask] + 0.1 * lex[mask]
        return 100 * float(np.mean(np.argmax(score, axis=1) == relevant[mask]))

    def variants(learned, cent):
        out = {}
        omax = own[:, :, 0]
        lmax = learned[:, :, 0]
        present = lmax > -1
        for w in (0.95, 1.0, 1.05, 1.1):
            base = np.maximum(omax, np.where(present, w * lmax, -1))
            out[f"max w{w}"] = base
        base = np.maximum(omax, np.where(present, lmax, -1))
        both = np.concatenate([own, np.where(learned > -1, learned, -1)], axis=2)
        both = -np.sort(-both, axis=2)
        for k in (2, 3, 5):
            top = both[:, :, :k]
            out[f"mean{k}"] = np.where(top > -1, top, 0).sum(axis=2) / k
        lpos = np.where(learned > -1, learned, np.nan)
        for k in (2, 3, 5):
            for b in (0.05, 0.1, 0.2):
                # the k best learned cosines above the article's best score, as extra votes
                extra = np.nan_to_num(lpos[:, :, 1:k]).clip(0).sum(axis=2) / max(k - 1, 1)
                out[f"vot{k} b{b}"] = base + b * extra
        for k in (2, 3, 5):
            for b in (0.05, 0.1, 0.2):
                extra = np.where(both[:, :, 1:k] > -1, both[:, :, 1:k], 0).clip(0).sum(axis=2)
                out[f"allvot{k} b{b}"] = base + b * extra / max(k - 1, 1)
        if cent:
            cm = np.full((len(gold), len(pages)), -1.0, "float32")
            for p, c in cent.items():
                cm[:, p] = qv @ c
            for b in (0.9, 0.95, 1.0):
                out[f"cent b{b}"] = np.maximum(base, b * cm)
            for b in (0.05, 0.1, 0.2):
                out[f"cent+ b{b}"] = base + b * np.where(cm > -1, cm, 0).clip(0)
        return out

    calls = read_calls(EVAL / "banking77.replay.jsonl")

    def first_per_article(n):
        seen, kept = defaultdict(int), []
        for call in calls:
            seen[call[1]] += 1
            if seen[call[1]] <= n:
                kept.append(call)
        return kept

    print(f"no learning: A {hit1(own[:, :, 0], half['A']):.2f}")
    import itertools

    grid = [
        [(name, value) for value in values.split(",")]
        for name, values in (item.split("=", 1) for item in args.grid)
    ]
    for n in args.per_article:
        for wrong in args.wrong:
            LearnedPhrasing.objects.all().delete()
            PhrasingEvidence.objects.all().delete()
            CallOutcome.objects.all().delete()
            summary = replay(first_per_article(n), wrong_share=wrong, seed=args.seed)
            for combo in itertools.product(*grid) if grid else []:
                # Learning again from the same evidence (vectors kept) with other settings.
                PhrasingEvidence.objects.update(phrasing=None)  # (evidence cascades otherwise)
                LearnedPhrasing.objects.all().delete()
                for name, value in combo:
                    setattr(settings, name, type(learning.DEFAULTS[name])(float(value)))
                applied = learning.apply_learning(reindex=False)
                learned, _ = learned_matrix((LearnedPhrasing.ACTIVE,))
                base = np.maximum(
                    own[:, :, 0], np.where(learned[:, :, 0] > -1, learned[:, :, 0], -1)
                )
                print(
                    f"grid {n} per article, {wrong:.0%} wrong, "
                    + " ".join(f"{k.removeprefix('KB_')}={v}" for k, v in combo)
                    + f": {applied['active']} active, A {hit1(base, half['A']):.2f}"
                    + (f"  B {hit1(base, half['B']):.2f}" if args.report else "")
                )
                sys.stdout.flush()
            if grid:
                continue
            sets = {"active": (LearnedPhrasing.ACTIVE,)}
            if args.all_candidates:
                sets["candidates too"] = (LearnedPhrasing.ACTIVE, LearnedPhrasing.CANDIDATE)
            why = LearnedPhrasing.objects.filter(status=LearnedPhrasing.CANDIDATE)
            print(
                f"   not searchable: {why.filter(sources__lt=2).count()} with one source, "
                f"{why.filter(sources__gte=2).count()} confirmed but out-voted by another "
                f"article or over the cap"
            )
            for label, statuses in sets.items():
                learned, cent = learned_matrix(statuses)
                print(
                    f"== {n} per article, {wrong:.0%} wrong, {label}: "
                    f"{summary['learning']['active']} active "
                    f"({time.perf_counter() - started:.0f} s)"
                )
                found = variants(learned, cent)
                plain, _ = learned_matrix(statuses, plain=True)
                present = plain[:, :, 0] > -1
                for w in (0.9, 0.95, 1.0, 1.05):
                    found[f"plain max w{w}"] = np.maximum(
                        own[:, :, 0], np.where(present, w * plain[:, :, 0], -1)
                    )
                both = np.maximum(learned, plain)  # per phrasing, the better of the two forms
                found["both max"] = np.maximum(
                    own[:, :, 0], np.where(both[:, :, 0] > -1, both[:, :, 0], -1)
                )
                for name, dense in found.items():
                    line = f"  {name:<16} A {hit1(dense, half['A']):6.2f}"
                    if name in args.report:  # half B only for variants chosen on A
                        line += f"  B {hit1(dense, half['B']):6.2f}"
                    print(line)
            sys.stdout.flush()


if __name__ == "__main__":
    main()
