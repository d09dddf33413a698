"""The load test's query pool: distinct operator questions in en, nl and fr, with what a
correct answer must contain.

Built, deterministically (seed), from the demo gold set (search/eval/demo_gold.jsonl: real
operator wordings, some with no article) and the demo articles' issue phrasings and titles
(articles/demo/articles.jsonl), each varied the way callers are quoted on a call (a lead-in,
an aside about since when or on which device, lower case without punctuation). Every query
is distinct, and the pool is several times larger than a worker's query-vector cache (512
entries, embeddings/vectors.py), so the load test measures encoding, not cache hits.

    python bench/query_pool.py        # prints the pool's size per language and source
"""

import json
import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "search" / "eval" / "demo_gold.jsonl"
ARTICLES = ROOT / "articles" / "demo" / "articles.jsonl"
QUERY_CACHE_ENTRIES = 512  # embeddings.vectors._QueryVectorCache(size=512), per process

LEAD_INS = {
    "en": ["", "customer says ", "caller: ", "hi, ", "she says "],
    "nl": ["", "klant zegt ", "beller: ", "hallo, ", "hij zegt "],
    "fr": ["", "le client dit ", "appelant : ", "bonjour, ", "elle dit "],
}
ASIDES = {
    "en": ["", " since this morning", " again today", " on my laptop", " at home"],
    "nl": ["", " sinds vanochtend", " alweer vandaag", " op mijn laptop", " thuis"],
    "fr": ["", " depuis ce matin", " encore aujourd'hui", " sur mon portable", " à la maison"],
}
_PUNCTUATION = re.compile(r"[^\w\s'-]+", re.UNICODE)


def _plain(text):
    return " ".join(_PUNCTUATION.sub(" ", text).lower().split())


def _variants(text, locale):
    for lead in LEAD_INS[locale]:
        for aside in ASIDES[locale]:
            yield f"{lead}{text}{aside}"
            yield _plain(f"{lead}{text}{aside}")


def build_pool(size=2000, seed=17):
    """[{"query", "locale", "expect"}]: `expect` is the external id of the article the
    results must contain (a query made from that article's own phrasing), "any" (a gold
    query with a relevant article: results must not be empty) or None (no article answers
    it: a well-formed answer is enough)."""
    candidates = {}
    for line in GOLD.read_text().splitlines():
        row = json.loads(line)
        expect = "any" if row["relevant"] else None
        for text in _variants(row["query"], row["locale"]):
            candidates.setdefault((text, row["locale"]), expect)
    for line in ARTICLES.read_text().splitlines():
        article = json.loads(line)
        locale = article["locale"]
        phrasings = [p for p in article["issue"].splitlines() if p.strip()] + [article["title"]]
        for phrasing in phrasings:
            for text in _variants(phrasing.strip(), locale):
                candidates.setdefault((text, locale), article["external_id"])
    keys = sorted(candidates)
    random.Random(seed).shuffle(keys)
    pool = [{"query": q, "locale": loc, "expect": candidates[(q, loc)]} for q, loc in keys[:size]]
    assert len({(p["query"], p["locale"]) for p in pool}) == len(pool)
    return pool


OLD_POOL = [  # the 12 operator queries of the earlier load test, always in English
    "printer offline",
    "vpn certificate expired",
    "wachtwoord vergeten",
    "carte sim bloquée puk",
    "outlook does not sync",
    "factuur te hoog",
    "roaming abroad data",
    "laptop will not boot",
    "wifi thuis zwak",
    "double facture",
    "mailbox full",
    "esim activeren",
]


def main():
    pool = build_pool()
    by_locale, by_kind = {}, {}
    for p in pool:
        by_locale[p["locale"]] = by_locale.get(p["locale"], 0) + 1
        kind = {None: "no article", "any": "gold"}.get(p["expect"], "article phrasing")
        by_kind[kind] = by_kind.get(kind, 0) + 1
    print(f"{len(pool)} distinct queries (query cache: {QUERY_CACHE_ENTRIES} per worker)")
    print("per language:", dict(sorted(by_locale.items())))
    print("per source:", dict(sorted(by_kind.items())))


if __name__ == "__main__":
    main()
