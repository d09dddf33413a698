"""Session 10 (issue 13): label-free cross-lingual bridges for questions in Dutch, French (and
German) about articles that have no version in the question's language.

Two signals, each added to the dense score of such an article only (as session 9's
KB_CROSS_LANGUAGE_LIFT is), with its own weight:

* **lexical bridge**: the question's words translated into English words of the knowledge
  base, by a lexicon induced from the knowledge base itself, then one full-text query with
  those English words (production's FTS5 query, English stems); its score (divided by the
  best English page's) times `w`. Lexicons:
  - `e5`: each question word's nearest English words of the KB vocabulary in e5's space
    (word against word, "query: " role), kept at cosine >= tau, at most m per word;
  - `dice`: word alignment by Dice co-occurrence over the KB's translated chunk pairs (the
    same chunk, kind and position, of an article's nl/fr and en versions);
  the question's words that are English KB words themselves ("laptop", "vpn") always count.
* **MiniLM share**: the question encoded by the English model as well, its best cosine
  against the article's English chunks, times `w` (raw, or minus the mean over the
  question's candidates: `centred`).

Candidates are gathered once through the production path (search.service.gather) and
cached in var/xling_bridge.pkl (`--fresh` to redo); variants are replayed:

    nice -n 10 python bench/xling_bridge.py search/eval/demo_gold.jsonl \\
        ../shared/eval/crosslingual_de.gold.jsonl
    # the requirement questions of tests/test_multilingual.py, on the demo database alone:
    DATABASE_URL=sqlite:///var/demo.sqlite3 KB_VECTOR_INDEX_DIR=var/demo_index \\
        python bench/xling_bridge.py --requirements

Halves as in bench/tune_search.py. Only the tune-half lines choose; `--test` prints the
test half of the named variants (once, for the report). Session 10's production candidate,
KB_CROSS_LANGUAGE_SHARED_WORDS (shared_word_shift below), was in search/ at commit 3d19728
and taken out again: docs/search-quality.md, "Session 10".

    # the session 10 tune table (docs/search-quality.md) and its requirement check:
    python bench/xling_bridge.py search/eval/demo_gold.jsonl \
        ../shared/eval/crosslingual_de.gold.jsonl --taus 0.9 0.97 --ms 1 3 --deltas 0.3 \
        --bridge-weights 0.005 0.01 0.015 0.02 --minilm-weights 0.01 0.02 0.03 \
        --shared-weights 0.01 0.0125 0.015 0.0175 0.02 0.025 --combo-lexicons "e5 tau=0.9 m=1"
    # the test half, once: ... --only production --test production \
    #     "KB_CROSS_LANGUAGE_SHARED_WORDS w=0.015"
"""

import argparse
import copy
import pickle
import re
import sys
from collections import Counter
from functools import partial
from pathlib import Path

from _django import ROOT, gathered_gold, print_first_hit_change, setup

setup()

import numpy as np  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.test import override_settings  # noqa: E402

from articles.models import SolutionArticlePage  # noqa: E402
from embeddings.encoder import get_encoder  # noqa: E402
from embeddings.models import Chunk  # noqa: E402
from search import lexical, service  # noqa: E402
from search.evaluation import auroc  # noqa: E402
from search.stopwords import _is_stop, fold, stem_prefixes  # noqa: E402

E5 = "multilingual-e5-small-q4"
MINI = "all-MiniLM-L6-v2"
WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)


def db_tag():
    from django.db import connection

    return Path(str(connection.settings_dict["NAME"])).stem


def cache_path(kind):
    return ROOT / "var" / f"xling_bridge.{db_tag()}.{kind}.pkl"


