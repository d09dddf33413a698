"""Index replicas in one process: two index folders stand for two web nodes on one database
(tests/test_replicas.py runs real separate nodes on PostgreSQL). A node whose folder missed
a publish catches up from the chunk table before its next search, says so in /healthz while
it is behind, and rebuilds from the database when its record or the change log is gone."""

import threading
import time

import pytest
from django.test import Client

from articles.models import SolutionArticlePage
from embeddings import replica
from embeddings.encoder import get_encoder, model_for_language
from embeddings.models import IndexChange, IndexState
from embeddings.store import VectorStore, store_for
from search import service
from tests.conftest import new_article, publish

pytestmark = pytest.mark.model
QUERY = "my heating app shows error ZX-42"


@pytest.fixture
def nodes(settings, tmp_path):
    """Two node folders, switched by pointing KB_VECTOR_INDEX_DIR at one (as its processes
    would see it); every search checks the database generation (no rate limit)."""
    settings.KB_REPLICA_CHECK_SECONDS = 0
    folders = {"a": settings.KB_VECTOR_INDEX_DIR, "b": tmp_path / "node-b"}

    def use(name):
        settings.KB_VECTOR_INDEX_DIR = folders[name]
        return folders[name]

    return use


@pytest.fixture
def thermostat(db):
    return new_article(
        "printers-hardware",
        "Restart the thermostat hub.",
        title="Thermostat app shows error ZX-42",
        audience="public",
        kcs_state="validated",
        issue="the smart thermostat app says ZX-42\nmy heating app cannot reach the thermostat",
    )


def top(query=QUERY):
    response = service.search(query, channel="public", locale="en", limit=5)
    return (response.hits[0].page.title if response.hits else None), response.no_good_match


def test_a_node_that_missed_a_publish_catches_up_before_its_next_search(
    nodes, thermostat, run_on_commit
):
    nodes("b")
    assert top()[0] != thermostat.title  # node B built its files from the database
    generation_before = IndexState.current()
    nodes("a")
    run_on_commit(publish, thermostat)  # the task writes node A's files only
    assert IndexState.current() > generation_before
    folder_b = nodes("b")
    assert replica.local_generation(folder_b) == generation_before
    health = Client().get("/healthz").json()["replica"]
    assert health["lag"] == IndexState.current() - generation_before
    assert health["local_generation"] == generation_before

    # Found through the vector index (a lexical-only hit would be "no good match").
    assert top() == (thermostat.title, False)
    assert replica.local_generation(folder_b) == IndexState.current()
    health = Client().get("/healthz").json()
    assert health["replica"]["lag"] == 0 and health["replica"]["ok"] is True


def test_a_node_without_its_record_or_the_change_log_rebuilds_from_the_database(
    nodes, thermostat, run_on_commit
):
    folder_b = nodes("b")
    top()
    replica.catch_up()
    nodes("a")
    page = run_on_commit(publish, thermostat)
    # Node B lost its record, and the log no longer reaches back to its generation.
    (folder_b / "replica.json").write_text("{not json")
    IndexChange.objects.all().delete()
    nodes("b")
    result = replica.catch_up()
    assert result.from_generation is None and result.to_generation == IndexState.current()
    assert top() == (thermostat.title, False)
    replica.local_generation(folder_b)  # readable again

    nodes("a")
    run_on_commit(page.unpublish)
    assert IndexState.current() > result.to_generation
    IndexChange.objects.all().delete()  # pruned past node B's generation
    nodes("b")
    result = replica.catch_up()
    assert result.full and result.locales  # every language rewritten from the chunk table
    assert top()[0] != thermostat.title


