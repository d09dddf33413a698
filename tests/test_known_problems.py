"""Known problems (incidents/): matching on both APIs and the self-service page, banners,
status page, linking with ticket references, integration API keys, signed webhooks."""

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django.utils.html import escape

from incidents import services, webhooks
from incidents.models import (
    ApiKey,
    IncidentLink,
    KnownProblem,
    WebhookDelivery,
    WebhookEndpoint,
)
from insights.models import CallOutcome

pytestmark = [pytest.mark.django_db]

E301_QUESTIONS = [
    ("en", "tv box shows error E-301 and all channels are black"),
    ("nl", "tv decoder geeft zwart beeld en foutcode E-301"),
    ("fr", "décodeur erreur E-301 écran noir"),
]


@pytest.fixture
def e301():
    return KnownProblem.objects.get(title_en__startswith="TV decoder error E-301")


@pytest.fixture
def internal_problem():
    return KnownProblem.objects.get(title_en__startswith="Payment reminders sent twice")


# --- demo data ----------------------------------------------------------------------------


def test_demo_has_active_public_internal_and_resolved_problems(e301, internal_problem):
    assert e301.is_public and e301.is_active and e301.title_nl and e301.title_fr
    assert not internal_problem.is_public and internal_problem.is_active
    assert KnownProblem.objects.filter(status=KnownProblem.STATUS_RESOLVED).count() >= 2
    assert e301.links.count() > 0
    assert [c.to_status for c in e301.status_changes.all()] == [
        "investigating",
        "identified",
        "workaround",
    ]


# --- matching on both APIs and the self-service page --------------------------------------


@pytest.mark.model
@pytest.mark.parametrize("locale,question", E301_QUESTIONS)
def test_e301_question_returns_the_known_problem_on_both_apis(
    client, users, e301, locale, question
):
    public = client.get("/api/v1/public/search/", {"q": question, "locale": locale}).json()
    assert public["known_problems"][0]["id"] == e301.pk
    assert public["known_problems"][0]["title"] == e301.title_in(locale)
    assert public["known_problems"][0]["status"] == "workaround"
    assert public["known_problems"][0]["started_at"] == e301.started_at.isoformat()
    assert [s["slug"] for s in public["known_problems"][0]["services"]] == ["tv-decoder"]
    client.force_login(users["operator"])
    operator = client.get("/api/v1/search/", {"q": question, "locale": locale}).json()
    assert operator["known_problems"][0]["id"] == e301.pk
    assert operator["known_problems"][0]["title"] == e301.title_in(locale)


@pytest.mark.model
def test_outage_described_without_the_code_matches_by_meaning(client, e301):
    data = client.get(
        "/api/v1/public/search/",
        {"q": "all tv channels black on the decoder", "locale": "en"},
    ).json()
    assert [p["id"] for p in data["known_problems"]] == [e301.pk]
    assert data["known_problems"][0]["matched_by"] == "meaning"


@pytest.mark.model
@pytest.mark.parametrize(
    "locale,question",
    [
        ("nl", "alle tv-zenders zijn zwart op de decoder"),
        ("fr", "toutes les chaînes télé sont noires sur le décodeur"),
    ],
)
def test_dutch_and_french_outage_without_the_code_match_by_meaning_on_both_apis(
    client, users, e301, locale, question
):
    # Compared in the space of the model that served the search (multilingual e5 for nl/fr),
    # with that model's own threshold.
    public = client.get("/api/v1/public/search/", {"q": question, "locale": locale}).json()
    assert [(p["id"], p["matched_by"]) for p in public["known_problems"]] == [(e301.pk, "meaning")]
    client.force_login(users["operator"])
    operator = client.get("/api/v1/search/", {"q": question, "locale": locale}).json()
    assert e301.pk in [p["id"] for p in operator["known_problems"]]
    assert operator["known_problems"][0]["title"] == e301.title_in(locale)


@pytest.mark.model
@pytest.mark.parametrize(
    "locale,question",
    [("nl", "mijn printer staat offline"), ("fr", "mon imprimante est hors ligne")],
)
def test_unrelated_dutch_or_french_question_carries_no_known_problem(client, locale, question):
    data = client.get("/api/v1/public/search/", {"q": question, "locale": locale}).json()
    assert data["known_problems"] == []


@pytest.mark.model
def test_unrelated_question_carries_no_known_problem(client):
    data = client.get(
        "/api/v1/public/search/", {"q": "my printer says it is offline", "locale": "en"}
    ).json()
    assert data["known_problems"] == []


