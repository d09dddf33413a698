"""Redaction on the labelled corpus (tests/data/redaction_corpus.jsonl), per kind, against
the regex-only redaction it replaced (measured in the same run).

A personal item counts as removed when no part of it (3+ characters) that is not elsewhere
in the sentence survives; a technical token counts as kept when it is in the output verbatim.
In-sample: the corpus was written while the detector was built.
Run: .venv/bin/python bench/redaction_corpus.py
"""

import json
import re
import time
from collections import defaultdict

from _django import ROOT, setup

setup()

from textutils.redaction import normalise, redact  # noqa: E402

CORPUS = ROOT / "tests" / "data" / "redaction_corpus.jsonl"
PLACEHOLDER = re.compile(r"\[[A-Z_]+\]")

# The redaction before issue 16 (search/redaction.py at 61601c0), for comparison.
_LEGACY = [
    ("[EMAIL]", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)),
    ("[CUSTOMER_NUMBER]", re.compile(r"\bCUST-?\d{6,10}\b", re.IGNORECASE)),
    (
        "[IBAN]",
        re.compile(r"\b[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]{4}){2,7}(?:[ -]?[A-Z0-9]{1,4})?\b", re.I),
    ),
    ("[NATIONAL_NUMBER]", re.compile(r"\b\d{2}[.\s]?\d{2}[.\s]?\d{2}[-\s]?\d{3}[.\s]?\d{2}\b")),
    ("[CARD]", re.compile(r"\b(?:\d[ -]?){13,19}\b")),
    (
        "[PHONE]",
        re.compile(
            r"(?<![\w+])(?:(?:\+|00)\d{1,3}[\s./-]?)?(?:\(0\)[\s./-]?)?(?:\d[\s./-]?){8,11}\d\b"
        ),
    ),
]


def legacy_redact(text):
    for placeholder, pattern in _LEGACY:
        text = pattern.sub(placeholder, text)
    return text


def leaked(text, secret, output):
    text, secret = normalise(text).casefold(), normalise(secret).casefold()
    rest = text.replace(secret, " ")
    visible = PLACEHOLDER.sub(" ", normalise(output)).casefold()
    return any(p not in rest and p in visible for p in re.findall(r"\w{3,}", secret))


def measure(redactor, rows):
    per_kind = defaultdict(lambda: [0, 0, 0, 0])  # removed, personal, kept, technical
    started = time.perf_counter()
    for row in rows:
        output = redactor(row["text"])
        counts = per_kind[row["kind"]]
        for secret in row["personal"]:
            counts[1] += 1
            counts[0] += not leaked(row["text"], secret, output)
        for token in row["technical"]:
            counts[3] += 1
            counts[2] += normalise(token) in output
    elapsed_ms = (time.perf_counter() - started) * 1000 / len(rows)
    return per_kind, elapsed_ms


def main():
    rows = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    new, new_ms = measure(redact, rows)
    old, old_ms = measure(legacy_redact, rows)
    print(f"{len(rows)} strings ({', '.join(sorted({r['lang'] for r in rows}))}), in-sample\n")
    print("| kind | personal removed: new | old | technical kept: new | old |")
    print("|---|---|---|---|---|")
    totals = {"new": [0, 0, 0, 0], "old": [0, 0, 0, 0]}
    for kind in sorted(new):
        cells = []
        for name, table in (("new", new), ("old", old)):
            for i, value in enumerate(table[kind]):
                totals[name][i] += value
        n, o = new[kind], old[kind]
        cells = [
            f"{n[0]}/{n[1]}" if n[1] else "–",
            f"{o[0]}/{o[1]}" if o[1] else "–",
            f"{n[2]}/{n[3]}" if n[3] else "–",
            f"{o[2]}/{o[3]}" if o[3] else "–",
        ]
        print(f"| {kind} | " + " | ".join(cells) + " |")
    n, o = totals["new"], totals["old"]
    print(
        f"| **all** | **{n[0]}/{n[1]}** | {o[0]}/{o[1]} | "
        f"**{n[2]}/{n[3]} ({100 * n[2] / n[3]:.1f} %)** | {o[2]}/{o[3]} ({100 * o[2] / o[3]:.1f} %) |"
    )
    print(f"\nmean time per string: new {new_ms:.2f} ms, old {old_ms:.3f} ms")


if __name__ == "__main__":
    main()
