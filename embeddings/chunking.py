"""Chunk texts: what one embedded piece is, how long it may be, and the phrasing format.

What an article is made of is the articles app's business (articles/indexing.py turns a
page into ChunkSpecs); this module knows only texts. The "Title: phrasing" format is
defined here once and used by the chunker, the duplicate panel and the benchmarks.
"""

import hashlib
import re
from dataclasses import dataclass

STRATEGIES = ("summary", "phrasings", "summary+phrasings")
TITLE_SEPARATOR = ": "


@dataclass(frozen=True)
class ChunkSpec:
    position: int
    kind: str
    text: str
    step_number: int | None = None

    @property
    def text_hash(self):
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def phrasing_text(title, phrasing):
    """One phrasing (or step, cause...) as embedded: prefixed with its article's title."""
    title = (title or "").strip()
    return f"{title}{TITLE_SEPARATOR}{phrasing}" if title else phrasing


def without_title(text, title):
    """The chunk text with its "Title: " prefix removed (for snippets)."""
    prefix = f"{title}{TITLE_SEPARATOR}"
    return text[len(prefix) :] if text.startswith(prefix) else text


def split_to_limit(text, max_words):
    """Split long text on sentence boundaries into pieces of at most max_words words."""
    words = text.split()
    if len(words) <= max_words:
        return [text]
    sentences = re.split(r"(?<=[.!?;:])\s+", text)
    pieces, current = [], []
    for sentence in sentences:
        sentence_words = sentence.split()
        while len(sentence_words) > max_words:  # one enormous sentence
            if current:
                pieces.append(" ".join(current))
                current = []
            pieces.append(" ".join(sentence_words[:max_words]))
            sentence_words = sentence_words[max_words:]
        if len(current) + len(sentence_words) > max_words:
            pieces.append(" ".join(current))
            current = []
        current.extend(sentence_words)
    if current:
        pieces.append(" ".join(current))
    return pieces


class ChunkBuilder:
    """Collects ChunkSpecs in order, splitting texts over the word limit."""

    def __init__(self, max_words):
        self.max_words = max_words
        self.specs = []

    def add(self, kind, text, step_number=None):
        for piece in split_to_limit(text, self.max_words):
            self.specs.append(ChunkSpec(len(self.specs), kind, piece, step_number))
