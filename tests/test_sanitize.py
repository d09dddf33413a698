"""Imported HTML keeps only what the article editor can hold, and loses no text on the way."""

import re

import pytest
from bs4 import BeautifulSoup
from wagtail.admin.rich_text.converters.contentstate import ContentstateConverter

from articles.blocks import StepBlock
from articles.importing import CAUSE_FEATURES, STEP_FEATURES
from articles.models import SolutionArticlePage
from textutils.sanitize import editor_markup, sanitize_html

IMPORTED = """
<h1>Router keeps rebooting</h1>
<h2>Before you start</h2>
Check the lights first.
<div>Power LED red</div><div>WAN LED off</div>
<pre>ipconfig /release
ipconfig /renew</pre>
<blockquote>Never reset during a firmware update.</blockquote>
<hr>
<table><caption>Ports</caption><tr><th>Model</th><th>Port</th></tr><tr><td>H368</td><td>8080</td></tr></table>
<ol><li><p>Unplug the router.</p><p>Wait ten seconds.</p></li><li>Plug it back in.</li></ol>
<p>More at <a href="https://example.be/help" title="help" onclick="steal()">the help page</a>.</p>
"""


def _tags(html):
    return {tag.name for tag in BeautifulSoup(html, "html.parser").find_all(True)}


def _words(html):
    text = BeautifulSoup(html, "html.parser").get_text(" ")
    return re.findall(r"\w+", text)


def _through_the_editor(html, features):
    """What the editor (Draftail) saves after opening this HTML unchanged."""
    converter = ContentstateConverter(features)
    return converter.to_database_format(converter.from_database_format(html))


def test_allowed_tags_follow_the_fields_editor_features():
    tags, attributes = editor_markup(tuple(CAUSE_FEATURES))
    assert tags == {"p", "br", "b", "strong", "i", "em", "ol", "ul", "li", "a", "code", "h3", "h4"}
    assert attributes == {"a": ["href"]}
    assert tuple(CAUSE_FEATURES) == tuple(SolutionArticlePage._meta.get_field("cause").features)
    assert tuple(STEP_FEATURES) == tuple(StepBlock.base_blocks["instruction"].features)


@pytest.mark.parametrize("features", [CAUSE_FEATURES, STEP_FEATURES])
def test_imported_formatting_survives_the_first_edit_without_losing_text(features):
    clean = sanitize_html(IMPORTED, features)
    allowed, _ = editor_markup(tuple(features))
    assert _tags(clean) <= allowed
    assert not {"h1", "h2", "pre", "blockquote", "hr", "table", "div"} & _tags(clean)
    edited = _through_the_editor(clean, features)
    assert _words(edited) == _words(clean)  # the editor keeps every word, in order
    assert _tags(edited) - {"br"} == _tags(clean) - {"br"}
    for word in (
        "Router",
        "Before",
        "lights",
        "LED",
        "ipconfig",
        "firmware",
        "H368",
        "8080",
        "Unplug",
        "seconds",
        "Plug",
        "help",
    ):
        assert word in _words(clean)


def test_headings_move_to_the_nearest_heading_the_editor_has():
    assert sanitize_html("<h2>Cause</h2>", ["h3", "h4"]) == "<h3>Cause</h3>"
    assert sanitize_html("<h1>Title</h1>", ["h3", "h4"]) == "<h3>Title</h3>"
    assert sanitize_html("<h6>Small</h6>", ["h3", "h4"]) == "<h4>Small</h4>"
    assert sanitize_html("<h2>Cause</h2>", ["h2", "bold"]) == "<h2>Cause</h2>"
    assert sanitize_html("<h2>Cause</h2>", ["bold"]) == "<p>Cause</p>"


def test_pre_becomes_one_paragraph_per_line_in_code_when_the_editor_has_code():
    assert sanitize_html("<pre>ping 8.8.8.8\n\ntracert kb.be</pre>", ["code"]) == (
        "<p><code>ping 8.8.8.8</code></p><p><code>tracert kb.be</code></p>"
    )
    assert sanitize_html("<pre>a &lt;b&gt;\nc</pre>", ["bold"]) == "<p>a &lt;b&gt;</p><p>c</p>"


def test_blockquote_and_hr_become_what_the_editor_holds():
    assert sanitize_html("<blockquote>Tip</blockquote><hr><p>x</p>", ["bold"]) == (
        "<p>Tip</p><p>x</p>"
    )
    assert sanitize_html("<blockquote><p>a</p><p>b</p></blockquote>", ["bold"]) == (
        "<p>a</p><p>b</p>"
    )
    # An editor that has them keeps them.
    assert sanitize_html("<blockquote>Tip</blockquote><hr>", ["blockquote", "hr"]) == (
        "<blockquote>Tip</blockquote><hr>"
    )


def test_a_list_the_editor_lacks_becomes_numbered_paragraphs():
    html = "<ol><li>One</li><li>Two</li></ol>"
    assert sanitize_html(html, ["ul"]) == "<ul><li>One</li><li>Two</li></ul>"
    assert sanitize_html(html, ["bold"]) == "<p>1. One</p><p>2. Two</p>"


def test_unsafe_link_keeps_its_text_only():
    assert sanitize_html('<p><a href="javascript:alert(1)">click</a></p>', ["link"]) == (
        "<p>click</p>"
    )


def test_import_stores_editor_compatible_html(db, tmp_path):
    from django.core.management import call_command

    record = {
        "external_id": "test-sanitise-1",
        "title": "Router keeps rebooting",
        "locale": "en",
        "audience": "public",
        "issue": "router reboots",
        "cause": "<h2>Firmware</h2><pre>version 7.29.1</pre><blockquote>Known bug</blockquote>",
        "resolution_html": "<ol><li><h2>Reset</h2><p>Hold the button.</p></li></ol>",
        "state": "validated",
    }
    path = tmp_path / "one.jsonl"
    import json

    path.write_text(json.dumps(record) + "\n")
    call_command("import_articles", str(path), "--format", "kb-jsonl")
    page = SolutionArticlePage.objects.get(external_id="test-sanitise-1")
    cause = str(page.cause)
    assert "<h3>Firmware</h3>" in cause and "<code>version 7.29.1</code>" in cause
    assert "Known bug" in cause and "<blockquote>" not in cause
    step = str(page.steps[0].value["instruction"])
    assert "Reset" in step and "Hold the button." in step and "<h2>" not in step
