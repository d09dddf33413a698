"""Index replicas in one process: two index folders stand for two web nodes on one database
(tests/test_replicas.py runs real separate nodes on PostgreSQL). A node whose folder missed
a publish catches up from the chunk table before its next search, says so in /healthz while
it is behind, and rebuilds from the database when its record or the change log is gone."""

import pytest
from django.test import Client

from articles.models import CategoryPage, SolutionArticlePage
from embeddings import replica
from embeddings.models import IndexChange, IndexState
from search import service
from tests.conftest import publish

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
    parent = CategoryPage.objects.get(slug="printers-hardware", locale__language_code="en")
    page = SolutionArticlePage(
        title="Thermostat app shows error ZX-42",
        audience="public",
        live=False,
        kcs_state="validated",
        issue="the smart thermostat app says ZX-42\nmy heating app cannot reach the thermostat",
        resolution=[
            ("step", {"instruction": "<p>Restart the thermostat hub.</p>", "expected_result": ""})
        ],
    )
    parent.add_child(instance=page)
    return page


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