def shared_word_shift(terms, articles_qs, page_ids, weight, language="en", stems=False, k=50):
    """Session 10's KB_CROSS_LANGUAGE_SHARED_WORDS, as it was in search/bridge.py (commit
    3d19728; not kept: it lost two Dutch questions on the test half). {page id: dense-score
    shift} for `page_ids` (the question's candidate articles without a version in its
    language) from the question's content words `terms` matched as words of `language` among
    the pages of `articles_qs` in that language: each article's share of the best such
    page's score, minus the mean share over `page_ids`, times `weight`. `stems`: also match
    `language`'s stems as prefixes."""
    page_ids = list(page_ids)
    if not weight or not terms or not page_ids:
        return {}
    scope = articles_qs.filter(locale__language_code=language)
    prefixes = stem_prefixes(terms, language) if stems else ()
    found = lexical.ranked_pages(terms, scope, k, prefixes)
    if not found:
        return {}
    top = max(found.values())
    if top <= 0:
        return {}
    share = {pid: found.get(pid, 0.0) / top for pid in page_ids}
    mean = sum(share.values()) / len(share)
    return {pid: weight * (value - mean) for pid, value in share.items()}


# --- candidates -----------------------------------------------------------------------------


def gather_one(text, locale, user):
    with override_settings(KB_CROSS_LANGUAGE_LIFT={E5: 1.0, "default": 0.0}):
        c = service.gather(text, user=user, channel="operator", locale=locale)
    if locale in ("nl", "fr"):
        nv = frozenset(c.lift_by_page)
    else:  # no content in the language: every article is another language's
        nv = frozenset(p for p in c.visible if p in c.dense_by_page)
    c.no_version = nv
    lift = service.cross_language_lift(E5) if locale in ("nl", "fr") else 0.0
    c.lift_by_page = dict.fromkeys(nv, lift) if lift else {}
    # MiniLM over the English chunks.
    scores = service.dense_candidates(text, ["en"], 100, MINI)
    mini = {}
    for chunk_id, page_id, _t, kind, _s, _v in service.chunk_rows(list(scores)):
        if kind == "learned":
            continue
        mini[page_id] = max(mini.get(page_id, -1.0), scores[chunk_id])
    c.minilm = mini
    c.minilm_floor = min(scores.values()) if scores else 0.0
    c.terms = service.lexical_terms(text, locale)
    c.staff = user is not None
    return c


def collect(paths, fresh):
    return gathered_gold(cache_path("rows"), paths, fresh, gold_rows)


def gold_rows(path, q, half, user):
    if q.locale == "en":
        return []  # English questions go to MiniLM: no bridge acts on them
    text = service.clean_query(q.query)
    base = Path(path).name.removesuffix(".jsonl")
    return [(base, q, half, gather_one(text, q.locale, user))]


# --- lexicons ---------------------------------------------------------------------------------


def body(text):
    """A chunk's text without the article title in front ("Title: text")."""
    return text.split(": ", 1)[1] if ": " in text else text


def words(text, locale):
    return [fold(w) for w in WORD.findall(text) if not _is_stop(w, locale)]


def english_vocabulary():
    texts = Chunk.objects.filter(model_id=E5, locale__language_code="en").values_list(
        "text", flat=True
    )
    counts = Counter(w for t in texts for w in set(words(t, "en")))
    return sorted(counts)


_VECTORS = {}


def word_vectors(vocab):
    """e5 "query: " vectors of single words (cached on disk per database)."""
    cache = cache_path("words")
    if not _VECTORS and cache.exists():
        _VECTORS.update(pickle.loads(cache.read_bytes()))
    missing = [w for w in vocab if w not in _VECTORS]
    if missing:
        print(f"encoding {len(missing)} words with e5 ...", file=sys.stderr)
        encoder = get_encoder(E5)
        for start in range(0, len(missing), 256):
            batch = missing[start : start + 256]
            for w, v in zip(batch, encoder.encode_queries(batch), strict=True):
                _VECTORS[w] = np.asarray(v, dtype="float32")
        cache.write_bytes(pickle.dumps(_VECTORS))
    return np.stack([_VECTORS[w] for w in vocab]) if vocab else np.zeros((0, 384), "float32")


