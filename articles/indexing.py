"""What of an article gets embedded: a live page turned into chunk texts, and its visibility.

Measured with bench/chunking.py on ../shared/eval/banking77 (docs/search-quality.md):
one chunk per issue phrasing, prefixed with the title, ranks best when an article is
scored by its best chunk; a summary chunk (title + all phrasings) adds nothing on top and
is only used when an article has no phrasings. Steps, cause and diagnosis questions are
prefixed with the title so each chunk still says which problem it belongs to.

The embeddings layer stores and searches the vectors (embeddings.indexing.replace_chunks);
this module and articles/signals.py are the only places that know what an article is.
"""

from django.conf import settings
from wagtail.models import Page

from embeddings.chunking import ChunkBuilder, phrasing_text
from embeddings.indexing import PageChunks, PageSource
from embeddings.models import Chunk
from textutils.sanitize import html_to_text

from .models import SolutionArticlePage


def chunk_article(page, strategy=None, max_words=None, prefix_title=True):
    """Chunks of an article (a SolutionArticlePage-like object), in a stable order."""
    strategy = strategy or getattr(settings, "KB_CHUNK_STRATEGY", "phrasings")
    # Wordpiece tokens run ~1.3-1.6 per word in nl/fr; 120 words stays under 256 tokens.
    builder = ChunkBuilder(max_words or getattr(settings, "KB_CHUNK_MAX_WORDS", 120))
    add = builder.add
    title = page.title.strip()
    phrasings = page.issue_phrasings

    if strategy in ("summary", "summary+phrasings") or not phrasings:
        add("summary", ". ".join([title, *phrasings]))
    if strategy in ("phrasings", "summary+phrasings"):
        for phrasing in phrasings:
            add("issue", phrasing_text(title, phrasing) if prefix_title else phrasing)
    cause = html_to_text(str(page.cause or ""))
    if cause:
        add("cause", phrasing_text(title, cause))
    step_number = 0
    for block in page.resolution:
        if block.block_type == "step":
            step_number += 1
            text = html_to_text(str(block.value["instruction"]))
            expected = block.value.get("expected_result") or ""
            body = f"{text} {expected}".strip()
            if body:
                add("step", phrasing_text(title, body), step_number)
        elif block.block_type == "diagnosis":
            questions = " ".join(q["question"] for q in block.value["questions"])
            add("diagnosis", phrasing_text(title, f"{block.value['title']}. {questions}"))
        elif block.block_type == "note":
            add("note", phrasing_text(title, html_to_text(str(block.value["text"]))))
    return builder.specs


def page_visibility(page):
    """'public' only for a public article with no view restriction on it or an ancestor."""
    if getattr(page.specific, "audience", None) != "public":
        return Chunk.VISIBILITY_INTERNAL
    if page.get_view_restrictions().exists():
        return Chunk.VISIBILITY_INTERNAL
    return Chunk.VISIBILITY_PUBLIC


def is_indexable(page):
    """Live, an article, not archived: the only pages search may ever return."""
    specific = page.specific
    return (
        page.live
        and isinstance(specific, SolutionArticlePage)
        and specific.kcs_state != SolutionArticlePage.KCS_ARCHIVED
    )


class ArticlePageSource(PageSource):
    """Tells the embeddings layer what of each article to embed (registered in apps.ready)."""

    def page_chunks(self, page_id):
        page = Page.objects.filter(id=page_id).select_related("locale").first()
        if page is None or not is_indexable(page):
            return None
        return PageChunks(
            locale_id=page.locale_id,
            locale_code=page.locale.language_code,
            visibility=page_visibility(page),
            specs=chunk_article(page.specific),
        )

    def page_ids(self, locale_codes):
        return list(
            SolutionArticlePage.objects.filter(locale__language_code__in=locale_codes).values_list(
                "id", flat=True
            )
        )
