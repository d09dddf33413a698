"""HTML sanitising for imported and user-supplied content: bleach, with an allow-list that
follows the rich-text editor's features.

Whatever the editor (Draftail) cannot hold, it drops at the first edit: an imported `<h2>`
under an editor with only h3/h4, a `<pre>`, a `<blockquote>`, a table. So the allowed tags
and attributes are read from the editor's own converter rules for the given features
(Wagtail's feature registry), and what it cannot hold is first converted into the nearest
thing it can, so no text is lost: a heading moves to the nearest heading the editor has (or
becomes a paragraph), `pre` becomes one paragraph per line (in `code` if the editor has it),
a quote, a `div` or a table row becomes a paragraph, a list the editor lacks becomes
numbered or bulleted paragraphs, `hr` goes.
"""

import html
import re
from functools import lru_cache

import bleach
from bs4 import BeautifulSoup, NavigableString

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
HEADINGS = ["h1", "h2", "h3", "h4", "h5", "h6"]
BLOCKS = {"p", "ul", "ol", "li", "pre", "blockquote", "hr", "table", *HEADINGS}
CONTAINERS = [
    "div",
    "section",
    "article",
    "header",
    "footer",
    "main",
    "aside",
    "nav",
    "figure",
    "figcaption",
    "address",
    "center",
    "details",
    "summary",
    "dl",
    "dt",
    "dd",
]
# Every editor holds paragraphs and line breaks.
ALWAYS_ALLOWED = {"p", "br"}
# A selector with a value (a[linktype="page"], embed[embedtype="image"]) is an internal
# reference the editor writes itself; imported HTML never gets to carry one.
_SELECTOR = re.compile(r"(?P<tag>[a-z][a-z0-9]*)(?:\[(?P<attribute>[a-z\-]+)\])?")


@lru_cache(maxsize=16)
def editor_markup(features):
    """(tags, attributes) that the rich-text editor with these features keeps."""
    from wagtail.rich_text import features as registry

    tags, attributes = set(ALWAYS_ALLOWED), {}
    for feature in features:
        rule = registry.get_converter_rule("contentstate", feature) or {}
        for selector in rule.get("from_database_format", {}):
            match = _SELECTOR.fullmatch(selector)
            if match is None:
                continue
            tags.add(match["tag"])
            if match["attribute"]:
                attributes.setdefault(match["tag"], []).append(match["attribute"])
    return frozenset(tags), attributes


def _default_features():
    from wagtail.rich_text import features as registry

    return tuple(registry.get_default_features())


def _has_block_child(tag):
    return any(getattr(child, "name", None) in BLOCKS | {"div"} for child in tag.children)


def _heading_for(level, allowed):
    """The nearest heading the editor has: the next less prominent one first."""
    levels = [int(h[1]) for h in HEADINGS if h in allowed]
    lower = [n for n in levels if n >= level]
    if lower:
        return f"h{min(lower)}"
    return f"h{max(levels)}" if levels else None


def _fit_to_editor(soup, allowed):
    new = soup.new_tag
    for tag in soup.find_all(HEADINGS):
        if tag.name not in allowed:
            tag.name = _heading_for(int(tag.name[1]), allowed) or "p"
    for pre in soup.find_all("pre"):
        if "pre" in allowed:
            continue
        lines = [line for line in pre.get_text().splitlines() if line.strip()]
        for line in lines:
            paragraph = new("p")
            if "code" in allowed:
                code = new("code")
                code.string = line
                paragraph.append(code)
            else:
                paragraph.string = line
            pre.insert_before(paragraph)
        pre.decompose()
    for table in soup.find_all("table"):
        if "table" in allowed:
            continue
        for part in table.find_all(["caption", "tr"]):
            cells = [c.get_text(" ", strip=True) for c in part.find_all(["th", "td"])]
            text = " | ".join(c for c in cells if c) or part.get_text(" ", strip=True)
            if text:
                paragraph = new("p")
                paragraph.string = text
                table.insert_before(paragraph)
        table.decompose()
    for name in ("ul", "ol"):
        other = "ol" if name == "ul" else "ul"
        for listing in soup.find_all(name):
            if name in allowed:
                continue
            if other in allowed:
                listing.name = other
                continue
            for number, item in enumerate(listing.find_all("li", recursive=False), 1):
                item.name = "p"
                item.insert(0, f"{number}. " if name == "ol" else "• ")
            listing.unwrap()
    for tag in soup.find_all(["blockquote", *CONTAINERS]):
        if tag.name in allowed:
            continue
        if _has_block_child(tag):
            tag.unwrap()
        else:
            tag.name = "p"
    for rule in soup.find_all("hr"):
        if "hr" not in allowed:
            rule.decompose()
    for item in soup.find_all("li"):  # list items hold inline text only
        for paragraph in item.find_all("p"):
            if paragraph.previous_sibling is not None:
                paragraph.insert_before(new("br"))
            paragraph.unwrap()
    for paragraph in soup.find_all("p"):  # a paragraph holding blocks is just a wrapper
        if _has_block_child(paragraph):
            paragraph.unwrap()
    _wrap_loose_text(soup)


def _wrap_loose_text(soup):
    """Top-level text and inline tags between blocks go into paragraphs."""
    run = []

    def flush():
        if any(getattr(n, "name", None) or str(n).strip() for n in run):
            paragraph = soup.new_tag("p")
            run[0].insert_before(paragraph)
            for node in run:
                paragraph.append(node.extract())
        run.clear()

    for node in list(soup.contents):
        name = getattr(node, "name", None)
        if name in BLOCKS or (name is None and not isinstance(node, NavigableString)):
            flush()
        elif name is None and not str(node).strip():
            if run:
                run.append(node)
        else:
            run.append(node)
    flush()


def sanitize_html(html: str, features=None) -> str:
    """HTML that the rich-text editor with `features` (Wagtail feature names; default: the
    site's default features) holds as it is: its tags only, safe links, no scripts or styles,
    and the text of everything else kept in the nearest form the editor has."""
    if not html:
        return ""
    features = tuple(features) if features is not None else _default_features()
    tags, attributes = editor_markup(features)
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(DROP_WITH_CONTENT):
        tag.decompose()
    _fit_to_editor(soup, tags)
    cleaned = bleach.clean(
        str(soup),
        tags=sorted(tags),
        attributes=attributes,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
    )
    # Wagtail's editor only reads the self-closed form: "<br>" stops it with "Unmatched tags".
    cleaned = cleaned.replace("<br>", "<br/>")
    if "<a>" in cleaned:  # a link whose address was unsafe: keep its text only
        soup = BeautifulSoup(cleaned, "html.parser")
        for anchor in soup.find_all("a", href=False):
            anchor.unwrap()
        cleaned = str(soup)
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