class E5Lexicon:
    """Source word -> English KB words at e5 cosine >= tau, at most m."""

    def __init__(self, english, tau, m):
        self.english, self.tau, self.m = english, tau, m
        self.matrix = word_vectors(english)
        self.known = set(english)

    def translate(self, word):
        if not word:
            return []
        v = word_vectors([word])[0]
        sims = self.matrix @ v
        order = np.argsort(-sims)[: self.m]
        return [self.english[i] for i in order if sims[i] >= self.tau and self.english[i] != word]


def parallel_pairs(lang):
    """(source words, English words) of the translated chunk pairs: same article, same kind
    and position among that kind, versions in `lang` and in English."""
    chunks = Chunk.objects.filter(model_id=E5).values_list(
        "page__translation_key", "locale__language_code", "kind", "position", "text"
    )
    by = {}
    for key, loc, kind, position, text in chunks:
        by.setdefault((key, loc, kind), []).append((position, text))
    pairs = []
    for (key, loc, kind), items in by.items():
        if loc != lang or (key, "en", kind) not in by:
            continue
        src = [t for _p, t in sorted(items)]
        dst = [t for _p, t in sorted(by[(key, "en", kind)])]
        if len(src) != len(dst):
            continue
        pairs += [
            (set(words(body(a), lang)), set(words(body(b), "en")))
            for a, b in zip(src, dst, strict=True)
        ]
    return pairs


class DiceLexicon:
    """Source word -> its best English word by Dice over the translated chunk pairs
    (co-occurring in at least `min_count` pairs, Dice >= delta)."""

    def __init__(self, lang, delta, min_count=2):
        pairs = parallel_pairs(lang)
        src, dst, both = Counter(), Counter(), Counter()
        for a, b in pairs:
            src.update(a)
            dst.update(b)
            both.update((x, y) for x in a for y in b)
        best = {}
        for (x, y), n in both.items():
            if n < min_count:
                continue
            d = 2 * n / (src[x] + dst[y])
            held = best.get(x, ("", 0.0))
            # Ties go to the alphabetically first English word (set order is per process).
            if d >= delta and (d > held[1] or (d == held[1] and y < held[0])):
                best[x] = (y, d)
        self.table = {x: [y] for x, (y, _d) in best.items()}
        self.pairs = len(pairs)

    def translate(self, word):
        return self.table.get(word, [])


# --- bridge scores ---------------------------------------------------------------------------

_SCOPE = {}
_EN_PAGES = {}


def english_pages():
    if not _EN_PAGES:
        _EN_PAGES["ids"] = set(
            SolutionArticlePage.objects.filter(locale__language_code="en").values_list(
                "pk", flat=True
            )
        )
    return _EN_PAGES["ids"]


def bridge_scores(c, lexicons, english_words):
    """{page id: full-text score of the translated question / the best English page's} for
    the question's articles without a version in its language."""
    staff = getattr(c, "staff", True)
    if staff not in _SCOPE:
        user = get_user_model().objects.filter(is_superuser=True).first() if staff else None
        _SCOPE[staff] = service._articles_for(user, "operator", None)[1]
    terms = []
    for term in c.terms:
        w = fold(term)
        if w in english_words:
            terms.append(w)
        for lex in lexicons:
            terms += lex.translate(w)
    terms = [t for t in dict.fromkeys(terms) if not _is_stop(t, "en")]
    if not terms:
        return {}, terms
    found = lexical.ranked_pages(terms, _SCOPE[staff], 50, stem_prefixes(terms, "en")) or {}
    en = english_pages()
    found = {p: s for p, s in found.items() if p in en}
    if not found:
        return {}, terms
    top = max(found.values())
    return {p: s / top for p, s in found.items() if p in c.no_version}, terms


_STEMS = {}


def english_page_stems():
    """{English page id: the English Snowball stems of its chunks' words}."""
    if not _STEMS:
        from search.stopwords import _stemmer

        stem = _stemmer("en").stemWord
        chunks = Chunk.objects.filter(model_id=E5, locale__language_code="en").values_list(
            "page_id", "text"
        )
        for page_id, text in chunks:
            _STEMS.setdefault(page_id, set()).update(stem(w) for w in words(text, "en"))
    return _STEMS


