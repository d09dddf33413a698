"""Data-subject requests: privacy_export / privacy_erase and the admin screen, all logged
without the address in clear."""

import json
import logging
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from wagtail.models import ModelLogEntry

from insights.learning import apply_learning
from insights.models import (
    ArticleFeedback,
    ContactRequest,
    LearnedPhrasing,
    PhrasingEvidence,
    SearchEvent,
)
from insights.privacy import subject_hash
from tests.conftest import logged_in

pytestmark = pytest.mark.django_db

EMAIL = "Jan.Peeters@Example.be"


@pytest.fixture
def jan(client, article):
    """Jan searches, says an article did not help, then asks for contact; someone else
    mentions his address in their own request."""
    page = article("demo-printer-offline", "nl")
    client.get("/api/v1/public/search/", {"q": "printer blijft offline", "locale": "nl"})
    client.post("/en/feedback/", {"article": page.pk, "helpful": "yes"})
    client.post(
        "/en/contact/",
        {"name": "Jan Peeters", "email": EMAIL, "phone": "0470 12 34 56", "message": "Help!"},
    )
    other = ContactRequest.objects.create(
        locale="en",
        name="Marie",
        email="marie@example.be",
        message="My colleague jan.peeters@example.be has the same problem",
    )
    return SimpleJan(ContactRequest.objects.get(email=EMAIL), other)


class SimpleJan:
    def __init__(self, request, other):
        self.request, self.other = request, other


def _export(email=EMAIL):
    out = StringIO()
    call_command("privacy_export", email, stdout=out)
    return json.loads(out.getvalue())


def test_export_lists_everything_stored_about_the_address(jan):
    data = _export("jan.peeters@example.be")  # any case
    [request] = data["contact_requests"]
    assert (request["name"], request["email"], request["phone"]) == (
        "Jan Peeters",
        EMAIL,
        "0470 12 34 56",
    )
    assert [s["query"] for s in data["searches_before_contact"]] == ["printer blijft offline"]
    assert [f["helpful"] for f in data["feedback"]] == [True]
    # "Helpful: yes" after his search made his (redacted) wording evidence for the article.
    [learned] = data["wordings_learned_from_their_searches"]
    assert learned["wording"] == "printer blijft offline"
    # Marie's request names Jan: its id and date only, her data is not Jan's to read.
    assert data["mentioned_in_other_contact_requests"] == [
        {"id": jan.other.pk, "created_at": jan.other.created_at.isoformat()}
    ]
    assert "Marie" not in json.dumps(data)


def test_export_of_a_staff_address_lists_the_account(users):
    users["operator"].email = "op@example.be"
    users["operator"].save()
    [account] = _export("op@example.be")["staff_accounts"]
    assert account["username"] == "operator" and "Operators" in account["groups"]


def test_erase_deletes_the_requests_unlinks_the_trail_and_redacts_mentions(jan, caplog):
    apply_learning(reindex=False)  # his wording is now a candidate phrasing of the article
    assert LearnedPhrasing.objects.filter(text="printer blijft offline").exists()
    out = StringIO()
    with caplog.at_level(logging.INFO, logger="kb.privacy"):
        call_command("privacy_erase", EMAIL, "--yes", stdout=out)
    assert not ContactRequest.objects.filter(email__iexact=EMAIL).exists()
    search = SearchEvent.objects.get(query="printer blijft offline")
    assert search.session_key == ""  # kept for the statistics, no longer anyone's
    assert ArticleFeedback.objects.get().session_key == ""
    # What his search taught the learning search goes too.
    assert not PhrasingEvidence.objects.filter(text="printer blijft offline").exists()
    assert not LearnedPhrasing.objects.filter(text="printer blijft offline").exists()
    jan.other.refresh_from_db()
    assert jan.other.message == "My colleague [EMAIL] has the same problem"
    assert "contact requests deleted: 1" in out.getvalue()
    # Logged, with a keyed hash and never the address.
    assert subject_hash(EMAIL) in caplog.text and "example.be" not in caplog.text.lower()
    entry = ModelLogEntry.objects.get(action="kb.privacy_erase")
    assert entry.data["subject"] == subject_hash(EMAIL)
    assert "Jan" not in entry.label and "example.be" not in json.dumps(entry.data)
    assert _export()["contact_requests"] == []


def test_erase_asks_for_confirmation_and_rejects_a_non_address(jan, monkeypatch):
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    with pytest.raises(CommandError, match="Nothing erased"):
        call_command("privacy_erase", EMAIL)
    assert ContactRequest.objects.filter(email=EMAIL).exists()
    with pytest.raises(CommandError, match="Not an e-mail address"):
        call_command("privacy_erase", "not-an-address", "--yes")


def test_knowledge_managers_erase_from_the_admin_and_it_is_logged(jan, users):
    manager = logged_in(users["manager"])
    link = f"/admin/privacy-requests/?contact={jan.request.pk}"
    assert link in manager.get("/admin/contactrequest/").content.decode()
    page = manager.get(link)
    assert page.status_code == 200 and EMAIL in page.content.decode()
    lookup = manager.post("/admin/privacy-requests/", {"email": EMAIL, "action": "lookup"})
    assert 'id="privacy-summary"' in lookup.content.decode()
    download = manager.post("/admin/privacy-requests/", {"email": EMAIL, "action": "download"})
    assert json.loads(download.content)["contact_requests"][0]["name"] == "Jan Peeters"
    unconfirmed = manager.post("/admin/privacy-requests/", {"email": EMAIL, "action": "erase"})
    assert unconfirmed.status_code == 200 and ContactRequest.objects.filter(email=EMAIL).exists()
    done = manager.post(
        "/admin/privacy-requests/", {"email": EMAIL, "action": "erase", "confirm": "on"}
    )
    assert done.status_code == 302
    assert not ContactRequest.objects.filter(email=EMAIL).exists()
    entry = ModelLogEntry.objects.get(action="kb.privacy_erase")
    assert entry.user == users["manager"] and entry.data["subject"] == subject_hash(EMAIL)
    assert ModelLogEntry.objects.filter(action="kb.privacy_export").count() == 1


@pytest.mark.parametrize("role", ["operator", "secondline"])
def test_only_knowledge_managers_handle_data_subject_requests(users, role):
    staff = logged_in(users[role])
    assert staff.get("/admin/privacy-requests/").status_code in (302, 403)
    if role == "secondline":  # reads contact requests, but gets no export/erase action
        listing = staff.get("/admin/contactrequest/").content.decode()
        assert "/admin/privacy-requests/" not in listing
