"""The production path, end to end, as docs/deployment.md tells it: a fresh database with
the production settings -> migrate -> setup_site -> import_articles -> the database task
worker -> gunicorn with two workers behind a proxy that sets X-Real-IP. Real model, real
processes, loopback only, every wait bounded.

One fresh installation is built for the whole module (migrate takes about a minute).
"""

import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django_ratelimit.core import _get_window

from tests.helpers.header_proxy import start_proxy

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = ROOT / "tests" / "data" / "production_articles.jsonl"
CONTACT = {"name": "Jan Peeters", "email": "jan@example.be", "message": "My decoder shows E-202."}

pytestmark = [
    pytest.mark.model,
    pytest.mark.skipif(
        bool(os.environ.get("KB_TEST_DATABASE_URL")),
        reason="builds its own SQLite installation; runs once, in the SQLite suite",
    ),
]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Installation:
    def __init__(self, folder):
        self.folder = folder
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("KB_", "DJANGO_", "DATABASE_URL"))
        }
        self.env.update(
            DJANGO_SETTINGS_MODULE="kbsite.settings.production",
            DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
            DATABASE_URL=f"sqlite:///{folder / 'db.sqlite3'}",
            KB_VAR_DIR=str(folder),
            KB_VECTOR_INDEX_DIR=str(folder / "vector_index"),
            KB_TASK_BACKEND="database",
            # Plain HTTP on the loopback: no TLS redirect, cookies without the Secure flag.
            KB_SSL_REDIRECT="0",
            KB_SECURE_COOKIES="0",
            KB_HSTS_SECONDS="0",
            KB_CLIENT_IP_HEADER="X-Real-IP",
            KB_TRUSTED_PROXIES="127.0.0.1",
            HF_HUB_OFFLINE="1",
            TRANSFORMERS_OFFLINE="1",
        )

    def manage(self, *args, timeout=300, env=None, stderr=False):
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert result.returncode == 0, f"manage.py {' '.join(args)}:\n{result.stderr[-3000:]}"
        return result.stdout + (result.stderr if stderr else "")

    def query(self, code):
        """Run Python in the installation and return what it prints as JSON."""
        return json.loads(self.manage("shell", "-c", code).strip().splitlines()[-1])


def request(port, method, path, *, body=None, headers=None, source="127.0.0.2"):
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=60, source_address=(source, 0)
    )
    try:
        connection.request(
            method, path, body=body, headers={"Connection": "close", **(headers or {})}
        )
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read().decode()
    finally:
        connection.close()


def cookies_of(headers):
    jar = {}
    for key, value in headers:
        if key.lower() == "set-cookie":
            name, _, rest = value.partition("=")
            jar[name] = rest.split(";", 1)[0]
    return jar


def wait_until(check, seconds, what):
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except OSError as exc:
            last = exc
        time.sleep(0.5)
    pytest.fail(f"{what} not reached within {seconds} s (last: {last!r})")


@pytest.fixture(scope="module")
def installation(tmp_path_factory):
    inst = Installation(tmp_path_factory.mktemp("production"))
    inst.manage("migrate", "--no-input", timeout=600)
    inst.manage("collectstatic", "--no-input")
    inst.first_setup = inst.manage("setup_site")
    inst.deploy_check_local = inst.manage("check", "--deploy", stderr=True)
    inst.manage("setup_site", "--base-url", "https://kb.example.test")
    inst.second_setup = inst.manage("setup_site", env={"KB_BASE_URL": "https://kb.example.test"})
    inst.env["KB_BASE_URL"] = "https://kb.example.test"
    inst.deploy_check_configured = inst.manage("check", "--deploy", stderr=True)
    inst.import_output = inst.manage("import_articles", str(ARTICLES), "--publish")
    inst.queued = inst.query(
        "import json; from django_tasks_db.models import DBTaskResult; "
        "from embeddings.models import Chunk; "
        "print(json.dumps([DBTaskResult.objects.ready().count(), Chunk.objects.count()]))"
    )
    inst.manage("db_worker", "--batch", timeout=600)
    return inst


