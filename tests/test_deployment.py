"""Deployment: setup_site on an existing site, links built from the configured site, the
localhost deploy check, /healthz, the runtime/dev split of the pins, the systemd units.
(The whole production path from a fresh database: test_production_path.py.)"""

import json
import re
import shutil
import subprocess
from importlib import metadata
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from wagtail.models import GroupPagePermission, Site, WorkflowPage

from articles.checks import check_site_address
from articles.models import KnowledgeBaseHomePage
from articles.site_setup import setup_site
from embeddings.encoder import model_ids

ROOT = Path(__file__).resolve().parent.parent
DEV_ONLY = {"pytest", "pytest-django", "pytest-xdist", "playwright", "locust", "ruff", "hypothesis"}


def test_setup_site_twice_changes_nothing_but_the_address(db):
    setup_site(base_url="https://kb.example.test")
    before = (
        KnowledgeBaseHomePage.objects.count(),
        GroupPagePermission.objects.count(),
        WorkflowPage.objects.count(),
        Site.objects.count(),
    )
    report = setup_site(base_url="https://kb.example.test")
    assert not report.site_changed and report.homes_created == []
    after = (
        KnowledgeBaseHomePage.objects.count(),
        GroupPagePermission.objects.count(),
        WorkflowPage.objects.count(),
        Site.objects.count(),
    )
    assert after == before
    assert setup_site(hostname="kb2.example.test", port=8443).root_url == (
        "http://kb2.example.test:8443"
    )


@pytest.mark.parametrize(
    "argument, message",
    [
        ("kb.example.be", "base URL must look like"),
        ("ftp://kb.example.be", "base URL must look like"),
        ("https://kb.example.be:8443", "https links only for port 443"),
    ],
)
def test_setup_site_rejects_an_unusable_address_with_a_message(db, argument, message):
    with pytest.raises(CommandError, match=message):
        call_command("setup_site", "--base-url", argument)


def test_self_service_link_on_the_operator_card_uses_the_configured_site(operator, article):
    setup_site(base_url="https://kb.example.test")
    page = article("demo-password-reset")
    card = operator.get(f"/api/v1/articles/{page.pk}/").json()
    assert card["self_service_url"].startswith("https://kb.example.test/en/")
    assert card["self_service_url"].endswith(page.url)


def test_deploy_check_warns_while_the_site_says_localhost(db, settings):
    settings.WAGTAILADMIN_BASE_URL = "https://kb.example.test"
    setup_site(base_url="http://localhost:8000")
    assert [w.id for w in check_site_address()] == ["kb.W003"]
    setup_site(base_url="https://kb.example.test")
    assert check_site_address() == []
    settings.WAGTAILADMIN_BASE_URL = "http://127.0.0.1:8000"
    assert [w.id for w in check_site_address()] == ["kb.W001"]


def test_healthz_reports_database_indexes_and_worker_without_secrets(db, settings):
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert data["database"]["ok"] is True
    assert set(data["vector_index"]) == {"en", "nl", "fr"}
    assert set(data["vector_index"]["nl"]["models"]) == set(model_ids())
    assert data["worker"]["backend"] and "lag_seconds" in data["worker"]
    assert data["status"] in {"ok", "degraded"}
    raw = json.dumps(data)
    assert settings.SECRET_KEY not in raw and str(settings.KB_VECTOR_INDEX_DIR) not in raw


def _runtime_closure():
    """Every distribution the installed project needs at run time (no extras)."""
    names, todo = (
        set(),
        [Requirement(r) for r in metadata.requires("helpdesk-kb") if "extra ==" not in r],
    )
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in names:
            continue
        names.add(name)
        for line in metadata.distribution(requirement.name).requires or []:
            dependency = Requirement(line)
            if dependency.marker is None or any(
                dependency.marker.evaluate({"extra": extra}) for extra in ("", *requirement.extras)
            ):
                todo.append(dependency)
    return names


def _pins(path):
    return {
        canonicalize_name(line.split("==")[0])
        for line in path.read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }


def test_runtime_pins_cover_every_runtime_dependency_and_no_dev_tool():
    runtime, dev = _pins(ROOT / "constraints.txt"), _pins(ROOT / "constraints-dev.txt")
    needed = _runtime_closure() - {"helpdesk-kb", "torch", "setuptools"}  # torch: Makefile
    assert needed - runtime == set()
    assert DEV_ONLY & runtime == set()
    assert DEV_ONLY <= dev
    assert "-c constraints.txt" in (ROOT / "constraints-dev.txt").read_text()


def test_systemd_units_pass_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze not installed (Debian's systemd package)")
    (tmp_path / "kb.env").write_text((ROOT / "deploy" / "kb.env.example").read_text())
    units = []
    for unit in sorted((ROOT / "deploy" / "systemd").glob("*.service")):
        text = unit.read_text()
        # The units name /srv/kb/app; verify checks that the programs exist, so point there.
        text = text.replace("/srv/kb/app", str(ROOT)).replace("/srv/kb/var", str(tmp_path))
        text = text.replace("/etc/kb/kb.env", str(tmp_path / "kb.env"))
        (tmp_path / unit.name).write_text(text)
        units.append(str(tmp_path / unit.name))
    assert len(units) == 2
    result = subprocess.run(
        [analyze, "verify", *units], capture_output=True, text=True, timeout=120
    )
    problems = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if line.strip() and not re.search(r"Failed to (connect|open)|bus", line, re.I)
    ]
    assert result.returncode == 0 and problems == [], result.stdout + result.stderr


def test_healthz_is_down_while_the_database_lacks_a_migration(db):
    """A server on a database an older release left behind answered 500 on every article
    page (no such table) while /healthz said ready; it must say down and name what is missing."""
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.recorder import MigrationRecorder

    assert Client().get("/healthz").status_code == 200
    (newest,) = MigrationLoader(None).graph.leaf_nodes("articles")
    MigrationRecorder(connection).record_unapplied(*newest)
    response = Client().get("/healthz")
    assert response.status_code == 503
    data = response.json()
    assert data["status"] == "down"
    assert data["database"]["pending"] == [".".join(newest)]
