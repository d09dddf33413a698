"""Known problems in the admin: declared from the knowledge-gap and recurring-problem reports
on a prefilled form, the known-problems report's first-rise and banner figures, the banner
click, and integration API keys created, listed and revoked in the admin."""

import datetime
import hashlib
import html
import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.utils import timezone

from incidents import early_warnings, services
from incidents.models import ApiKey, Deflection, IncidentLink, KnownProblem
from insights.models import CallOutcome, SearchEvent
from tests.conftest import logged_in
from tests.test_reports import backdate, operator_search, record, screen_tables

pytestmark = [pytest.mark.django_db]

DECLARE_LINK = re.compile(r'href="([^"]+)"[^>]*data-action="declare"')


@pytest.fixture
def e301():
    return KnownProblem.objects.get(title_en__startswith="TV decoder error E-301")


# --- declare from the reports ------------------------------------------------------------------


@pytest.mark.model
def test_declare_from_a_rising_problem_opens_the_form_with_its_services(manager, operator, article):
    growing = article("demo-sim-puk-blocked")
    for days_ago in [20] + [2] * 6:
        search = operator_search(operator, growing.title)
        outcome_id = record(operator, "solved", search, growing)
        backdate(CallOutcome, outcome_id, days_ago)
        backdate(SearchEvent, search["search_id"], days_ago)
    page = manager.get("/admin/kb-reports/recurring-problems/").content.decode()
    rising = screen_tables(page)["Rising problems"]
    row = next(r for r in rising[1:] if r[1] == f"{growing.title} [en]")
    assert row[-1] == "Declare known problem"
    links = [html.unescape(u) for u in DECLARE_LINK.findall(page)]
    link = next(u for u in links if parse_qs(urlparse(u).query).get("title") == [growing.title])
    form = manager.get(link).context["form"]
    assert form["title_en"].value() == growing.title
    chosen = {s.translation_key for s in form.instance.services.all()}
    assert chosen == {s.translation_key for s in growing.services.all()} != set()
    assert not KnownProblem.objects.filter(title_en=growing.title).exists()  # not saved yet


@pytest.mark.model
def test_declare_from_a_knowledge_gap_topic_opens_the_prefilled_form(manager):
    asked = ["desk phone stuck on registering", "Desk phone stuck on registering!"] * 2
    SearchEvent.objects.bulk_create(
        SearchEvent(channel="public", locale="en", query=q, no_good_match=True) for q in asked
    )
    page = manager.get("/admin/kb-reports/knowledge-gaps/").content.decode()
    links = [html.unescape(u) for u in DECLARE_LINK.findall(page)]
    link = next(u for u in links if "registering" in u)
    form = manager.get(link).context["form"]
    assert form["title_en"].value().casefold().startswith("desk phone stuck on registering")
    assert "- desk phone stuck on registering" in form["internal_notes"].value().casefold()
    assert form["status"].value() == KnownProblem.STATUS_INVESTIGATING
    assert not KnownProblem.objects.filter(title_en__icontains="registering").exists()


def test_operators_cannot_open_the_declare_form(operator):
    assert operator.get("/admin/snippets/incidents/knownproblem/add/").status_code in (302, 403)


# --- the known-problems report -------------------------------------------------------------------