@pytest.mark.model
def test_internal_problem_only_for_operators(client, users, internal_problem):
    question = "customer got the same payment reminder twice although he pays by direct debit"
    public = client.get("/api/v1/public/search/", {"q": question, "locale": "en"}).json()
    assert internal_problem.pk not in [p["id"] for p in public["known_problems"]]
    client.force_login(users["operator"])
    operator = client.get("/api/v1/search/", {"q": question, "locale": "en"}).json()
    assert internal_problem.pk in [p["id"] for p in operator["known_problems"]]


@pytest.mark.model
def test_service_filter_brings_the_services_problems(operator, e301):
    data = operator.get(
        "/api/v1/search/",
        {"q": "customer calls about his box", "locale": "nl", "service": "tv-decoder"},
    ).json()
    assert e301.pk in [p["id"] for p in data["known_problems"]]


@pytest.mark.model
def test_resolved_problem_no_longer_matches(client, e301):
    services.change_status(e301, KnownProblem.STATUS_RESOLVED)
    data = client.get("/api/v1/public/search/", {"q": "decoder error E-301", "locale": "en"}).json()
    assert data["known_problems"] == []


@pytest.mark.model
@pytest.mark.parametrize("locale,question", E301_QUESTIONS)
def test_self_service_search_page_shows_the_known_problem_first(client, e301, locale, question):
    html = client.get(f"/{locale}/search/", {"q": question}).content.decode()
    title = escape(e301.title_in(locale))
    matches, results = html.index('id="public-known-problems"'), html.index('id="public-results"')
    assert matches < html.index(title, matches) < results


# --- banners and status page ---------------------------------------------------------------


def _article_on(service_slug, locale="en"):
    from articles.models import SolutionArticlePage

    return (
        SolutionArticlePage.objects.live()
        .filter(audience="public", services__slug=service_slug, locale__language_code=locale)
        .first()
    )


@pytest.mark.parametrize("locale", ["nl", "fr", "en"])
def test_banner_on_home_and_search_while_active(client, e301, locale):
    for url in (f"/{locale}/", f"/{locale}/search/"):
        html = client.get(url).content.decode()
        assert 'data-testid="known-problem-banner"' in html, url
        assert escape(e301.title_in(locale)) in html
        assert escape(e301.workaround_in(locale)) in html


def test_banner_on_affected_articles_only(client, e301):
    from articles.models import Service

    article = _article_on("printing")
    e301.services.add(Service.objects.get(slug="printing", locale__language_code="en"))
    e301.save()
    assert e301.title_en in client.get(article.url).content.decode()
    other = _article_on("workplace-accounts")
    assert "known-problem-banner" not in client.get(other.url).content.decode()


def test_resolving_removes_the_banners(client, e301):
    from articles.models import Service

    e301.services.add(Service.objects.get(slug="printing", locale__language_code="en"))
    e301.save()
    article = _article_on("printing")
    urls = ["/en/", "/nl/search/", article.url]
    assert all(
        e301.title_en in client.get(u).content.decode()
        or e301.title_nl in client.get(u).content.decode()
        for u in urls
    )
    services.change_status(e301, KnownProblem.STATUS_RESOLVED)
    for url in urls:
        assert "known-problem-banner" not in client.get(url).content.decode(), url


def test_status_page_lists_current_and_recent_in_the_language(client, e301, internal_problem):
    html = client.get("/fr/status/").content.decode()
    current = html[: html.index('id="recent-heading"')]
    assert escape(e301.title_fr) in current
    assert internal_problem.title_fr not in html  # internal problems never on customer pages
    recent = html[html.index('id="recent-heading"') :]
    assert "Panne de la passerelle VPN" in recent


# --- linking and ticket references -----------------------------------------------------------


def _outcome(client, **body):
    return client.post("/api/v1/outcomes/", body, content_type="application/json")


def test_console_link_records_the_ticket_reference(client, users, e301):
    client.force_login(users["operator"])
    resp = _outcome(
        client,
        outcome="known_problem",
        known_problem_id=e301.pk,
        ticket_reference="INC-778899",
        query="decoder E-301 again, call me on 0475 12 34 56",
        locale="en",
    )
    assert resp.status_code == 201
    outcome = CallOutcome.objects.get(pk=resp.json()["id"])
    assert (outcome.known_problem, outcome.ticket_reference) == (e301, "INC-778899")
    link = IncidentLink.objects.get(ticket_reference="INC-778899")
    assert (link.known_problem, link.user, link.source) == (e301, users["operator"], "console")
    assert "0475" not in link.query  # redacted like every logged query


