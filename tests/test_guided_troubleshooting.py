"""Guided troubleshooting for customers (articles/guide.py): the operator's phone script stays
off public pages; customers walk the same tree in their own words, and the path they took
arrives with their contact request."""

import re
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from articles.guide import customer_scripts, walk
from articles.models import CategoryPage, EscalationTeam, SolutionArticlePage
from insights.models import ArticleFeedback, ContactRequest

pytestmark = [pytest.mark.model, pytest.mark.django_db]

# Operator wording of the demo scripts, in nl/fr/en, that must never reach a customer.
OPERATOR_WORDS = ["the caller", "de beller", "l'appelant", "Escalate to", "Escaleren naar"]
OPERATOR_WORDS += ["Escalader", "Next question", "Volgende vraag", "Question suivante"]


def _public_articles_with_scripts():
    pages = SolutionArticlePage.objects.live().visible_to_public().specific()
    return [p for p in pages if p.diagnosis_scripts]


def _assert_nothing_internal(html, where):
    teams = list(EscalationTeam.objects.values_list("name", flat=True))
    assert teams, "the demo has escalation teams"
    for name in teams:
        assert name not in html, f"team {name!r} on {where}"
    lowered = html.lower()
    for word in OPERATOR_WORDS:
        assert word.lower() not in lowered, f"operator wording {word!r} on {where}"


def _all_paths(script):
    """Every answer path of a script, from the first question to each outcome."""
    paths, todo = [], [""]
    while todo:
        path = todo.pop()
        state = walk(script, path)
        paths.append(path)
        if state.question:
            todo += [path + "y", path + "n"]
    return paths


def test_no_public_page_shows_team_names_or_the_operators_script_in_any_language(client):
    pages = _public_articles_with_scripts()
    assert {p.locale.language_code for p in pages} == {"nl", "fr", "en"}
    for page in pages:
        html = client.get(page.url).content.decode()
        _assert_nothing_internal(html, page.url)
        for script in page.diagnosis_scripts:
            for question in script.value["questions"]:
                if question["question"] != question.get("customer_question"):
                    assert question["question"] not in html, page.url
    for language in ("nl", "fr", "en"):
        for url in (f"/{language}/", f"/{language}/search/?q=wifi", f"/{language}/contact/"):
            _assert_nothing_internal(client.get(url).content.decode(), url)
        for category in CategoryPage.objects.live().filter(locale__language_code=language):
            _assert_nothing_internal(client.get(category.url).content.decode(), category.url)


def test_every_step_of_every_guide_is_free_of_internal_wording(client):
    walked = 0
    for page in _public_articles_with_scripts():
        for number, script in customer_scripts(page):
            for path in _all_paths(script):
                html = client.get(page.url, {"guide": number, "answers": path}).content.decode()
                _assert_nothing_internal(html, f"{page.url}?answers={path}")
                walked += 1
    assert walked > 50


def test_a_search_in_the_operators_words_shows_the_customer_a_customer_snippet(client):
    response = client.get("/nl/search/", {"q": "Ziet de beller het netwerk CORP in de lijst"})
    html = response.content.decode()
    results = html[html.index('class="results-list"') :]
    assert "wifi" in results.lower()
    assert "beller" not in results.lower()
    data = client.get(
        "/api/v1/public/search/", {"q": "Ziet de beller het netwerk CORP", "locale": "nl"}
    ).json()
    assert data["results"]
    assert all("beller" not in r["snippet"].lower() for r in data["results"])


def test_guide_asks_one_question_at_a_time_in_the_customers_language(client, article):
    page = article("demo-wifi-cannot-connect", "nl")
    html = client.get(page.url).content.decode()
    assert 'id="guide"' in html
    assert re.search(r'class="guide-question"[^>]*>Ziet u het netwerk CORP', html)
    assert "Hebben collega" not in html  # the next question waits for the answer
    html = unescape(client.get(page.url, {"guide": 1, "answers": "y"}).content.decode())
    assert "Hebben collega's in uw buurt wel werkende wifi?" in html
    assert 'class="guide-path"' in html and "Ziet u het netwerk CORP" in html


def test_an_answer_leads_to_the_right_step_of_the_article(client, article):
    page = article("demo-wifi-cannot-connect", "fr")
    html = client.get(page.url, {"guide": 1, "answers": "n"}).content.decode()  # no CORP
    step_one = page.steps[0].value["instruction"].source
    guide_html = html[html.index('id="guide"') :]
    assert "Essayez l'étape 1" in guide_html
    assert re.sub(r"<[^>]+>", "", step_one)[:30] in re.sub(r"<[^>]+>", "", guide_html)
    assert 'id="guide-solved"' in guide_html and 'id="guide-contact"' in guide_html