def _wait_for(condition, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def writes_by_thread(monkeypatch):
    """The names of the threads that wrote index files or ran a catch-up (the real functions
    run; only who called them is recorded)."""
    seen = []

    def recording(func):
        def call(*args, **kwargs):
            seen.append(threading.current_thread().name)
            return func(*args, **kwargs)

        return call

    monkeypatch.setattr(VectorStore, "write", recording(VectorStore.write))
    monkeypatch.setattr(replica, "sync_locale", recording(replica.sync_locale))
    return seen


def test_a_search_leaves_the_catch_up_to_the_follower_thread(
    demo_db, nodes, thermostat, writes_by_thread
):
    """In a web process (follower running) a search only wakes the follower: the operator's
    request never reads chunk rows or writes FAISS files for a catch-up, and the node still
    serves the publish within a moment. (demo_db first: the article's category must be back
    before `thermostat` adds it, and the follower thread must see committed rows.)"""
    page = thermostat
    node_b = nodes("b")
    assert top()[0] != page.title  # node B's files, caught up in the search (no follower)
    nodes("a")
    publish(page)  # commits: the task writes node A's files only
    nodes("b")
    assert replica.local_generation(node_b) < IndexState.current()
    writes_by_thread.clear()
    replica.start_follower(interval=3600)  # it only runs when a search wakes it
    try:
        assert replica.maybe_catch_up() == "woken"
        assert _wait_for(lambda: replica.local_generation(node_b) == IndexState.current())
        assert writes_by_thread and set(writes_by_thread) == {"kb-replica-follower"}
        writes_by_thread.clear()
        assert top() == (page.title, False)  # served by the files the follower wrote
        assert "MainThread" not in writes_by_thread
    finally:
        replica.stop_follower()
    assert not replica.follower_running()


def test_without_a_follower_a_search_catches_up_itself(nodes, thermostat, run_on_commit):
    """Management commands, tests and shells have no follower: their searches answer from
    the database's generation, as before."""
    nodes("b")
    top()
    nodes("a")
    run_on_commit(publish, thermostat)
    folder_b = nodes("b")
    assert not replica.follower_running()
    assert replica.maybe_catch_up() == "caught up"
    assert replica.local_generation(folder_b) == IndexState.current()


def test_republishing_rewrites_one_file_of_the_same_size_and_the_node_skips_reloading_it(
    thermostat, run_on_commit, writes_by_thread
):
    """Publishing the same article again and again (the load test's editor) neither grows
    the index file nor leaves files behind, and the node's catch-up does not load files its
    own indexer already wrote from the chunk table at that generation."""
    top()
    replica.catch_up()
    store = store_for(model_for_language("en"))
    sizes, files = [], []
    for n in range(4):
        page = SolutionArticlePage.objects.get(pk=thermostat.pk)
        page.resolution = [
            ("step", {"instruction": "<p>Restart the hub.</p>", "expected_result": f"try {n}"})
        ]
        run_on_commit(publish, page)
        manifest = store.read_manifest("en")
        assert manifest["chunk_generation"] == IndexState.current()
        folder = store.locale_dir("en")
        sizes.append((folder / manifest["file"]).stat().st_size)
        files.append(len(list(folder.glob("index-*.faiss"))))
        writes_by_thread.clear()
        result = replica.catch_up()
        assert result.to_generation == IndexState.current() and result.locales == []
        assert writes_by_thread == []  # nothing loaded or compared, nothing written
    assert len(set(sizes)) == 1  # one step's chunk replaced, not added
    assert max(files) <= 2  # the current generation and the one before it


def test_a_publish_encodes_its_few_texts_on_one_thread(thermostat, run_on_commit, monkeypatch):
    """A publish's handful of texts are encoded on one intra-op thread, as a search is: the
    default pool's spinning threads cost ~10x the CPU on a busy machine (docs/reliability.md)."""
    import torch

    threads = []
    encoder = get_encoder(model_for_language("en"))
    original = encoder.encode_chunks

    def recording(texts):
        threads.append(torch.get_num_threads())
        return original(texts)

    monkeypatch.setattr(encoder, "encode_chunks", recording)
    run_on_commit(publish, thermostat)
    assert threads and set(threads) == {1}