def bridge_coverage(c, lexicons, english_words):
    """{page id: share of the question's content words that the English article contains,
    as written or translated (English stems compared)} for the question's articles without
    a version in its language. Words with no translation count as not contained."""
    from search.stopwords import _stemmer

    stem = _stemmer("en").stemWord
    options = []
    for term in c.terms:
        w = fold(term)
        forms = ([w] if w in english_words else []) + [
            t for lex in lexicons for t in lex.translate(w)
        ]
        options.append({stem(t) for t in forms if not _is_stop(t, "en")})
    if not options:
        return {}
    stems = english_page_stems()
    out = {}
    for pid in c.no_version:
        have = stems.get(pid)
        if not have:
            continue
        covered = sum(1 for o in options if o & have)
        if covered:
            out[pid] = covered / len(options)
    return out


# --- variants --------------------------------------------------------------------------------


def with_extra(c, extra):
    c2 = copy.copy(c)
    lift = dict(c.lift_by_page)
    for pid, value in extra.items():
        if pid in c.dense_by_page and value:
            lift[pid] = lift.get(pid, 0.0) + value
    c2.lift_by_page = lift
    return c2


def replay(q, c, extra=None, confidence=True):
    params = service.RankingParams.for_mode("hybrid", q.locale)
    c2 = with_extra(c, extra) if extra else c
    ranked = service.rank(c2, params)
    conf = service.confidence_of(c2 if confidence else c, ranked)
    return ranked, conf


def in_lexical_channel(q, c, bridge, credit, weight, lift):
    """The bridge as the full-text score of the articles without a version in the question's
    language (instead of session 6's blanket credit): their full-text share is
    max(credit, bridge) of the best full-text score; `weight`: the dense weight; `lift`:
    KB_CROSS_LANGUAGE_LIFT."""
    c2 = copy.copy(c)
    lexical_by_page = dict(c.lexical_by_page)
    top = max(lexical_by_page.values()) if lexical_by_page else 1.0
    for p, v in bridge.items():
        if p in c.visible:
            lexical_by_page[p] = max(lexical_by_page.get(p, 0.0), v * top)
    c2.lexical_by_page = lexical_by_page
    c2.lift_by_page = dict.fromkeys(c.lift_by_page, lift) if lift else {}
    params = service.RankingParams.for_mode("hybrid", q.locale)
    if q.locale in ("nl", "fr"):
        params.dense_weight, params.lexical_weight = weight, 1.0 - weight
        params.no_version_credit = credit
    ranked = service.rank(c2, params)
    return ranked, service.confidence_of(c2, ranked)


def centred(c, bridge, w):
    """w * (bridge - its mean over the question's candidates without a version in its
    language): reorders those articles among themselves, no lift as a class."""
    pages = [p for p in c.no_version if p in c.dense_by_page]
    if not pages:
        return {}
    mean = float(np.mean([bridge.get(p, 0.0) for p in pages]))
    return {p: w * (bridge.get(p, 0.0) - mean) for p in pages}


def shared_words(c):
    """{page id: its full-text score for the question's own words / the best such score}
    over the question's articles without a version in its language: the words a Dutch or
    French question shares with English text ("laptop", "vpn", "outlook"), from the
    full-text query production already runs (session 6's credit hides it)."""
    pages = [p for p in c.no_version if p in c.dense_by_page]
    found = {p: c.lexical_by_page[p] for p in pages if p in c.lexical_by_page}
    if not found:
        return {}
    top = max(found.values())
    return {p: v / top for p, v in found.items()} if top > 0 else {}


