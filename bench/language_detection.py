"""Which language a question is written in (textutils/language.py): how often the detector
is sure, and how often it is wrong when sure, for every prefix of every question (what the
console sees while the operator types) and for whole questions.

    python bench/language_detection.py

Tuning: the probability bar is chosen on the demo gold's tune half (the lowest bar with no
wrong detection among the prefixes, rounded up to the next 0.1 for shorter real questions);
the test half and the other sets are reported, not used for the choice.
"""

import json
import sys

from _django import ROOT, setup, shared_eval_dir

EVAL = shared_eval_dir()
BARS = (0.5, 0.7, 0.8, 0.9, 0.95, 0.99)


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


def main():
    setup()
    from django.conf import settings

    from textutils.language import detect

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
    return 0


if __name__ == "__main__":
    sys.exit(main())
