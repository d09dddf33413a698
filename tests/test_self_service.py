"""Self-service for customers: search page, feedback, contact requests, and no internal leaks."""

import pytest
from django.test import Client

from articles.models import SolutionArticlePage
from insights.models import ArticleFeedback, ContactRequest
from tests.conftest import new_article, publish

pytestmark = [pytest.mark.model, pytest.mark.django_db]


def test_search_page_shows_results_with_marked_words_and_a_step_anchor(client):
    html = client.get("/en/search/", {"q": "paper stuck inside the printer"}).content.decode()
    assert "<mark>" in html
    assert "#step-" in html
    assert "Clear a paper jam" in html


def test_search_page_without_a_good_match_offers_topics_and_contact(client):
    html = client.get(
        "/nl/search/", {"q": "quantum chromodynamica roosterberekening"}
    ).content.decode()
    assert 'id="no-good-match"' in html or "Geen artikels gevonden" in html
    assert 'id="topics-heading"' in html
    assert "/nl/contact/" in html


def test_article_only_in_english_is_flagged_on_the_dutch_search_page(client):
    # The error message as the customer reads it on screen: the English article clearly answers.
    html = client.get("/nl/search/", {"q": "VPN error certificate expired"}).content.decode()
    assert '<p class="badge" lang="en">Enkel beschikbaar in EN</p>' in html


def test_search_page_rejects_bad_input_with_a_message(client):
    response = client.get("/fr/search/", {"q": "x" * 5000})
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()


def test_helpful_yes_is_recorded(client, article):
    page = article("demo-printer-offline")
    response = client.post("/en/feedback/", {"article": page.pk, "helpful": "yes"})
    assert response.status_code == 200
    assert ArticleFeedback.objects.get(article=page).helpful is True


def test_helpful_no_asks_a_reason_and_stores_a_clean_redacted_comment(client, article):
    page = article("demo-printer-offline", "nl")
    response = client.post("/nl/feedback/", {"article": page.pk, "helpful": "no"})
    assert response.status_code == 302
    details_url = response["Location"]
    assert 'name="reason"' in client.get(details_url).content.decode()
    client.post(
        details_url,
        {
            "reason": "did_not_work",
            "comment": "<script>alert(1)</script>Werkt niet, mail me op jan@example.be",
        },
    )
    feedback = ArticleFeedback.objects.get(article=page)
    assert not feedback.helpful and feedback.reason == "did_not_work"
    assert "<script" not in feedback.comment and "jan@example.be" not in feedback.comment
    assert "[EMAIL]" in feedback.comment


def test_only_the_visitor_who_said_no_can_add_the_reason(client, article):
    page = article("demo-printer-offline")
    details_url = client.post("/en/feedback/", {"article": page.pk, "helpful": "no"})["Location"]
    stranger = Client()
    assert stranger.get(details_url).status_code == 404
    assert stranger.post(details_url, {"reason": "outdated"}).status_code == 404


def test_contact_request_keeps_the_failed_search_trail(client, article):
    client.get("/api/v1/public/search/", {"q": "mijn decoder geeft foutcode", "locale": "nl"})
    client.get("/nl/search/", {"q": "tv decoder foutmelding E-202"})
    page = article("demo-wifi-cannot-connect", "nl")
    response = client.post(
        "/nl/contact/",
        {
            "name": "Jan Peeters",
            "email": "jan@example.be",
            "phone": "",
            "message": "Mijn decoder werkt nog steeds niet",
            "article": page.pk,
        },
    )
    assert response.status_code == 200
    request = ContactRequest.objects.get()
    assert request.article.pk == page.pk and request.locale == "nl"
    assert sorted(request.searches.values_list("query", flat=True)) == [
        "mijn decoder geeft foutcode",
        "tv decoder foutmelding E-202",
    ]


def test_contact_form_reports_missing_fields_and_stores_nothing(client):
    response = client.post("/en/contact/", {"name": "", "email": "not-an-email", "message": ""})
    assert response.status_code == 200
    assert response.content.decode().count('role="alert"') >= 2
    assert not ContactRequest.objects.exists()


