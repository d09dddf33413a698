import json
import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from articles.models import SolutionArticlePage
from textutils.sanitize import sanitize_html

XSS_CORPUS = [
    line
    for line in (Path(__file__).parent / "data" / "xss_corpus.txt").read_text().splitlines()
    if line
]
DANGEROUS = re.compile(
    r"<script|<iframe|<object|<svg|<style|<form|<input|<details|<math|\bon\w+\s*=|javascript:|"
    r"vbscript:|data:text|style=",
    re.IGNORECASE,
)


def _record(**overrides):
    record = {
        "external_id": "test-import-1",
        "title": "Phone keeps rebooting",
        "locale": "en",
        "audience": "public",
        "issue": "my phone restarts by itself\nthe handset reboots every few minutes",
        "environment": "Company smartphone",
        "cause": "<p>A faulty app update.</p>",
        "resolution_html": "<ol><li>Start in safe mode.</li><li>Remove the last app installed.</li></ol>",
        "services": ["mobile-telecom"],
        "tags": ["mobile"],
        "state": "validated",
    }
    record.update(overrides)
    return record


def _write_jsonl(tmp_path, lines, name="import.jsonl"):
    path = tmp_path / name
    path.write_text(
        "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n"
    )
    return path


def _import(path, *args):
    out, err = StringIO(), StringIO()
    call_command("import_articles", str(path), "--no-progress", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_kb_jsonl_import_creates_published_article_with_ordered_steps(db, tmp_path):
    out, _ = _import(_write_jsonl(tmp_path, [_record()]), "--publish")
    assert "1 created" in out
    page = SolutionArticlePage.objects.get(external_id="test-import-1")
    assert page.live and page.audience == "public"
    assert [str(s.value["instruction"]) for s in page.steps] == [
        "<p>Start in safe mode.</p>",
        "<p>Remove the last app installed.</p>",
    ]
    assert page.issue_phrasings == [
        "my phone restarts by itself",
        "the handset reboots every few minutes",
    ]
    assert [s.slug for s in page.services.all()] == ["mobile-telecom"]
    assert page.environment_product == "Company smartphone"


def test_without_publish_the_import_is_a_draft(db, tmp_path):
    _import(_write_jsonl(tmp_path, [_record()]))
    assert not SolutionArticlePage.objects.get(external_id="test-import-1").live


def test_reimporting_the_same_external_id_updates_instead_of_duplicating(db, tmp_path):
    _import(_write_jsonl(tmp_path, [_record()]), "--publish")
    out, _ = _import(
        _write_jsonl(tmp_path, [_record(title="Phone reboots in a loop")], "second.jsonl"),
        "--publish",
    )
    assert "0 created, 1 updated" in out
    pages = SolutionArticlePage.objects.filter(external_id="test-import-1")
    assert pages.count() == 1
    assert pages.get().title == "Phone reboots in a loop"


def test_malformed_lines_are_reported_with_their_number_and_the_rest_is_kept(db, tmp_path):
    path = _write_jsonl(
        tmp_path,
        [
            _record(external_id="good-1"),
            "{this is not json",
            _record(external_id="bad-audience", audience="everyone"),
            _record(external_id="bad-service", services=["no-such-service"]),
            _record(external_id="good-2", title="Second good article"),
        ],
    )
    out, err = _import(path, "--publish")
    assert "2 created" in out and "3 skipped" in out
    assert "line 2: not valid JSON" in err
    assert "line 3: audience must be" in err
    assert "line 4: unknown services" in err
    assert set(
        SolutionArticlePage.objects.filter(external_id__startswith="good-").values_list(
            "external_id", flat=True
        )
    ) == {"good-1", "good-2"}


def test_unknown_locale_and_missing_file_give_clear_errors(db, tmp_path):
    _, err = _import(_write_jsonl(tmp_path, [_record(locale="de")]))
    assert "unsupported locale 'de'" in err
    with pytest.raises(CommandError, match="No such file"):
        _import(tmp_path / "missing.jsonl")


def test_same_external_id_in_another_language_becomes_a_translation(db, tmp_path):
    _import(
        _write_jsonl(
            tmp_path,
            [
                _record(),
                _record(
                    locale="nl", title="Gsm herstart steeds", issue="mijn gsm herstart vanzelf"
                ),
            ],
        ),
        "--publish",
    )
    en = SolutionArticlePage.objects.get(external_id="test-import-1", locale__language_code="en")
    nl = SolutionArticlePage.objects.get(external_id="test-import-1", locale__language_code="nl")
    assert en.translation_key == nl.translation_key


@pytest.mark.parametrize("payload", XSS_CORPUS)
def test_sanitiser_neutralises_xss_payload(payload):
    assert not DANGEROUS.search(sanitize_html(payload)), sanitize_html(payload)


def test_xss_corpus_through_import_is_harmless_on_the_public_page(db, client, tmp_path):
    html = "<ol>" + "".join(f"<li>step {i} {p}</li>" for i, p in enumerate(XSS_CORPUS)) + "</ol>"
    record = _record(
        title="Harmless <script>alert(1)</script> title",
        cause="".join(XSS_CORPUS),
        resolution_html=html,
        issue="\n".join(XSS_CORPUS),
    )
    _import(_write_jsonl(tmp_path, [record]), "--publish")
    page = SolutionArticlePage.objects.get(external_id="test-import-1")
    body = client.get(page.url).content.decode()
    # The imported content: everything in the article before our own feedback form.
    article = body[body.index("<article") : body.index('<section class="feedback"')]
    assert not DANGEROUS.search(article), DANGEROUS.search(article)
    assert "<script" not in body.lower().replace('<script src="', "")


def test_zendesk_export_import(db, tmp_path):
    export = {
        "articles": [
            {
                "id": 9001,
                "title": "Reset your voicemail PIN",
                "locale": "en-us",
                "body": "<p>Call 5500.</p><script>steal()</script>",
                "label_names": ["voicemail"],
                "draft": False,
                "user_segment_id": None,
            },
            {
                "id": 9002,
                "title": "Procédure interne portabilité",
                "locale": "fr-be",
                "body": "<p>Interne.</p>",
                "label_names": [],
                "draft": False,
                "user_segment_id": 123,
            },
            {
                "id": 9003,
                "title": "Draft article",
                "locale": "nl-be",
                "body": "<p>Nog niet klaar.</p>",
                "draft": True,
            },
        ]
    }
    path = tmp_path / "zendesk.json"
    path.write_text(json.dumps(export))
    out, _ = _import(path, "--format", "zendesk", "--publish")
    assert "3 created" in out
    voicemail = SolutionArticlePage.objects.get(external_id="zendesk:9001")
    assert (
        voicemail.live
        and voicemail.audience == "public"
        and "steal" not in str(voicemail.resolution.raw_data)
    )
    assert SolutionArticlePage.objects.get(external_id="zendesk:9002").audience == "internal"
    draft = SolutionArticlePage.objects.get(external_id="zendesk:9003")
    assert draft.locale.language_code == "nl" and not draft.live


def test_import_into_a_named_category(db, tmp_path):
    _import(_write_jsonl(tmp_path, [_record()]), "--publish", "--parent", "mobile-telecom")
    page = SolutionArticlePage.objects.get(external_id="test-import-1")
    assert page.get_parent().slug == "mobile-telecom"
    _, err = _import(
        _write_jsonl(tmp_path, [_record(external_id="x2")], "b.jsonl"), "--parent", "nope"
    )
    assert "no category with slug 'nope'" in err