def test_report_shows_time_from_first_rise_to_declaration_and_banner_clicks(client, manager, users):
    now = timezone.now()
    problem = KnownProblem.objects.create(
        title_en="Desk phones do not register",
        is_public=True,
        started_at=now - datetime.timedelta(minutes=50),
    )
    warning = early_warnings.raise_warning(
        topic="desk phone stuck on registering",
        examples=["desk phone stuck on registering"],
        observed=9,
        expected=0.3,
        window_minutes=20,
        first_rise_at=now - datetime.timedelta(minutes=50),
    )
    early_warnings.declare(warning, problem, users["secondline"], now=now)
    # A customer follows the banner to the status page; the page records it once.
    response = client.get("/en/status/", {"from": "banner", "kp": problem.pk})
    assert response.status_code == 302 and response["Location"] == "/en/status/"
    assert client.get(response["Location"]).status_code == 200
    services.record_deflection(problem, "en")  # and one 'still need help' form not sent
    csv = manager.get("/admin/kb-reports/known-problems/", {"period": "7", "export": "csv"})
    row = next(
        line.split(",")
        for line in csv.content.decode().splitlines()
        if line.startswith("Desk phones do not register")
    )
    assert row[8] == "1"  # contacts prevented by the form
    assert row[10:] == ["50", "1"]  # minutes from first rise to declaration, banner clicks
    assert Deflection.objects.get(source=Deflection.SOURCE_BANNER).known_problem == problem


def test_the_banner_links_to_the_status_page_with_its_problems(client, e301):
    home = client.get("/en/").content.decode()
    link = re.search(r'href="([^"]+)" data-testid="known-problem-banner-link"', home)
    assert link and f"kp={e301.pk}" in html.unescape(link.group(1))
    client.get(html.unescape(link.group(1)))
    assert e301.deflections.filter(source=Deflection.SOURCE_BANNER).count() == 1


def test_a_banner_click_for_a_resolved_or_unknown_problem_counts_nothing(client, e301):
    services.change_status(e301, KnownProblem.STATUS_RESOLVED)
    client.get("/en/status/", {"from": "banner", "kp": [e301.pk, "x", 10**30]})
    assert not Deflection.objects.filter(source=Deflection.SOURCE_BANNER).exists()


# --- integration API keys in the admin ----------------------------------------------------


def test_a_manager_creates_a_key_in_the_admin_and_sees_it_once(manager, client, e301):
    response = manager.post(
        "/admin/snippets/incidents/apikey/add/",
        {"name": "Ticketing (TopDesk)", "scopes": ["link"]},
        follow=True,
    )
    page = response.content.decode()
    raw = re.search(r"(kb_[A-Za-z0-9_-]{40,})", page).group(1)
    key = ApiKey.objects.get(name="Ticketing (TopDesk)")
    assert key.scopes == ["link"] and key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in manager.get("/admin/snippets/incidents/apikey/").content.decode()
    assert (
        raw not in manager.get(f"/admin/snippets/incidents/apikey/edit/{key.pk}/").content.decode()
    )
    linked = client.post(
        "/api/v1/integration/links/",
        {"ticket_reference": "INC-777", "known_problem_id": e301.pk},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert linked.status_code == 201


def test_a_key_revoked_in_the_admin_is_rejected_by_the_api(manager, client, e301):
    key, raw = services.create_api_key("Ticketing", ["link"])
    listing = manager.get("/admin/snippets/incidents/apikey/").content.decode()
    assert f"/admin/integration-keys/{key.pk}/revoke/" in listing
    confirm = manager.get(f"/admin/integration-keys/{key.pk}/revoke/")
    assert confirm.status_code == 200 and "Ticketing" in confirm.content.decode()
    assert manager.post(f"/admin/integration-keys/{key.pk}/revoke/").status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    response = client.post(
        "/api/v1/integration/links/",
        {"ticket_reference": "INC-778", "known_problem_id": e301.pk},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert response.status_code == 401 and "revoked" in response.json()["error"]
    assert not IncidentLink.objects.filter(ticket_reference="INC-778").exists()


def test_second_line_cannot_create_or_revoke_keys(users):
    second = logged_in(users["secondline"])
    key, _raw = services.create_api_key("Ticketing", ["link"])
    assert second.post(
        "/admin/snippets/incidents/apikey/add/", {"name": "x", "scopes": ["link"]}
    ).status_code in (302, 403)
    assert second.post(f"/admin/integration-keys/{key.pk}/revoke/").status_code in (302, 403)
    key.refresh_from_db()
    assert key.revoked_at is None