def test_forms_are_rate_limited(client, settings, article, monkeypatch):
    import time
    from types import SimpleNamespace

    import django_ratelimit.core

    settings.RATELIMIT_ENABLE = True
    frozen = time.time()  # fixed windows: the 12 posts must not straddle a window's end
    monkeypatch.setattr(django_ratelimit.core, "time", SimpleNamespace(time=lambda: frozen))
    page = article("demo-printer-offline")
    statuses = [
        client.post("/en/feedback/", {"article": page.pk, "helpful": "yes"}).status_code
        for _ in range(12)
    ]
    assert statuses[:10] == [200] * 10 and statuses[-1] == 429
    assert ArticleFeedback.objects.count() == 10


def test_csrf_is_enforced_on_customer_forms(article):
    client = Client(enforce_csrf_checks=True)
    page = article("demo-printer-offline")
    assert client.post("/en/feedback/", {"article": page.pk, "helpful": "yes"}).status_code == 403
    assert (
        client.post("/en/contact/", {"name": "a", "email": "a@b.be", "message": "x"}).status_code
        == 403
    )


def test_language_switcher_stays_on_the_same_article(client, article):
    en, nl = article("demo-password-reset"), article("demo-password-reset", "nl")
    html = client.get(en.url).content.decode()
    assert f'href="{nl.url}"' in html


@pytest.fixture
def ledger_secret(db):
    """An internal article (not yet published) the public must never see."""
    return new_article(
        "billing-contracts",
        "Run the quibbletron override.",
        title="Month-end ledger override procedure",
        audience="internal",
        issue="zorblax reconciliation fails at month end",
    )


def test_internal_article_leaks_through_no_public_surface(client, run_on_commit, ledger_secret):
    parent = ledger_secret.get_parent()
    title = ledger_secret.title
    secret = run_on_commit(publish, ledger_secret)
    public_page = SolutionArticlePage.objects.get(
        external_id="demo-invoice-wrong-amount", locale__language_code="en"
    )
    public_page = public_page.get_latest_revision_as_object()
    from articles.models import ArticleRelatedLink

    public_page.related_links = [ArticleRelatedLink(related_page=secret)]
    run_on_commit(publish, public_page)

    surfaces = {
        "page": client.get(secret.url),
        "public api": client.get(
            "/api/v1/public/search/", {"q": "zorblax reconciliation fails", "limit": 50}
        ),
        "autocomplete-style api": client.get("/api/v1/public/search/", {"q": "zorbl", "limit": 50}),
        "search page": client.get("/en/search/", {"q": "zorblax reconciliation fails"}),
        "sitemap": client.get("/sitemap.xml"),
        "related list": client.get(public_page.url),
        "category": client.get(parent.url),
        "home": client.get("/en/"),
        "wagtail api": client.get("/api/v2/pages/", {"search": "zorblax"}),
        "contact form": client.get("/en/contact/", {"article": secret.pk}),
    }
    for name, response in surfaces.items():
        body = response.content.decode()
        assert title not in body and "quibbletron" not in body and secret.slug not in body, name
    assert client.post("/en/feedback/", {"article": secret.pk, "helpful": "no"}).status_code == 404
    assert not ArticleFeedback.objects.filter(article=secret).exists()


def test_the_leak_test_article_is_found_by_operators(operator, run_on_commit, ledger_secret):
    """Guards the test above: the same query does reach the article through the staff channel."""
    run_on_commit(publish, ledger_secret)
    data = operator.get(
        "/api/v1/search/", {"q": "zorblax reconciliation fails", "locale": "en"}
    ).json()
    assert data["results"][0]["title"] == "Month-end ledger override procedure"


def test_personal_data_typed_in_the_search_box_is_taken_out_of_the_url(client):
    response = client.get(
        "/nl/search/", {"q": "factuur fout, mail jan@example.be of bel 0475 12 34 56"}
    )
    assert response.status_code == 302
    assert "example.be" not in response["Location"] and "0475" not in response["Location"]
    assert client.get(response["Location"]).status_code == 200