def test_every_outcome_takes_an_optional_ticket_reference(operator, article):
    page = article("demo-printer-offline")
    solved = _outcome(operator, outcome="solved", article_id=page.pk, ticket_reference="INC-1")
    assert CallOutcome.objects.get(pk=solved.json()["id"]).ticket_reference == "INC-1"
    plain = _outcome(operator, outcome="no_article", note="nothing found")
    assert CallOutcome.objects.get(pk=plain.json()["id"]).ticket_reference == ""


def test_bad_ticket_reference_is_a_clear_400(client, users, e301):
    client.force_login(users["operator"])
    resp = _outcome(
        client, outcome="known_problem", known_problem_id=e301.pk, ticket_reference="call me maybe"
    )
    assert resp.status_code == 400
    assert "ticket reference" in resp.json()["error"]
    assert not IncidentLink.objects.filter(
        known_problem=e301, source="console", user=users["operator"]
    ).exists()


def test_resolved_or_unknown_problem_cannot_be_linked(operator, e301):
    services.change_status(e301, KnownProblem.STATUS_RESOLVED)
    assert _outcome(operator, outcome="known_problem", known_problem_id=e301.pk).status_code == 404
    assert _outcome(operator, outcome="known_problem").status_code == 404


def test_ticket_pattern_is_configurable(settings):
    settings.KB_TICKET_REFERENCE_PATTERN = r"\d{8}"
    assert services.clean_ticket_reference("12345678") == "12345678"
    with pytest.raises(services.ValidationError):
        services.clean_ticket_reference("INC-1234")


def test_customers_cannot_link(client, e301):
    resp = _outcome(client, outcome="known_problem", known_problem_id=e301.pk)
    assert resp.status_code == 401


# --- integration API keys ---------------------------------------------------------------------


@pytest.fixture
def api_key():
    return services.create_api_key("Ticketing", ["suggest", "link"])


def _link(client, key, **body):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    return client.post(
        "/api/v1/integration/links/", body, content_type="application/json", **headers
    )


def test_api_key_is_stored_hashed(api_key):
    key, raw = api_key
    assert raw not in json.dumps(list(ApiKey.objects.values()), default=str)
    assert key.key_hash == hashlib.sha256(raw.encode()).hexdigest()


def test_integration_api_rejects_a_missing_key(client, e301):
    resp = _link(client, None, ticket_reference="INC-1", known_problem_id=e301.pk)
    assert resp.status_code == 401 and "API key" in resp.json()["error"]


def test_integration_api_rejects_a_revoked_key(client, api_key, e301):
    key, raw = api_key
    services.revoke_api_key(key)
    resp = _link(client, raw, ticket_reference="INC-1", known_problem_id=e301.pk)
    assert resp.status_code == 401 and "revoked" in resp.json()["error"]
    assert not IncidentLink.objects.filter(ticket_reference="INC-1").exists()


def test_integration_api_rejects_a_key_without_the_scope(client, e301):
    _key, raw = services.create_api_key("Suggest only", ["suggest"])
    resp = _link(client, raw, ticket_reference="INC-1", known_problem_id=e301.pk)
    assert resp.status_code == 403


def test_integration_links_a_ticket_to_a_known_problem_and_an_article(
    client, api_key, e301, article
):
    key, raw = api_key
    resp = _link(client, raw, ticket_reference="INC-4242", known_problem_id=e301.pk)
    assert resp.status_code == 201
    link = IncidentLink.objects.get(pk=resp.json()["id"])
    assert (link.known_problem, link.ticket_reference, link.api_key) == (e301, "INC-4242", key)
    page = article("demo-printer-offline")
    resp = _link(client, raw, ticket_reference="INC-4243", article_id=page.pk)
    assert resp.status_code == 201
    assert IncidentLink.objects.get(pk=resp.json()["id"]).article_id == page.pk
    assert _link(client, raw, ticket_reference="INC-4244").status_code == 400


