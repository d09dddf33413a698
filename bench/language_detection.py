"""Which language a question is written in (textutils/language.py): how often the detector
is sure, and how often it is wrong when sure, for every prefix of every question (what the
console sees while the operator types) and for whole questions.

    python bench/language_detection.py

Tuning: the probability bar is chosen on the demo gold's tune half (the lowest bar with no
wrong detection among the prefixes, rounded up to the next 0.1 for shorter real questions);
the test half and the other sets are reported, not used for the choice.

German (session 12): a bar of its own for a detected "de", chosen by the same rule on the
tune half of crosslingual_de.gold.jsonl's prefixes (that file has no split: a question's half
is the parity of its text's SHA-256), with the nl/fr/en prefixes of the demo gold's tune half
as the ones that must not be taken for German; the test halves and the whole English sets
are reported. A lower German bar changes nothing for a text detected as nl/fr/en.
"""

import hashlib
import json
import sys

from _django import ROOT, setup, shared_eval_dir

EVAL = shared_eval_dir()
BARS = (0.5, 0.7, 0.8, 0.9, 0.95, 0.99)
GERMAN_BARS = (0.9, 0.8, 0.7, 0.6, 0.5)


def rows(path, language=None):
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            yield row["query"], language or row.get("locale"), row.get("split")


def prefixes(questions):
    for text, language, _split in questions:
        words = text.split()
        for n in range(1, len(words) + 1):
            yield " ".join(words[:n]), language


def table(name, samples, detect):
    samples = list(samples)
    detected = [(language, detect(text)) for text, language in samples]
    print(f"\n{name}: {len(samples)} texts")
    print("  bar    sure (share)      wrong when sure")
    for bar in BARS:
        sure = [(lang, d) for lang, d in detected if d[1] >= bar]
        wrong = sum(1 for lang, d in sure if d[0] != lang)
        print(f"  {bar:<5}  {len(sure):>5} ({100 * len(sure) / len(samples):5.1f} %)  {wrong:>5}")


def german_half(text):
    return "tune" if int(hashlib.sha256(text.encode("utf-8")).hexdigest(), 16) % 2 == 0 else "test"


def german(demo, detect, min_probability):
    path = EVAL / "crosslingual_de.gold.jsonl"
    if not path.exists():
        print(f"\n(no {path}: German not measured)")
        return
    questions = list(rows(path, "de"))
    english = [
        (t, lang)
        for file in ("crosslingual_en.gold.jsonl", "banking77.gold.jsonl")
        if (EVAL / file).exists()
        for t, lang, _ in rows(EVAL / file, "en")
    ]
    print(f"\nGerman: a detected 'de' taken at a bar of its own (in use: {min_probability('de')})")
    print("  split  bar   German prefixes taken for German   nl/fr/en prefixes taken for German")
    for split in ("tune", "test"):
        de = [
            (t, detect(t)) for t, _l in prefixes(q for q in questions if german_half(q[0]) == split)
        ]
        other = [(t, lang, detect(t)) for t, lang in prefixes(r for r in demo if r[2] == split)]
        for bar in GERMAN_BARS:
            taken = sum(1 for _t, (d, p) in de if d == "de" and p >= bar)
            wrong = [t for t, _lang, (d, p) in other if d == "de" and p >= bar]
            print(
                f"  {split:<5}  {bar:<4}  {taken:>5} / {len(de)} ({100 * taken / len(de):5.1f} %)"
                f"          {len(wrong):>3} / {len(other)}  {wrong[:3]}"
            )
    detected = [detect(t) for t, _lang in english]
    for bar in GERMAN_BARS:
        wrong = sum(1 for d, p in detected if d == "de" and p >= bar)
        print(
            f"  whole English questions (crosslingual_en, banking77) taken for German at {bar}: "
            f"{wrong} / {len(english)}"
        )


def main():
    setup()
    from django.conf import settings

    from textutils.language import detect, min_probability

    print(
        f"languages: {', '.join(settings.KB_QUESTION_LANGUAGES)}; "
        f"bar in use: {settings.KB_LANGUAGE_DETECTION_MIN_PROBABILITY}"
    )
    demo = list(rows(ROOT / "search" / "eval" / "demo_gold.jsonl"))
    table(
        "demo gold TUNE half, every prefix (the bar is chosen here)",
        prefixes(r for r in demo if r[2] == "tune"),
        detect,
    )
    table("demo gold TEST half, every prefix", prefixes(r for r in demo if r[2] == "test"), detect)
    table(
        "demo gold TEST half, whole questions",
        ((t, lang) for t, lang, s in demo if s == "test"),
        detect,
    )
    sets = [
        ("crosslingual_de.gold.jsonl", "de"),
        ("crosslingual_en.gold.jsonl", "en"),
        ("banking77.gold.jsonl", "en"),
    ]
    for file, language in sets:
        path = EVAL / file
        if path.exists():
            table(
                f"{file}, whole questions ({language})",
                ((t, lang) for t, lang, _ in rows(path, language)),
                detect,
            )
    german(demo, detect, min_probability)
    return 0


if __name__ == "__main__":
    sys.exit(main())
