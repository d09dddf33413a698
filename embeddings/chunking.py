"""Split a live article into chunks for embedding.

Measured with bench/chunking.py on ../shared/eval/banking77 (docs/search-quality.md):
one chunk per issue phrasing, prefixed with the title, ranks best when an article is
scored by its best chunk; a summary chunk (title + all phrasings) adds nothing on top and
is only used when an article has no phrasings. Steps, cause and diagnosis questions are
prefixed with the title so each chunk still says which problem it belongs to.
"""

import hashlib
import re
from dataclasses import dataclass

from django.conf import settings

from textutils.sanitize import html_to_text

STRATEGIES = ("summary", "phrasings", "summary+phrasings")


@dataclass(frozen=True)
class ChunkSpec:
    position: int
    kind: str
    text: str
    step_number: int | None = None

    @property
    def text_hash(self):
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def _split_to_limit(text, max_words):
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


def chunk_article(page, strategy=None, max_words=None, prefix_title=True):
    """Chunks of an article (a SolutionArticlePage-like object), in a stable order."""
    strategy = strategy or getattr(settings, "KB_CHUNK_STRATEGY", "phrasings")
    # Wordpiece tokens run ~1.3-1.6 per word in nl/fr; 120 words stays under 256 tokens.
    max_words = max_words or getattr(settings, "KB_CHUNK_MAX_WORDS", 120)
    title = page.title.strip()
    phrasings = page.issue_phrasings
    specs = []

    def add(kind, text, step_number=None):
        for piece in _split_to_limit(text, max_words):
            specs.append(ChunkSpec(len(specs), kind, piece, step_number))

    if strategy in ("summary", "summary+phrasings") or not phrasings:
        add("summary", ". ".join([title, *phrasings]))
    if strategy in ("phrasings", "summary+phrasings"):
        for phrasing in phrasings:
            add("issue", f"{title}: {phrasing}" if prefix_title else phrasing)
    cause = html_to_text(str(page.cause or ""))
    if cause:
        add("cause", f"{title}: {cause}")
    step_number = 0
    for block in page.resolution:
        if block.block_type == "step":
            step_number += 1
            text = html_to_text(str(block.value["instruction"]))
            expected = block.value.get("expected_result") or ""
            body = f"{text} {expected}".strip()
            if body:
                add("step", f"{title}: {body}", step_number)
        elif block.block_type == "diagnosis":
            questions = " ".join(q["question"] for q in block.value["questions"])
            add("diagnosis", f"{title}: {block.value['title']}. {questions}")
        elif block.block_type == "note":
            add("note", f"{title}: {html_to_text(str(block.value['text']))}")
    return specs