@pytest.mark.model
def test_integration_suggestions_for_a_ticket(client, api_key, e301):
    _key, raw = api_key
    resp = client.get(
        "/api/v1/integration/suggestions/",
        {"text": "Klant meldt: decoder foutmelding E-301, alle zenders zwart", "locale": "nl"},
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert resp.status_code == 200
    data = resp.json()
    assert data["known_problems"][0]["id"] == e301.pk
    assert "results" in data
    assert client.get("/api/v1/integration/suggestions/", {"text": "x"}).status_code == 401


@pytest.mark.model
def test_integration_suggests_internal_articles_the_public_api_never_returns(client, api_key):
    # The ticketing system is used by agents: staff visibility, internal articles included.
    _key, raw = api_key
    text = "customer says someone else ordered on his account, fraud"
    resp = client.get(
        "/api/v1/integration/suggestions/",
        {"text": text, "locale": "en"},
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert resp.status_code == 200
    suggested = {r["external_id"]: r for r in resp.json()["results"][:3]}
    assert "demo-internal-fraud-check" in suggested
    assert suggested["demo-internal-fraud-check"]["audience"] == "internal"
    public = client.get("/api/v1/public/search/", {"q": text, "locale": "en", "limit": 50})
    assert "demo-internal-fraud-check" not in [r["external_id"] for r in public.json()["results"]]


# --- webhooks ---------------------------------------------------------------------------------


class _Receiver(BaseHTTPRequestHandler):
    """Answers with the next status in `responses`; keeps every request it got."""

    responses = []
    received = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.headers, body))
        status = type(self).responses.pop(0) if type(self).responses else 200
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    _Receiver.responses, _Receiver.received = [], []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield _Receiver, f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()


