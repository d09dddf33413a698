"""Shared fixtures. The demo site (catalogue, roles, users, 72 articles) is loaded once per
test session into the test database and indexed with the real model; every test runs in a
transaction on top of it and gets its own vector-index directory (rebuilt from the DB
chunk table on first use, which is itself the recovery path under test)."""

import os
import shutil
import warnings

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from articles.models import SolutionArticlePage

REQUIRE_SYSTEM_DEPS = os.environ.get("KB_REQUIRE_SYSTEM_DEPS") == "1"


def require_system(binary, package):
    """Skip loudly when a system package is missing locally; fail in CI."""
    path = shutil.which(binary)
    if path:
        return path
    message = f"{binary} not found: install Debian's {package} (apt-get install {package}) to run this test"
    if REQUIRE_SYSTEM_DEPS:
        pytest.fail(message)
    warnings.warn(message, stacklevel=2)
    pytest.skip(message)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from django.db import connection

    from articles.demo.loader import load_initial_data

    with django_db_blocker.unblock():
        report = load_initial_data()
        assert not report.errors, report.errors
        # Transactional (browser) tests flush the DB afterwards; demo_db restores this snapshot.
        if connection.vendor == "sqlite":
            import sqlite3

            connection.ensure_connection()
            snapshot = sqlite3.connect(":memory:", check_same_thread=False)
            connection.connection.backup(snapshot)
            _DEMO_SNAPSHOT.append(snapshot)


_DEMO_SNAPSHOT = []


@pytest.fixture
def demo_db(transactional_db):
    """The demo data in a transactional test (after an earlier one flushed the database)."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("browser tests run on the SQLite suite (make test)")
    if not get_user_model().objects.filter(username="operator").exists():
        connection.ensure_connection()
        _DEMO_SNAPSHOT[0].backup(connection.connection)  # exact copy of the session's demo DB
        ContentType.objects.clear_cache()
        # The snapshot puts SQLite's id counter back too, which a server never sees: search-log
        # ids this process reserved before it (insights.events) must not be handed out after.
        from insights import events

        events._search_ids.blocks.clear()


@pytest.fixture(autouse=True)
def vector_index_dir(settings, tmp_path):
    from embeddings.store import forget_all
    from search import service

    settings.KB_VECTOR_INDEX_DIR = tmp_path / "vector_index"
    forget_all()
    service._LOCALE_IDS = None
    yield settings.KB_VECTOR_INDEX_DIR
    forget_all()
    service._LOCALE_IDS = None


@pytest.fixture(autouse=True)
def default_language():
    """Every test starts in the site's default language: a test that activates Dutch or
    French (directly or through a view) must not make the next test's messages French."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def users(db):
    User = get_user_model()
    return {
        name: User.objects.get(username=name)
        for name in ("operator", "secondline", "manager", "admin")
    }


def logged_in(user):
    """A test client with `user` logged in (a session, as after the login form)."""
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def manager(users):
    """A test client logged in as the demo knowledge manager."""
    return logged_in(users["manager"])


@pytest.fixture
def operator(users):
    """A test client logged in as the demo operator."""
    return logged_in(users["operator"])


@pytest.fixture
def secondline(users):
    """A test client logged in as the demo second-line author (group Second line)."""
    return logged_in(users["secondline"])


@pytest.fixture
def admin(users):
    """A test client logged in as the demo administrator (a superuser, no group)."""
    return logged_in(users["admin"])


@pytest.fixture
def customer(db):
    """A logged-in user with no staff group: must be treated like the public."""
    return get_user_model().objects.create_user("customer", password="customer-pass-123")


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run transaction.on_commit callbacks (the index tasks) as a real commit would."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


@pytest.fixture
def article(db):
    def get(external_id, locale="en"):
        return SolutionArticlePage.objects.get(
            external_id=external_id, locale__language_code=locale
        )

    return get


def new_article(category, instruction, **fields):
    """An unpublished article with one resolution step (`instruction`, no expected result)
    added under the English category whose slug is `category`; `fields` set the rest."""
    from articles.models import CategoryPage

    parent = CategoryPage.objects.get(slug=category, locale__language_code="en")
    page = SolutionArticlePage(
        live=False,
        resolution=[("step", {"instruction": f"<p>{instruction}</p>", "expected_result": ""})],
        **fields,
    )
    parent.add_child(instance=page)
    return page


def publish(page, user=None):
    revision = page.save_revision(user=user)
    revision.publish(user=user)
    return page.__class__.objects.get(pk=page.pk)


CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
ARTIFACTS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "test-artifacts")


@pytest.fixture(scope="session")
def browser():
    executable = require_system("chromium", "chromium")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield instance
        instance.close()


@pytest.fixture
def browser_page(browser, live_server, demo_db):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def login_browser(browser_page, live_server):
    """Log a demo user into the browser through a real session cookie."""
    from django.test import Client

    def login(user):
        client = Client()
        client.force_login(user)
        browser_page.context.add_cookies(
            [
                {
                    "name": "sessionid",
                    "value": client.cookies["sessionid"].value,
                    "url": live_server.url,
                }
            ]
        )
        return browser_page

    return login


def screenshot(page, name):
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, f"{name}.png"), full_page=True)


def watch_wagtail_edit_tracking(page):
    """Record on each page load when Wagtail starts watching the editor form for edits.

    Wagtail takes the form's "unchanged" snapshot 2 s after its page loads; text typed before
    that snapshot counts as the starting state and is never autosaved. A person does not type
    a title within 2 s; a test must wait (`wait_until_wagtail_tracks_edits`) before typing."""
    page.add_init_script(
        "window.kbWatchingEdits = false;"
        "document.addEventListener('w-unsaved:watch-edits', () => {"
        " window.kbWatchingEdits = true; });"
    )


def wait_until_wagtail_tracks_edits(page):
    page.wait_for_function("window.kbWatchingEdits === true", timeout=30_000)


def wait_for_editor_idle(page):
    """Let Wagtail's autosave finish before pressing a footer action: a save still in flight
    when the form is submitted races the submission on a slow machine."""
    page.wait_for_timeout(800)  # longer than WAGTAIL_AUTOSAVE_INTERVAL (500 ms)
    page.wait_for_load_state("networkidle")
    page.wait_for_function(
        "() => { const i = document.querySelector('#w-autosave-indicator');"
        " return !i || i.getAttribute('data-w-autosave-state-value') !== 'saving'; }"
    )


def wait_for_message(page, text, timeout=30_000):
    """Wait for a Wagtail success message; on failure say what the page shows instead."""
    try:
        page.wait_for_selector(f".messages :text('{text}')", timeout=timeout)
    except Exception as error:
        shown = page.locator(".messages, .error-message, .help-critical, h1").all_inner_texts()
        screenshot(page, "failed-wait-for-message")
        raise AssertionError(
            f"no message containing {text!r} at {page.url}; the page shows: {shown}"
        ) from error
