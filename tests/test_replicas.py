"""Vector index replicas on PostgreSQL: two gunicorn "nodes" (separate processes, separate
index folders, one database) and a task worker with a folder of its own, as on three
machines. An article published by the editor's import and indexed by the worker becomes
searchable on both nodes within 2 s, without a shared folder; a node killed in the middle of
catching up serves the article after its restart. Real models, loopback only, bounded waits.

Runs in `make test-postgres` (CI); skipped on SQLite.
"""

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode, urlparse

import pytest

from tests.test_production_path import ROOT, Installation, free_port, request, wait_until

DATABASE_URL = os.environ.get("KB_TEST_DATABASE_URL", "")
ARTICLES = ROOT / "tests" / "data" / "production_articles.jsonl"
SEARCHABLE_WITHIN = 2.0  # seconds, the bound

pytestmark = [
    pytest.mark.model,
    pytest.mark.postgres,
    pytest.mark.skipif(
        not DATABASE_URL.startswith("postgres"),
        reason="two nodes on one database need PostgreSQL: run `make test-postgres` "
        "(KB_TEST_DATABASE_URL=postgres://...)",
    ),
]

DOORBELL = {
    "external_id": "acme-doorbell-silent",
    "locale": "en",
    "title": "Smart doorbell chime stays silent",
    "audience": "public",
    "issue": "The doorbell chime does not ring inside\nNobody hears the doorbell when a visitor "
    "presses the button",
    "steps": [
        {"instruction": "<p>Open the doorbell app and choose <strong>Chime</strong>.</p>"},
        {"instruction": "<p>Switch the chime type from digital to mechanical.</p>"},
    ],
}
DOORBELL_QUERY = "doorbell chime silent, nobody hears the visitor ring"
BOILER = {
    "external_id": "acme-boiler-pressure",
    "locale": "nl",
    "title": "Verwarmingsketel geeft lage druk aan",
    "audience": "public",
    "issue": "Mijn cv-ketel toont een te lage waterdruk\nDe verwarming slaat af door lage druk",
    "steps": [{"instruction": "<p>Vul de installatie bij tot 1,5 bar met de vulkraan.</p>"}],
}
BOILER_QUERY = "cv ketel druk te laag verwarming slaat af"


@pytest.fixture(scope="module")
def database():
    """A fresh PostgreSQL database for this module on the test server, dropped afterwards."""
    import psycopg

    url = urlparse(DATABASE_URL)
    name = f"kb_replicas_{secrets.token_hex(4)}"
    admin = psycopg.connect(DATABASE_URL.replace("postgres://", "postgresql://"), autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url._replace(path=f"/{name}").geturl()
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


class Node:
    """One web machine: gunicorn (one worker, the repository's gunicorn.conf.py) with its own
    index folder."""

    def __init__(self, installation, name, source):
        self.installation, self.name, self.source = installation, name, source
        self.index_dir = installation.folder / f"{name}-index"
        self.log_path = installation.folder / f"{name}.log"
        self.process = None

    def start(self, **env):
        self.port = free_port()
        self.log = open(self.log_path, "a")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "-c",
                "gunicorn.conf.py",
                "kbsite.wsgi:application",
            ],
            cwd=ROOT,
            env={
                **self.installation.env,
                "KB_VECTOR_INDEX_DIR": str(self.index_dir),
                "GUNICORN_BIND": f"127.0.0.1:{self.port}",
                "WEB_CONCURRENCY": "1",
                **env,
            },
            stdout=self.log,
            stderr=self.log,
            start_new_session=True,
        )
        # Ready once the worker has warmed up (models loaded, index caught up): it answers.
        wait_until(lambda: self.health()["status"] == "ok", 300, f"{self.name} ready")

    def stop(self, sig=signal.SIGTERM):
        if self.process is None:
            return
        os.killpg(self.process.pid, sig)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None
        self.log.close()

    def health(self):
        status, _, body = request(self.port, "GET", "/healthz", source=self.source)
        return json.loads(body) if status in (200, 503) else {"status": status}

    def search(self, query, locale):
        status, _, body = request(
            self.port,
            "GET",
            "/api/v1/public/search/?" + urlencode({"q": query, "locale": locale}),
            source=self.source,
        )
        assert status == 200, body
        return json.loads(body)

    def local_generation(self):
        try:
            return json.loads((self.index_dir / "replica.json").read_text())["generation"]
        except FileNotFoundError:
            return None