def test_status_change_webhook_is_signed_retried_with_backoff_and_logged(
    receiver, e301, django_capture_on_commit_callbacks
):
    handler, url = receiver
    handler.responses = [500, 503, 200]
    WebhookEndpoint.objects.create(name="Ticketing", url=url, secret="s3cret")
    with django_capture_on_commit_callbacks(execute=True):
        services.change_status(e301, KnownProblem.STATUS_RESOLVED)
    delivery = WebhookDelivery.objects.get(known_problem=e301)
    # First attempt ran right after the commit and failed: waits one back-off step.
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    first_wait = delivery.next_attempt_at
    assert webhooks.deliver_due(now=first_wait - timedelta(seconds=1)) == 0  # not yet due
    webhooks.deliver_due(now=first_wait)
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_status_code) == (2, 503)
    assert delivery.next_attempt_at - first_wait == timedelta(seconds=120)  # doubled
    webhooks.deliver_due(now=delivery.next_attempt_at)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 3)
    assert [a.status_code for a in delivery.log.all()] == [500, 503, 200]
    headers, body = handler.received[-1]
    expected = hmac.new(
        b"s3cret", headers["X-KB-Timestamp"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    assert headers["X-KB-Signature"] == f"sha256={expected}"
    payload = json.loads(body)
    assert payload["event"] == "known_problem.status_changed"
    assert payload["known_problem"]["status"] == "resolved"
    assert payload["known_problem"]["previous_status"] == "workaround"
    assert len(payload["linked_tickets"]) > 0


def test_webhook_gives_up_after_the_last_attempt(
    settings, e301, django_capture_on_commit_callbacks
):
    settings.KB_WEBHOOK_MAX_ATTEMPTS = 2
    WebhookEndpoint.objects.create(name="Gone", url="http://127.0.0.1:9/nothing", secret="x")
    with django_capture_on_commit_callbacks(execute=True):
        services.change_status(e301, KnownProblem.STATUS_IDENTIFIED)
    delivery = WebhookDelivery.objects.get(known_problem=e301)
    webhooks.deliver_due(now=timezone.now() + timedelta(hours=1))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 2)
    assert delivery.log.count() == 2 and delivery.last_error


def test_status_history_records_every_step(e301, users):
    services.change_status(e301, KnownProblem.STATUS_RESOLVED, user=users["secondline"])
    last = e301.status_changes.last()
    assert (last.from_status, last.to_status, last.changed_by) == (
        "workaround",
        "resolved",
        users["secondline"],
    )
    e301.refresh_from_db()
    assert e301.ended_at is not None


# --- admin ------------------------------------------------------------------------------------


def test_second_line_manages_known_problems_in_the_admin(client, users, e301):
    client.force_login(users["secondline"])
    listing = client.get("/admin/snippets/incidents/knownproblem/")
    assert listing.status_code == 200 and e301.title_en in listing.content.decode()
    edit = client.get(f"/admin/snippets/incidents/knownproblem/edit/{e301.pk}/")
    assert edit.status_code == 200
    assert 'data-testid="status-history"' in edit.content.decode()
    client.force_login(users["operator"])
    assert client.get("/admin/snippets/incidents/knownproblem/").status_code in (302, 403)


def test_ticket_references_are_searchable_in_the_admin(client, users, e301):
    services.link(known_problem=e301, ticket_reference="INC-9191", source="console")
    client.force_login(users["operator"])
    _outcome(client, outcome="no_article", note="x", ticket_reference="INC-9292")
    client.force_login(users["manager"])
    html = client.get("/admin/snippets/incidents/incidentlink/", {"q": "INC-9191"}).content.decode()
    assert "INC-9191" in html
    html = client.get("/admin/calloutcome/", {"q": "INC-9292"}).content.decode()
    assert "INC-9292" in html


def test_example_receiver_accepts_our_signature_and_rejects_a_forged_one(monkeypatch):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "docs/examples/ticketing_receiver.py"
    spec = importlib.util.spec_from_file_location("ticketing_receiver", path)
    receiver = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(receiver)
    monkeypatch.setattr(receiver, "SECRET", b"s3cret")
    body = b'{"event": "known_problem.status_changed"}'
    assert receiver.signature_ok("1700000000", body, webhooks.sign("s3cret", "1700000000", body))
    assert not receiver.signature_ok("1700000000", body, webhooks.sign("other", "1700000000", body))


def test_declare_a_known_problem_from_a_report_topic(client, users):
    client.force_login(users["secondline"])
    resp = client.post(
        "/admin/known-problems/declare/",
        {
            "title": "desk phone stuck on registering",
            "locale": "en",
            "phrasing": ["no dial tone on the office phone", "desk phone stuck on registering"],
        },
    )
    problem = KnownProblem.objects.get(title_en="desk phone stuck on registering")
    assert resp.status_code == 302 and str(problem.pk) in resp["Location"]
    assert not problem.is_public and problem.status == KnownProblem.STATUS_INVESTIGATING
    assert "no dial tone on the office phone" in problem.internal_notes
    assert problem.status_changes.get().changed_by == users["secondline"]
    client.force_login(users["operator"])
    assert client.post("/admin/known-problems/declare/", {"title": "x"}).status_code in (302, 403)


# --- 'still need help': the known problem first, the prevented contact counted --------------


@pytest.mark.model
def test_contact_form_shows_the_known_problem_and_counts_the_prevented_contact(client, e301):
    form = {"name": "An", "email": "an@example.be", "message": "Mijn decoder geeft foutcode E-301"}
    html = client.post("/nl/contact/", form).content.decode()
    assert 'data-testid="known-problem-deflection"' in html
    assert escape(e301.title_nl) in html
    assert 'id="contact-done"' not in html  # not sent yet
    client.post("/nl/status/deflected/", {"known_problem": e301.pk})
    assert e301.deflections.get().locale == "nl"
    sent = client.post("/nl/contact/", {**form, "confirm": "send"}).content.decode()
    assert 'id="contact-done"' in sent


def test_known_problems_report_counts_links_declaration_time_and_prevented_contacts(manager, e301):
    services.record_deflection(e301, "nl")
    resp = manager.get("/admin/kb-reports/known-problems/", {"period": "7"})
    assert resp.status_code == 200
    csv = manager.get("/admin/kb-reports/known-problems/", {"period": "7", "export": "csv"})
    text = csv.content.decode()
    row = next(line for line in text.splitlines() if line.startswith("TV decoder error E-301"))
    cells = row.split(",")
    # 25 minutes to declare, 12 demo links (6 console, 6 integration), 1 prevented contact.
    assert cells[5:9] == ["25", "6", "6", "1"]


def test_the_worker_retries_a_due_webhook_delivery(
    receiver, e301, django_capture_on_commit_callbacks
):
    """`run_worker --once` is what retries a failed delivery in production: no separate cron."""
    handler, url = receiver
    handler.responses = [503, 200]
    WebhookEndpoint.objects.create(name="Ticketing", url=url, secret="s3cret")
    with django_capture_on_commit_callbacks(execute=True):
        services.change_status(e301, KnownProblem.STATUS_RESOLVED)
    delivery = WebhookDelivery.objects.get(known_problem=e301)
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    delivery.next_attempt_at = timezone.now() - timedelta(seconds=1)
    delivery.save(update_fields=["next_attempt_at"])
    call_command(
        "run_worker", "--once", "--job", "deliver_webhooks", "--no-tasks", stdout=StringIO()
    )
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
