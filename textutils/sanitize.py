"""HTML sanitising for imported and user-supplied content (bleach, editor-compatible allow-list)."""

import html

import bleach
from bs4 import BeautifulSoup

ALLOWED_TAGS = [
    "p",
    "br",
    "h2",
    "h3",
    "h4",
    "b",
    "strong",
    "i",
    "em",
    "ul",
    "ol",
    "li",
    "a",
    "code",
    "pre",
    "blockquote",
    "hr",
]
ALLOWED_ATTRIBUTES = {"a": ["href", "title"]}
ALLOWED_PROTOCOLS = ["http", "https", "mailto", "tel"]
# Removed with their content, not just unwrapped: their text is code, not prose.
DROP_WITH_CONTENT = [
    "script",
    "style",
    "iframe",
    "object",
    "embed",
    "noscript",
    "template",
    "svg",
    "math",
    "form",
    "textarea",
    "select",
    "button",
    "head",
    "title",
]


def sanitize_html(html: str) -> str:
    """Return HTML containing only rich-text-editor tags, safe links and no scripts or styles."""
    if not html:
        return ""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(DROP_WITH_CONTENT):
        tag.decompose()
    for heading in soup.find_all(["h1"]):
        heading.name = "h2"
    cleaned = bleach.clean(
        str(soup),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
    )
    return cleaned.strip()


def sanitize_text(text: str, max_length: int | None = None) -> str:
    """Plain text from untrusted input: no markup at all, control characters removed."""
    # Strip every tag, then store plain characters; templates escape on output.
    text = html.unescape(bleach.clean(text or "", tags=[], attributes={}, strip=True))
    text = "".join(ch for ch in text if ch in "\n\t" or ch.isprintable())
    text = text.strip()
    if max_length is not None:
        text = text[:max_length]
    return text


def html_to_text(html: str) -> str:
    return BeautifulSoup(html or "", "html.parser").get_text(" ", strip=True)