def answers(data, title):
    """The top result is the article, matched through the vector index: its confidence is the
    semantic similarity of its best chunk (0 when FAISS lacks the article's chunks)."""
    results = data["results"]
    return bool(results) and results[0]["title"] == title and not data["no_good_match"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, database):
    inst = Installation(tmp_path_factory.mktemp("replicas"))
    inst.env.update(DATABASE_URL=database, KB_VECTOR_INDEX_DIR=str(inst.folder / "worker-index"))
    inst.manage("migrate", "--no-input", timeout=600)
    inst.manage("setup_site", "--base-url", "https://kb.example.test")
    inst.manage("import_articles", str(ARTICLES), "--publish")
    inst.manage("db_worker", "--batch", timeout=600)
    nodes = [Node(inst, "node-a", "127.0.0.2"), Node(inst, "node-b", "127.0.0.3")]
    # One at a time: two warm-ups at once on a busy two-core machine only take longer.
    try:
        for node in nodes:
            node.start()
        yield inst, nodes
    finally:
        for node in nodes:
            node.stop()


def publish(inst, article):
    """The editor imports and publishes; the task worker (its own index folder) embeds it."""
    path = inst.folder / f"{article['external_id']}.jsonl"
    path.write_text(json.dumps(article) + "\n")
    inst.manage("import_articles", str(path), "--publish")
    inst.manage("db_worker", "--batch", timeout=600)


def database_generation(inst):
    return inst.query(
        "import json; from embeddings.models import IndexState; "
        "print(json.dumps(IndexState.current()))"
    )


def test_an_article_published_through_the_worker_is_searchable_on_both_nodes(cluster):
    inst, nodes = cluster
    for node in nodes:
        assert not answers(node.search(DOORBELL_QUERY, "en"), DOORBELL["title"])
    publish(inst, DOORBELL)
    indexed_at = time.monotonic()
    deadline = indexed_at + SEARCHABLE_WITHIN
    waiting = set(range(len(nodes)))
    while waiting and time.monotonic() < deadline:
        for i in sorted(waiting):
            if answers(nodes[i].search(DOORBELL_QUERY, "en"), DOORBELL["title"]):
                waiting.discard(i)
        time.sleep(0.1)
    assert not waiting, (
        f"not searchable within {SEARCHABLE_WITHIN} s on "
        f"{[nodes[i].name for i in sorted(waiting)]}: "
        f"{[nodes[i].search(DOORBELL_QUERY, 'en')['results'][:1] for i in sorted(waiting)]}"
    )
    # Each node wrote its own files; the worker's folder is not shared with either.
    generation = database_generation(inst)
    for node in nodes:
        assert node.local_generation() == generation
        health = wait_until(lambda n=node: n.health(), 10, f"{node.name} health")
        assert health["replica"]["database_generation"] == generation
        assert health["replica"]["local_generation"] == generation
        assert health["replica"]["lag"] == 0
        assert health["vector_index"]["en"]["in_sync"] is True


def test_a_node_killed_while_catching_up_serves_the_new_article_after_a_restart(cluster):
    inst, (node_a, node_b) = cluster
    # Node B pauses after each index it writes while catching up, so it can be killed
    # between the first and the second of the two models' Dutch indexes.
    node_b.stop()
    node_b.start(KB_REPLICA_FAULT_PAUSE="30")
    before = node_b.local_generation()
    pauses = node_b.log_path.read_text().count("fault pause after")
    publish(inst, BOILER)
    wait_until(
        lambda: node_b.log_path.read_text().count("fault pause after") > pauses,
        60,
        "node B half-way through catching up",
    )
    # While it works, node B still answers, and its health says it is behind.
    generation = database_generation(inst)
    health = node_b.health()
    assert health["replica"]["local_generation"] == before < generation
    assert health["replica"]["lag"] == generation - before
    assert health["replica"]["database_generation"] == generation
    node_b.stop(signal.SIGKILL)
    assert node_b.local_generation() == before  # killed before it finished

    # Meanwhile node A, untouched, serves the article.
    wait_until(
        lambda: answers(node_a.search(BOILER_QUERY, "nl"), BOILER["title"]), 10, "node A has it"
    )

    node_b.start()
    assert answers(node_b.search(BOILER_QUERY, "nl"), BOILER["title"])
    health = node_b.health()
    assert health["status"] == "ok"
    assert health["replica"]["local_generation"] == generation
    assert health["replica"]["lag"] == 0
    assert all(row["in_sync"] for row in health["vector_index"].values())
    log = node_b.log_path.read_text()
    assert f"caught up from generation {before} to {generation}" in log
