"""Shared fixtures. The demo site (catalogue, roles, users, 72 articles) is loaded once per
test session into the test database and indexed with the real model; every test runs in a
transaction on top of it and gets its own vector-index directory (rebuilt from the DB
chunk table on first use, which is itself the recovery path under test)."""

import os
import shutil
import warnings

import pytest
from django.contrib.auth import get_user_model

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
        # Transactional (browser) tests flush the DB; serialized_rollback restores this state.
        connection._test_serialized_contents = connection.creation.serialize_db_to_string()


@pytest.fixture(autouse=True)
def vector_index_dir(settings, tmp_path):
    from embeddings.indexing import store
    from search import service

    settings.KB_VECTOR_INDEX_DIR = tmp_path / "vector_index"
    store.forget()
    service._LOCALE_IDS = None
    yield settings.KB_VECTOR_INDEX_DIR
    store.forget()
    service._LOCALE_IDS = None


@pytest.fixture
def users(db):
    User = get_user_model()
    return {
        name: User.objects.get(username=name)
        for name in ("operator", "secondline", "manager", "admin")
    }


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


def publish(page, user=None):
    revision = page.save_revision(user=user)
    revision.publish(user=user)
    return page.__class__.objects.get(pk=page.pk)