@pytest.fixture(scope="module")
def served(installation):
    """gunicorn (the repository's gunicorn.conf.py, two workers) behind the header proxy."""
    port = free_port()
    log = open(installation.folder / "gunicorn.log", "w")  # noqa: SIM115
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "-c",
            "gunicorn.conf.py",
            "tests.helpers.pid_wsgi:application",
        ],
        cwd=ROOT,
        env={**installation.env, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2"},
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    proxy, proxy_port = start_proxy(port)
    try:
        wait_until(lambda: request(proxy_port, "GET", "/healthz")[0] == 200, 240, "gunicorn ready")
        # A worker accepts requests only once it has warmed up (both embedding models): on a
        # busy machine the second one may still be warming when the first answers.
        wait_until(lambda: _both_workers_answer(proxy_port), 240, "both gunicorn workers ready")
        yield proxy_port
    finally:
        proxy.shutdown()
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
        log.close()


def _both_workers_answer(port):
    """Four parallel health checks; True when two different worker processes answered."""
    pids = set()

    def hit():
        status, headers, _ = request(port, "GET", "/healthz")
        if status == 200:
            pids.add(dict(headers).get("X-Served-By"))

    threads = [threading.Thread(target=hit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return len(pids) >= 2


def test_setup_site_creates_the_site_without_demo_content(installation):
    state = installation.query(
        "import json; from django.contrib.auth.models import Group, User; "
        "from wagtail.models import Locale, Site, Workflow; "
        "from articles.models import CategoryPage, KnowledgeBaseHomePage, Service; "
        "s = Site.objects.get(is_default_site=True); "
        "print(json.dumps({'users': User.objects.count(), "
        "'groups': sorted(Group.objects.values_list('name', flat=True)), "
        "'locales': sorted(Locale.objects.values_list('language_code', flat=True)), "
        "'homes': KnowledgeBaseHomePage.objects.live().count(), "
        "'categories': CategoryPage.objects.count(), 'services': Service.objects.count(), "
        "'workflows': list(Workflow.objects.values_list('name', flat=True)), "
        "'site': s.root_url, 'sites': Site.objects.count()}))"
    )
    # Wagtail's own migrations add the (empty) Editors and Moderators groups and workflow.
    assert {"Knowledge managers", "Operators", "Second line"} <= set(state.pop("groups"))
    assert "Solution review" in state.pop("workflows")
    assert state == {
        "users": 0,  # no demo users, no published passwords
        "locales": ["en", "fr", "nl"],
        "homes": 3,
        "categories": 0,
        "services": 0,
        "site": "https://kb.example.test",
        "sites": 1,
    }
    assert "home pages created: en, nl, fr" in installation.first_setup
    assert "home pages created: none (all present)" in installation.second_setup


def test_check_deploy_warns_while_the_site_says_localhost(installation):
    assert "kb.W003" in installation.deploy_check_local
    assert "http://127.0.0.1:8000" in installation.deploy_check_local
    assert "kb.W00" not in installation.deploy_check_configured


def test_import_after_setup_site_queues_indexing_for_the_worker(installation):
    assert "4 created, 0 updated, 0 skipped" in installation.import_output
    queued_tasks, chunks_before_worker = installation.queued
    assert queued_tasks >= 1 and chunks_before_worker == 0


def test_imported_articles_are_searchable_through_the_proxy(served):
    status, _, body = request(
        served,
        "GET",
        "/api/v1/public/search/?" + urlencode({"q": "vpn valt steeds weg thuis", "locale": "nl"}),
    )
    assert status == 200
    results = json.loads(body)["results"]
    assert results and results[0]["title"] == "VPN-verbinding valt om de paar minuten weg"
    assert all("gateway cluster" not in r["title"] for r in results)  # internal stays internal


def test_healthz_reports_database_index_generations_and_worker(served, installation):
    def fresh():
        status, _, body = request(served, "GET", "/healthz")
        data = json.loads(body)
        return data if status == 200 and data["status"] == "ok" else None

    data = wait_until(fresh, 30, "healthz ok")
    assert data["database"]["ok"] is True
    for code in ("en", "nl", "fr"):
        assert data["vector_index"][code]["generation"] >= 1
        assert data["vector_index"][code]["in_sync"] is True
        # Every embedding model (MiniLM for English, e5 for the rest) has its own index here.
        models = data["vector_index"][code]["models"]
        assert len(models) == 2
        assert all(m["generation"] >= 1 and m["in_sync"] for m in models.values())
    assert data["worker"]["backend"] == "DatabaseBackend"
    assert data["worker"]["queued_tasks"] == 0 and data["worker"]["pending_index_updates"] == 0
    raw = json.dumps(data)
    assert installation.env["DJANGO_SECRET_KEY"] not in raw
    assert str(installation.folder) not in raw


def _contact_burst(served, source):
    """12 contact submissions from one customer address in two parallel streams; returns
    [(status, worker pid)]. Opening the form (GET) first must not use a submission."""
    # Windows are fixed (per client, staggered): start well inside one, not near its end.
    left = _get_window(source, 600) - time.time()
    if left < 120:
        time.sleep(left + 1)
    for _ in range(3):
        status, headers, _ = request(served, "GET", "/en/contact/", source=source)
        assert status == 200
    token = cookies_of(headers)["csrftoken"]
    form = urlencode({**CONTACT, "csrfmiddlewaretoken": token})
    post_headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": f"csrftoken={token}",
        # A client-sent address is overwritten by the proxy: no fresh allowance from it.
        "X-Real-IP": "198.51.100.77",
    }
    outcomes = []

    def stream(n):
        for _ in range(n):
            status, headers, _ = request(
                served, "POST", "/en/contact/", body=form, headers=post_headers, source=source
            )
            outcomes.append((status, dict(headers).get("X-Served-By")))

    threads = [threading.Thread(target=stream, args=(6,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_contact_limit_is_shared_by_both_workers_and_kept_per_customer(served):
    # The kernel decides which worker accepts a connection: now and then one worker takes
    # every request of a burst, which proves nothing about sharing. Then the burst is
    # repeated as another customer (a fresh allowance), at most three times.
    for source in ("127.0.0.2", "127.0.0.4", "127.0.0.5"):
        outcomes = _contact_burst(served, source)
        assert len(outcomes) == 12
        statuses = sorted(status for status, _ in outcomes)
        # Whoever answered, one customer never gets more than five submissions through.
        assert statuses == [200] * 5 + [429] * 7
        workers = {pid for _, pid in outcomes}
        if len(workers) == 2:
            break
    assert len(workers) == 2, f"both gunicorn workers must have answered, got {workers}"

    # Another customer behind the same proxy has its own allowance.
    _, headers, _ = request(served, "GET", "/en/contact/", source="127.0.0.3")
    token = cookies_of(headers)["csrftoken"]
    status, _, _ = request(
        served,
        "POST",
        "/en/contact/",
        body=urlencode({**CONTACT, "csrfmiddlewaretoken": token}),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={token}",
        },
        source="127.0.0.3",
    )
    assert status == 200


def test_runserver_warms_the_search_before_it_reports_ready(installation):
    port = free_port()
    output = []
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env={
            **installation.env,
            "DJANGO_SETTINGS_MODULE": "kbsite.settings.dev",
            "PYTHONUNBUFFERED": "1",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    reader = threading.Thread(target=lambda: output.extend(server.stdout), daemon=True)
    reader.start()
    try:
        wait_until(lambda: "Starting development server" in "".join(output), 240, "runserver ready")
        text = "".join(output)
        assert "Search warm (" in text
        assert text.index("Search warm (") < text.index("Starting development server")
        status, _, body = request(
            port, "GET", "/api/v1/public/search/?q=vpn+disconnects&locale=en", source="127.0.0.1"
        )
        assert status == 200
        assert json.loads(body)["results"][0]["title"] == "VPN connection drops every few minutes"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


OPERATOR_COOKIE = r"""
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
user, _ = get_user_model().objects.get_or_create(username="operator-served")
user.groups.add(Group.objects.get(name="Operators"))
client = Client()
client.force_login(user)
print('"' + client.cookies["sessionid"].value + '"')
"""


def _operator_search_burst(served, cookie, round_no):
    """Two parallel streams of 8 operator searches each, every query different; returns
    [(query, search_id, worker pid)]."""
    answers = []

    def stream(name):
        for n in range(8):
            query = f"printer offline round {round_no} stream {name} question {n}"
            status, headers, body = request(
                served,
                "GET",
                "/api/v1/search/?" + urlencode({"q": query, "locale": "en", "source": "console"}),
                headers={"Cookie": f"sessionid={cookie}"},
            )
            assert status == 200, body[:300]
            answers.append((query, json.loads(body)["search_id"], dict(headers)["X-Served-By"]))

    threads = [threading.Thread(target=stream, args=(name,)) for name in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


def test_operator_searches_answered_by_both_workers_are_each_logged_once(served, installation):
    """The search-log row is written after the answer (insights/events.py): each worker hands
    out ids reserved from the table's sequence. Two workers answering at once must never give
    two searches one id, and every id the console got must lead to its own search's row."""
    cookie = installation.query(OPERATOR_COOKIE)
    answers = []
    for round_no in range(3):  # the kernel may give one worker a whole burst: then again
        answers += _operator_search_burst(served, cookie, round_no)
        if len({pid for _, _, pid in answers}) == 2:
            break
    assert len({pid for _, _, pid in answers}) == 2, "both gunicorn workers must have answered"
    ids = [search_id for _, search_id, _ in answers]
    assert all(isinstance(i, int) for i in ids) and len(set(ids)) == len(ids)

    def logged():
        rows = installation.query(
            "import json; from insights.models import SearchEvent; "
            f"print(json.dumps(list(SearchEvent.objects.filter(pk__in={ids!r})"
            ".values_list('pk', 'query', 'channel'))))"
        )
        return rows if len(rows) == len(ids) else None

    rows = {pk: (query, channel) for pk, query, channel in wait_until(logged, 30, "every row")}
    for query, search_id, _ in answers:
        assert rows[search_id] == (query, "operator")