def with_shared_words(q, c, w, stems=False):
    """Session 10's KB_CROSS_LANGUAGE_SHARED_WORDS at weight `w` (shared_word_shift)."""
    if q.locale not in ("nl", "fr"):
        return replay(q, c)
    staff = getattr(c, "staff", True)
    if staff not in _SCOPE:
        user = get_user_model().objects.filter(is_superuser=True).first() if staff else None
        _SCOPE[staff] = service._articles_for(user, "operator", None)[1]
    pages = [p for p in c.no_version if p in c.dense_by_page]
    c2 = copy.copy(c)
    shift = shared_word_shift(c.terms, _SCOPE[staff], pages, w, "en", stems)
    # The same articles as the lift's: production added the two in Candidates.dense().
    c2.lift_by_page = dict(c.lift_by_page)
    for pid, value in shift.items():
        c2.lift_by_page[pid] = c2.lift_by_page.get(pid, 0.0) + value
    params = service.RankingParams.for_mode("hybrid", q.locale)
    ranked = service.rank(c2, params)
    return ranked, service.confidence_of(c2, ranked)


def minilm_extra(c, w, centred=False):
    pages = [p for p in c.no_version if p in c.dense_by_page]
    vals = {p: c.minilm.get(p, c.minilm_floor) for p in pages}
    if not vals:
        return {}
    mean = float(np.mean(list(vals.values()))) if centred else 0.0
    return {p: w * (v - mean) for p, v in vals.items()}


def measure(rows, ext, fn):
    hit1 = mrr = n = 0
    pos, neg = [], []
    for _name, q, _half, c in rows:
        ranked, conf = fn(q, c)
        if not q.relevant:
            neg.append(conf)
            continue
        pos.append(conf)
        n += 1
        ids = [ext.get(pid) for pid, _s, _f in ranked[:10]]
        r = next((i for i, e in enumerate(ids, 1) if e in q.relevant), None)
        if r:
            mrr += 1 / r
            hit1 += r == 1
    n = max(n, 1)
    return 100 * hit1 / n, 100 * mrr / n, auroc(pos, neg), n


