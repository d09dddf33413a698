"""Session 7 (issue 13): ranking and no-good-match variants for Dutch, French and German
questions, chosen on the tune halves and reported on the test halves.

Gathers dense and full-text candidates once per gold query through the production path
(search.service.gather; cached in var/xling_variants.pkl, `--fresh` to redo), then replays
search.service.rank and confidence_of with each variant:

    python bench/xling_variants.py search/eval/demo_gold.jsonl \
        ../shared/eval/crosslingual_de.gold.jsonl ../shared/eval/crosslingual_en.gold.jsonl

Halves as in bench/tune_search.py (the demo gold's committed "split"; other files: even
lines tune, odd lines test). Figures per (file, language, half): Hit@1, MRR@10, and the
no-good-match AUROC where the half has unanswerable queries. Only the tune-half lines
choose; the test-half lines are printed once, for the report.
"""

import argparse
import contextlib
import functools
import re
import sys
from functools import partial
from pathlib import Path

from _django import ROOT, gathered_gold, print_first_hit_change, rank_scores, setup

setup()

import numpy as np  # noqa: E402

from articles.models import SolutionArticlePage  # noqa: E402
from embeddings.encoder import model_for_language  # noqa: E402
from search import service  # noqa: E402
from search.evaluation import auroc  # noqa: E402
from textutils.language import question_language  # noqa: E402

CACHE = ROOT / "var" / "xling_variants.pkl"