def test_where_the_operator_escalates_the_customer_is_offered_contact(client, article):
    page = article("demo-wifi-cannot-connect", "en")
    html = client.get(page.url, {"guide": 1, "answers": "yn"}).content.decode()
    assert "This is something our helpdesk needs to look at." in html
    assert f"/en/contact/?article={page.pk}&amp;guide=1&amp;answers=yn" in html
    assert "Network Operations Centre" not in html


def test_this_solved_it_records_helpful_yes(client, article):
    page = article("demo-vpn-cannot-connect", "nl")
    html = client.get(page.url, {"guide": 1, "answers": "yyy"}).content.decode()
    assert 'id="guide-solved"' in html
    response = client.post("/nl/feedback/", {"article": page.pk, "helpful": "yes"})
    assert response.status_code == 200
    feedback = ArticleFeedback.objects.get(article=page)
    assert feedback.helpful and feedback.locale == "nl"


def test_answers_that_do_not_fit_restart_the_guide_with_a_notice(client, article):
    page = article("demo-wifi-cannot-connect", "en")
    for answers in ("zz", "nnnnnnn", "y" * 500):
        response = client.get(page.url, {"guide": 1, "answers": answers})
        assert response.status_code == 200
        html = response.content.decode()
        assert "so the questions start again" in html
        assert "Do you see the network CORP" in html
    response = client.get(page.url, {"guide": "99", "answers": "y"})
    assert response.status_code == 200


def test_a_script_without_customer_wording_is_not_offered_to_customers(client, article):
    page = article("demo-invoice-wrong-amount", "en")
    assert page.diagnosis_scripts and not customer_scripts(page)
    html = client.get(page.url).content.decode()
    assert 'id="guide"' not in html
    assert "customer's first invoice" not in html


def test_contact_request_carries_the_path_taken(article):
    client = Client()
    page = article("demo-wifi-cannot-connect", "nl")
    form = client.get("/nl/contact/", {"article": page.pk, "guide": 1, "answers": "yn"})
    html = form.content.decode()
    assert "Ziet u het netwerk CORP in de lijst met wifinetwerken?" in html
    assert 'name="answers" value="yn"' in html
    response = client.post(
        "/nl/contact/",
        {
            "name": "An Janssens",
            "email": "an@example.be",
            "message": "Mijn wifi werkt nog altijd niet.",
            "article": page.pk,
            "guide": "1",
            "answers": "yn",
            "confirm": "send",
        },
    )
    assert response.status_code == 200
    request = ContactRequest.objects.get()
    record = request.troubleshooting
    assert [a["answer"] for a in record["answers"]] == ["yes", "no"]
    assert (
        record["answers"][0]["operator_question"] == "Ziet de beller het netwerk CORP in de lijst?"
    )
    assert record["answers"][0]["question"].startswith("Ziet u het netwerk CORP")
    assert record["outcome"] == "contact" and record["team"] == "Network Operations Centre"
    assert "Network Operations Centre" not in response.content.decode()


def test_a_path_that_does_not_fit_the_article_is_not_stored(article):
    client = Client()
    page = article("demo-wifi-cannot-connect", "en")
    client.post(
        "/en/contact/",
        {
            "name": "A",
            "email": "a@example.be",
            "message": "Still broken",
            "article": page.pk,
            "guide": "1",
            "answers": "yyyyyyyyyy",
            "confirm": "send",
        },
    )
    assert ContactRequest.objects.get().troubleshooting == {}


def test_whoever_handles_the_request_sees_the_answers_in_the_admin(client, users, article):
    page = article("demo-printer-offline", "fr")
    client.post(
        "/fr/contact/",
        {
            "name": "Marie",
            "email": "marie@example.be",
            "message": "L'imprimante reste hors ligne.",
            "article": page.pk,
            "guide": "1",
            "answers": "ynn",
            "confirm": "send",
        },
    )
    request = ContactRequest.objects.get()
    client.force_login(users["secondline"])
    response = client.get(reverse("contactrequest:inspect", args=[request.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Le portable est-il sur le réseau du bureau ou connecté au VPN ?" in html
    assert "Votre portable est-il sur le réseau du bureau" in html
    assert "Second line – Workplace" in html  # the escalation target, for staff only


def test_operators_keep_the_full_script_in_the_console_card(operator, article):
    page = article("demo-wifi-cannot-connect", "nl")
    card = operator.get(reverse("api_article_card", args=[page.pk]))
    assert card.status_code == 200
    text = card.content.decode()
    assert "Ziet de beller het netwerk CORP in de lijst?" in text
    assert "Network Operations Centre" in text


def test_editors_find_the_customer_wording_field_in_the_diagnosis_script(admin, article):
    page = article("demo-wifi-cannot-connect", "en")
    html = admin.get(reverse("wagtailadmin_pages:edit", args=[page.pk])).content.decode()
    assert "Question for customers" in html
    assert "Do you see the network CORP in the list of Wi-Fi networks?" in html