def build_variants(rows, english, args):
    """name -> fn(q, c) -> (ranked, confidence)."""
    variants = {"production": lambda q, c: replay(q, c)}
    eng = set(english)
    word_vectors(sorted({fold(t) for _n, _q, _h, c in rows for t in c.terms}))
    lexicons = {}
    for tau in args.taus:
        for m in args.ms:
            lexicons[f"e5 tau={tau} m={m}"] = lambda lang, tau=tau, m=m: [
                E5Lexicon(english, tau, m)
            ]
    for delta in args.deltas:
        lexicons[f"dice d={delta}"] = lambda lang, delta=delta: [DiceLexicon(lang, delta)]
    for tau in args.taus:
        for delta in args.deltas:
            lexicons[f"e5 tau={tau} m=1 + dice d={delta}"] = lambda lang, tau=tau, delta=delta: [
                E5Lexicon(english, tau, 1),
                DiceLexicon(lang, delta),
            ]
    lexicons["identical words only"] = lambda lang: []
    built = {}
    for lname, make in lexicons.items():
        per_lang = {}
        for _n, q, _h, c in rows:
            if q.locale not in per_lang:
                per_lang[q.locale] = make(q.locale)
            key = (lname, q.query, q.locale)
            built[key] = bridge_scores(c, per_lang[q.locale], eng)[0]
            built[("cov " + lname, q.query, q.locale)] = bridge_coverage(c, per_lang[q.locale], eng)
        for w in args.bridge_weights:
            variants[f"centred bm25 {lname} w={w}"] = lambda q, c, lname=lname, w=w: replay(
                q, c, centred(c, built[(lname, q.query, q.locale)], w)
            )
            variants[f"centred bm25 {lname} w={w} rank only"] = lambda q, c, lname=lname, w=w: (
                replay(q, c, centred(c, built[(lname, q.query, q.locale)], w), False)
            )
            variants[f"centred coverage {lname} w={w}"] = lambda q, c, lname=lname, w=w: replay(
                q, c, centred(c, built[("cov " + lname, q.query, q.locale)], w)
            )
            variants[f"coverage {lname} w={w}"] = lambda q, c, lname=lname, w=w: replay(
                q, c, {p: w * s for p, s in built[("cov " + lname, q.query, q.locale)].items()}
            )
            variants[f"bridge {lname} w={w}"] = lambda q, c, lname=lname, w=w: replay(
                q, c, {p: w * s for p, s in built[(lname, q.query, q.locale)].items()}
            )
            variants[f"bridge {lname} w={w} rank only"] = lambda q, c, lname=lname, w=w: replay(
                q, c, {p: w * s for p, s in built[(lname, q.query, q.locale)].items()}, False
            )
    for lname in args.channel_lexicons:
        for kind in ("cov ", ""):
            for credit in args.credits:
                for weight in args.weights:
                    for lift in args.lifts:
                        variants[
                            f"channel {kind or 'bm25 '}{lname} credit={credit} dw={weight} lift={lift}"
                        ] = lambda q, c, k=(kind + lname), cr=credit, dw=weight, li=lift: (
                            in_lexical_channel(q, c, built[(k, q.query, q.locale)], cr, dw, li)
                        )
    for lname in args.combo_lexicons:
        for w in args.bridge_weights:
            for wm in args.minilm_weights:

                def combo(q, c, lname=lname, w=w, wm=wm):
                    extra = minilm_extra(c, wm)
                    for p, s in built[(lname, q.query, q.locale)].items():
                        extra[p] = extra.get(p, 0.0) + w * s
                    return replay(q, c, extra)

                variants[f"bridge {lname} w={w} + minilm raw w={wm}"] = combo
    for w in args.shared_weights:
        variants[f"KB_CROSS_LANGUAGE_SHARED_WORDS w={w}"] = partial(with_shared_words, w=w)
        variants[f"KB_CROSS_LANGUAGE_SHARED_WORDS w={w} +en stems"] = partial(
            with_shared_words, w=w, stems=True
        )
        variants[f"shared words centred w={w}"] = lambda q, c, w=w: replay(
            q, c, centred(c, shared_words(c), w) if q.locale in ("nl", "fr") else {}
        )
        variants[f"shared words raw w={w}"] = lambda q, c, w=w: replay(
            q,
            c,
            {p: w * v for p, v in shared_words(c).items()} if q.locale in ("nl", "fr") else {},
        )
    for w in args.minilm_weights:
        variants[f"minilm raw w={w}"] = lambda q, c, w=w: replay(q, c, minilm_extra(c, w))
        variants[f"minilm raw w={w} rank only"] = lambda q, c, w=w: replay(
            q, c, minilm_extra(c, w), False
        )
        variants[f"minilm centred w={w}"] = lambda q, c, w=w: replay(
            q, c, minilm_extra(c, w, True), False
        )
    return variants, built