@functools.cache
def added_rows(path):
    """Texts of the gold rows added later ({"added": "session9"}): reported apart as well."""
    import json

    with open(path, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return {(r["query"], r.get("locale") or "en"): r["added"] for r in rows if r.get("added")}


def mix_query_roles(share):
    """Session 9 experiment: e5's query vector as (1 - share) * "query: " role + share *
    "passage: " role, normalised (the stored chunks mix the two roles half and half)."""
    from embeddings.encoder import get_encoder

    encoder = get_encoder("multilingual-e5-small-q4")
    plain = encoder.encode_queries

    def encode_queries(texts):
        texts = list(texts)
        q = plain(texts)
        if not texts:
            return q
        p = encoder.encode_passages(texts)
        mixed = (1.0 - share) * q + share * p
        return mixed / np.linalg.norm(mixed, axis=1, keepdims=True)

    encoder.encode_queries = encode_queries


def collect(paths, fresh, stated_en=True, lean=False, query_share=0.0):
    cache = CACHE.with_suffix(".lean.pkl") if lean else CACHE
    if query_share:
        cache = cache.with_suffix(f".q{query_share}.pkl")
        mix_query_roles(query_share)
    return gathered_gold(cache, paths, fresh, partial(gold_rows, stated_en=stated_en, lean=lean))


def gold_rows(path, q, half, user, stated_en=True, lean=False):
    """One gold query's rows (collect): production's candidates, then the variants'."""
    base = Path(path).name.removesuffix(".jsonl")
    added = added_rows(path)
    rows = []
    text = service.clean_query(q.query)
    # Rows added in a later session form their own group ("demo_gold+session9"), so
    # the figures on the rows that existed before stay comparable.
    name = base + (f"+{added[(q.query, q.locale)]}" if (q.query, q.locale) in added else "")
    c = service.gather(text, user=user, channel="operator", locale=q.locale)
    rows.append((name, q, half, c))
    if lean:
        return rows
    if q.locale in ("nl", "fr"):
        # Before session 7: stop words compared as typed, "à" not one of them.
        with old_stopwords():
            c = service.gather(text, user=user, channel="operator", locale=q.locale)
        rows.append((name + "@old-stopwords", q, half, c))
    if q.locale == "nl":
        # Dutch compounds split into words the articles use ("afwezigheidsmelding"
        # -> "afwezigheid", "melding"), added to the full-text query.
        with split_compounds():
            c = service.gather(text, user=user, channel="operator", locale=q.locale)
        rows.append((name + "@compounds", q, half, c))
    if q.locale in ("nl", "fr") and stated_en:
        # The operator's console still says English: production detects the
        # question's language (model, weights, full-text words); before session 7
        # the full-text side followed the console's language.
        spoken = question_language(text, "en")
        for label, lexical in (("@en-console", spoken), ("@en-console-before", "en")):
            c = service.gather(
                text,
                user=user,
                channel="operator",
                locale="en",
                model_id=model_for_language(spoken),
                language=lexical,
            )
            c.spoken = spoken
            rows.append((name + label, q, half, c))
    return rows


@contextlib.contextmanager
def old_stopwords():
    from search.stopwords import STOPWORDS

    def content_terms(terms, locale):
        stop = (STOPWORDS.get(locale, set()) | STOPWORDS["en"]) - {"à", "là", "été", "même"}
        kept = [t for t in terms if t.lower() not in stop]
        return kept or terms

    original = service.content_terms
    service.content_terms = content_terms
    try:
        yield
    finally:
        service.content_terms = original


@contextlib.contextmanager
def split_compounds():
    from embeddings.models import Chunk
    from search.stopwords import fold

    vocab = set()
    for text in Chunk.objects.filter(locale__language_code="nl").values_list("text", flat=True):
        vocab.update(fold(w) for w in re.findall(r"\w+", text) if len(w) >= 4)
    original = service.lexical_terms

    def parts(word):
        w = fold(word)
        found = []
        for i in range(4, len(w) - 3):
            left, right = w[:i], w[i:]
            for stem in (left, left.removesuffix("s"), left.removesuffix("e")):
                if len(stem) >= 4 and stem in vocab and right in vocab:
                    found += [stem, right]
                    break
        return found

    def with_parts(query, locale="en"):
        terms = original(query, locale)
        extra = [p for t in terms if len(t) >= 8 for p in parts(t)]
        if extra:
            print(f"   compounds: {query!r} + {extra}", file=sys.stderr)
        return terms + [p for p in dict.fromkeys(extra) if p not in terms]

    service.lexical_terms = with_parts
    try:
        yield
    finally:
        service.lexical_terms = original


def measure(rows, ext, variant):
    results, flags = [], [0, 0]
    for _name, q, _half, c in rows:
        ranked, conf = variant(q, c)
        bar = service.no_good_match_threshold(getattr(c, "spoken", q.locale), c.model_id)
        flags[bool(q.relevant)] += conf < bar
        results.append((q.relevant, ranked, conf))
    m = rank_scores(results, ext)
    return m["hit1"], m["mrr"], auroc(m["pos"], m["neg"]), m["n"], len(m["neg"]), flags


def production(q, c, **changes):
    params = service.RankingParams.for_mode("hybrid", getattr(c, "spoken", q.locale))
    for key, value in changes.items():
        setattr(params, key, value)
    ranked = service.rank(c, params)
    return ranked, service.confidence_of(c, ranked)


def versions_confidence(c, ranked):
    """The top article's best dense score over all its versions (not only the one shown)."""
    if not ranked:
        return 0.0
    key = c.visible[ranked[0][0]][0]
    share = c.top_chunks_share
    return max(c.dense(pid, None, share) for pid, (k, _l) in c.visible.items() if k == key)


def best_version(q, c, confidence="shown"):
    ranked, conf = production(q, c, version_score="best")
    if confidence == "versions":
        conf = versions_confidence(c, ranked)
    return ranked, conf


def shown_confidence(q, c, version="best"):
    """Ranked by the best version (or the shown one: "own", before session 7), confidence
    from the version shown (the caller's when it matched)."""
    ranked, _conf = production(q, c, version_score=version)
    if not ranked:
        return ranked, 0.0
    return ranked, c.dense(ranked[0][0], None, c.top_chunks_share)


def background_confidence(q, c, lo, hi):
    """Production ranking; confidence = the top article's dense score minus the mean dense
    score of the articles ranked lo..hi by dense score (this query's background: e5 scores
    some questions high against everything)."""
    ranked, conf = production(q, c)
    dense = sorted(
        (c.dense(pid, None, c.top_chunks_share) for pid in c.dense_by_page), reverse=True
    )
    background = dense[lo - 1 : hi] or dense[-1:] or [0.0]
    return ranked, conf - float(np.mean(background))


def language_gap(rows, lang, top=10):
    """Median over the tune-half queries in `lang` of dense(version in lang) - dense(other
    version of the same article), over the articles among each query's first `top` that
    have both: e5's same-language bias, measured without any relevance label."""
    own_id = service._locale_ids().get(lang)
    gaps = []
    for _name, q, half, c in rows:
        if (
            half != "tune"
            or getattr(c, "spoken", q.locale) != lang
            or c.model_id != "multilingual-e5-small-q4"
        ):
            continue
        share = c.top_chunks_share
        dense = {pid: c.dense(pid, None, share) for pid in c.dense_by_page}
        by_key = {}
        for pid, score in dense.items():
            key, loc = c.visible[pid]
            by_key.setdefault(key, {})[loc] = score
        best = sorted(by_key, key=lambda k: -max(by_key[k].values()))[:top]
        for key in best:
            versions = by_key[key]
            if own_id in versions:
                gaps += [versions[own_id] - s for loc, s in versions.items() if loc != own_id]
    return float(np.median(gaps)) if gaps else 0.0, len(gaps)


GAP = {}  # question language -> same-language bias, set in main() from the tune halves


def shifted(c, lang, delta):
    """A copy of the candidates where every version not in the question's language gets
    `delta` added to its chunk scores (dense ranking and confidence)."""
    import copy

    own_id = service._locale_ids().get(lang)
    c2 = copy.copy(c)
    c2.dense_by_page = {
        pid: s + (delta if c.visible[pid][1] != own_id else 0.0)
        for pid, s in c.dense_by_page.items()
    }
    c2.top_chunks_by_page = {
        pid: tuple(x + (delta if c.visible[pid][1] != own_id else 0.0) for x in t)
        for pid, t in c.top_chunks_by_page.items()
    }
    return c2


def gap_corrected(q, c, scale=1.0):
    lang = getattr(c, "spoken", q.locale)
    delta = GAP.get(lang, 0.0) * scale if c.model_id == "multilingual-e5-small-q4" else 0.0
    if lang not in ("nl", "fr"):
        delta = 0.0  # no content in the language (German): every article is another language
    c2 = shifted(c, lang, delta) if delta else c
    return production(q, c2)


LOCALES_OF_KEY = {}  # translation key -> locale ids of its live versions, set in main()


def lifted(q, c, delta, confidence=True):
    """Session 9 (KB_CROSS_LANGUAGE_LIFT): e5 matches a question a few hundredths higher
    against text in the question's language. An article WITHOUT a version in that language
    can only be matched across languages, so its dense score gets `delta` (translated
    articles keep theirs: their own-language version already carries the bias); `delta` 0 is
    the ranking before session 9. `confidence=False`: ranking only."""
    import copy

    lang = getattr(c, "spoken", q.locale)
    own_id = service._locale_ids().get(lang)
    c2 = copy.copy(c)
    c2.lift_by_page = {}
    if c.model_id == "multilingual-e5-small-q4" and lang in ("nl", "fr") and delta:
        c2.lift_by_page = {
            pid: delta
            for pid, (key, _l) in c.visible.items()
            if pid in c.dense_by_page and own_id not in LOCALES_OF_KEY.get(key, ())
        }
    ranked, conf = production(q, c2)
    if not confidence:
        c2.lift_by_page = {}
        conf = service.confidence_of(c2, ranked)
    return ranked, conf


def language_centred(q, c, k=5):
    """Session 9: per query, each chunk language's dense scores minus that language's k-th
    best article score (the query's background in that language), for ranking only."""
    import copy

    if c.model_id != "multilingual-e5-small-q4" or getattr(c, "spoken", q.locale) not in (
        "nl",
        "fr",
    ):
        return production(q, c)
    by_loc = {}
    for pid, s in c.dense_by_page.items():
        by_loc.setdefault(c.visible[pid][1], []).append(s)
    ref = {loc: sorted(v, reverse=True)[min(k, len(v)) - 1] for loc, v in by_loc.items()}
    top = max(ref.values())
    c2 = copy.copy(c)
    c2.dense_by_page = {p: s - ref[c.visible[p][1]] + top for p, s in c.dense_by_page.items()}
    c2.top_chunks_by_page = {
        p: tuple(x - ref[c.visible[p][1]] + top for x in t) for p, t in c.top_chunks_by_page.items()
    }
    ranked, _conf = production(q, c2)
    return ranked, service.confidence_of(c2, ranked)


VARIANTS = {
    "production": production,
    **{
        f"no-version lift {d}": partial(lifted, delta=d)
        for d in (0, 0.005, 0.01, 0.015, 0.02, 0.025)
    },
    **{
        f"no-version lift {d} rank only": partial(lifted, delta=d, confidence=False)
        for d in (0.01, 0.02)
    },
    **{f"language-centred k={k}": partial(language_centred, k=k) for k in (1, 3, 5, 10)},
    "gap-corrected x1": gap_corrected,
    "gap-corrected x0.5": lambda q, c: gap_corrected(q, c, 0.5),
    "lexical only": lambda q, c: production(
        q, c, dense_weight=0.0, lexical_weight=1.0, no_version_credit=0.0
    ),
    "dense only": lambda q, c: production(q, c, dense_weight=1.0, lexical_weight=0.0),
    "conf minus background 2-10": lambda q, c: background_confidence(q, c, 2, 10),
    "conf minus background 10-30": lambda q, c: background_confidence(q, c, 10, 30),
    "rank by own version (before)": lambda q, c: shown_confidence(q, c, "own"),
    "rank by best version": best_version,
    "best version + conf versions": lambda q, c: best_version(q, c, "versions"),
    "best version + conf shown (not kept)": lambda q, c: shown_confidence(q, c),
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("gold", nargs="+")
    parser.add_argument("--fresh", action="store_true", help="gather the candidates again")
    parser.add_argument(
        "--query-passage-share",
        type=float,
        default=0.0,
        help="experiment: mix e5's passage role into the query vector with this share",
    )
    parser.add_argument(
        "--lean",
        action="store_true",
        help="gather each query once (no stop-word, compound or English-console rows)",
    )
    parser.add_argument("--variants", nargs="*", default=None)
    parser.add_argument("--diff", nargs=2, default=None, metavar=("A[@rows]", "B[@rows]"))
    parser.add_argument(
        "--dump", nargs="*", default=(), help="print each tune-half confidence for these languages"
    )
    args = parser.parse_args()
    rows = collect(args.gold, args.fresh, lean=args.lean, query_share=args.query_passage_share)
    ext = dict(SolutionArticlePage.objects.values_list("pk", "external_id"))
    for key, loc in SolutionArticlePage.objects.live().values_list("translation_key", "locale_id"):
        LOCALES_OF_KEY.setdefault(key, set()).add(loc)
    groups = {}
    for row in rows:
        groups.setdefault((row[0], row[1].locale, row[2]), []).append(row)
        if "+" in row[0] and "@" not in row[0]:
            # Old and added rows together.
            groups.setdefault((row[0].split("+")[0] + "+all", row[1].locale, row[2]), []).append(
                row
            )
    for (name, locale, half), group in list(groups.items()):
        if name.endswith("+all"):
            base = name.removesuffix("+all")
            groups[(name, locale, half)] = groups.get((base, locale, half), []) + [
                r for r in group if r[0] != base
            ]
    for lang in ("nl", "fr"):
        GAP[lang], pairs = language_gap(rows, lang)
        print(
            f"same-language bias of e5 for {lang} questions (tune halves): {GAP[lang]:.4f} over {pairs} version pairs"
        )
    names = args.variants or list(VARIANTS)
    if args.diff:
        # Queries whose first article changes between two variants (or two gatherings:
        # "variant@suffix" replays the rows gathered with that suffix).
        pages = dict(SolutionArticlePage.objects.values_list("pk", "title"))
        (a, sa), (b, sb) = [
            (v.split("@")[0], "@" + v.split("@")[1] if "@" in v else "") for v in args.diff
        ]
        base = {}
        for name, q, half, c in rows:
            base.setdefault((name.split("@")[0], q.query), {})[
                "@" + name.split("@")[1] if "@" in name else ""
            ] = (q, half, c)
        for (_name, text), byvar in base.items():
            if sa not in byvar or sb not in byvar:
                continue
            q, half, ca = byvar[sa]
            ra, _ = VARIANTS[a](q, ca)
            rb, _ = VARIANTS[b](q, byvar[sb][2])
            print_first_hit_change(f"{half} {q.locale}", text, q, ra, rb, ext, pages, 28)
        return
    if args.dump:
        # The confidences behind the AUROC, tune halves only (where a change may be chosen).
        pages = dict(SolutionArticlePage.objects.values_list("pk", "title"))
        for key in sorted(k for k in groups if k[2] == "tune" and k[1] in args.dump):
            print(f"\nconfidences, {key[0]}[{key[1]}] tune half ({names[0]}), lowest first:")
            out = []
            for _n, q, _h, c in groups[key]:
                ranked, conf = VARIANTS[names[0]](q, c)
                top = pages.get(ranked[0][0], "") if ranked else ""
                hit = bool(ranked) and ext.get(ranked[0][0]) in q.relevant
                tag = "UNANSWERABLE" if not q.relevant else ("hit " if hit else "MISS")
                out.append((conf, tag, q.query, top))
            for conf, tag, text, top in sorted(out):
                print(f"  {conf:.4f} {tag:<12} {text[:60]:<60} -> {top[:40]}")
    lifts = [n for n in names if n.startswith("no-version lift") and "rank only" not in n]
    if lifts:
        # Session 9's choice of KB_CROSS_LANGUAGE_LIFT: MRR@10 pooled over the Dutch and
        # French demo questions of the tune half (old and added rows).
        pooled = [
            r
            for k, g in groups.items()
            if k[0].endswith("+all") and k[2] == "tune" and k[1] in ("nl", "fr")
            for r in g
        ]
        if pooled:
            print("\nKB_CROSS_LANGUAGE_LIFT, demo nl+fr TUNE half pooled: Hit@1 / MRR@10")
            for name in lifts:
                h, m, _a, n, _nn, _f = measure(pooled, ext, VARIANTS[name])
                print(f"    {name:<28} {h:5.1f} / {m:5.1f}   (n={n})")
    for half in ("tune", "test"):
        print(f"\n{half.upper()} halves: Hit@1 / MRR@10 / AUROC per variant")
        for key in sorted(k for k in groups if k[2] == half):
            print(f"  {key[0]}[{key[1]}]")
            for name in names:
                h, m, a, n, nn, flags = measure(groups[key], ext, VARIANTS[name])
                auc = f" / {a:.3f}" if a is not None else ""
                flagged = f"; flagged at the bar: {flags[1]} of {n} answerable" + (
                    f", {flags[0]} of {nn} unanswerable" if nn else ""
                )
                print(f"    {name:<28} {h:5.1f} / {m:5.1f}{auc}   (n={n}+{nn}{flagged})")


if __name__ == "__main__":
    main()