def show_translations(rows, english, args):
    eng = set(english)
    word_vectors(sorted({fold(t) for _n, _q, _h, c in rows for t in c.terms}))
    lexs = {}
    for _n, q, half, c in rows:
        if half != "tune" or q.locale not in ("nl", "fr"):
            continue
        if q.locale not in lexs:
            lexs[q.locale] = (
                E5Lexicon(english, args.taus[0], max(args.ms)),
                DiceLexicon(q.locale, args.deltas[0]),
            )
        e5, dice = lexs[q.locale]
        parts = []
        for t in c.terms:
            w = fold(t)
            parts.append(
                f"{w}{'*' if w in eng else ''}->{','.join(e5.translate(w))}|{','.join(dice.translate(w))}"
            )
        print(f"[{q.locale}] {q.query[:60]}: " + "; ".join(parts))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("gold", nargs="*")
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--taus", nargs="+", type=float, default=[0.88, 0.9, 0.92])
    parser.add_argument("--ms", nargs="+", type=int, default=[1, 3])
    parser.add_argument("--deltas", nargs="+", type=float, default=[0.3, 0.5])
    parser.add_argument(
        "--bridge-weights", nargs="+", type=float, default=[0.005, 0.01, 0.02, 0.03]
    )
    parser.add_argument("--minilm-weights", nargs="+", type=float, default=[0.01, 0.02, 0.03, 0.05])
    parser.add_argument("--combo-lexicons", nargs="*", default=[])
    parser.add_argument(
        "--shared-weights", nargs="*", type=float, default=[0.005, 0.01, 0.015, 0.02, 0.025, 0.03]
    )
    parser.add_argument("--channel-lexicons", nargs="*", default=[])
    parser.add_argument("--credits", nargs="+", type=float, default=[0.0, 0.25, 0.5, 0.75, 1.0])
    parser.add_argument("--weights", nargs="+", type=float, default=[0.97, 0.98, 0.985, 0.99])
    parser.add_argument("--lifts", nargs="+", type=float, default=[0.0, 0.005])
    parser.add_argument("--only", nargs="*", default=None, help="print only these variants")
    parser.add_argument("--diff", nargs=2, default=None, help="queries whose first changes")
    parser.add_argument("--diff-half", default="tune", help="test: only for the report")
    parser.add_argument("--show", action="store_true", help="print the tune half's translations")
    parser.add_argument("--test", nargs="*", default=None, help="print the test half of these")
    parser.add_argument("--requirements", action="store_true")
    args = parser.parse_args()
    if args.requirements:
        return requirements(args)
    rows = collect(args.gold, args.fresh)
    english = english_vocabulary()
    print(f"English KB vocabulary: {len(english)} words", file=sys.stderr)
    if args.show:
        show_translations(rows, english, args)
        return
    ext = dict(SolutionArticlePage.objects.values_list("pk", "external_id"))
    variants, _built = build_variants(rows, english, args)
    groups = {}
    for row in rows:
        lang = row[1].locale
        group = "nl+fr" if lang in ("nl", "fr") else lang
        groups.setdefault((group, row[2]), []).append(row)
        if group == "nl+fr":
            groups.setdefault((lang, row[2]), []).append(row)
    if args.diff:
        pages = dict(SolutionArticlePage.objects.values_list("pk", "title"))
        a, b = (variants[v] for v in args.diff)
        for _n, q, half, c in rows:
            if half != args.diff_half:
                continue
            ra, _ = a(q, c)
            rb, _ = b(q, c)
            print_first_hit_change(q.locale, q.query, q, ra, rb, ext, pages, 26)
        return
    halves = ["tune"] + (["test"] if args.test is not None else [])
    for half in halves:
        names = (args.only or list(variants)) if half == "tune" else (args.test or ["production"])
        label = "in-sample, choose here" if half == "tune" else "out-of-sample, report only"
        print(f"\n{half.upper()} half ({label}): Hit@1 / MRR@10 / AUROC")
        cols = [g for g in ("nl+fr", "nl", "fr", "de") if (g, half) in groups]
        print(f"{'variant':<48} " + " ".join(f"{g:>24}" for g in cols))
        for name in names:
            cells = []
            for g in cols:
                h, m, a, n = measure(groups[(g, half)], ext, variants[name])
                auc = f"{a:.3f}" if a is not None else "  -  "
                cells.append(f"{h:5.1f}/{m:5.1f}/{auc} n={n:<3}")
            print(f"{name:<48} " + " ".join(f"{c:>24}" for c in cells))


def requirements(args):
    sys.path.insert(0, str(Path(__file__).parent))
    from xling_requirements import REQUIREMENTS

    from search.evaluation import GoldQuery

    user = None  # as bench/xling_requirements.py: service.search without a user
    rows = []
    for query, locale, external_id in REQUIREMENTS:
        text = service.clean_query(query)
        rows.append(
            ("req", GoldQuery(query, [external_id], locale), "tune", gather_one(text, locale, user))
        )
    english = english_vocabulary()
    ext = dict(SolutionArticlePage.objects.values_list("pk", "external_id"))
    variants, _ = build_variants(rows, english, args)
    for name, fn in variants.items():
        broken = []
        for _n, q, _h, c in rows:
            ranked, _conf = fn(q, c)
            first = ext.get(ranked[0][0]) if ranked else None
            if first not in q.relevant:
                broken.append(f"{q.query!r} -> {first}")
        print(f"{name:<48} {len(broken)} broken" + "".join(f"\n    {b}" for b in broken))


if __name__ == "__main__":
    main()
