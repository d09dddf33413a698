"""Staff screens (issue 18): abandoned autosaved drafts neither hold a new article's slug nor
count as its duplicates; drafts from a call or a gap topic land in the likely category and
language; the authoring reports export what they show; the Reports menu speaks nl and fr."""

import csv
import datetime
import io
import json

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.text import slugify
from wagtail.test.utils.form_data import (
    nested_form_data,
    querydict_from_html,
    rich_text,
    streamfield,
)

from articles.authoring import create_wip_article
from articles.models import ArticleFlag, CategoryPage, SolutionArticlePage
from insights.gaps import knowledge_gaps
from tests.conftest import logged_in

pytestmark = [pytest.mark.model, pytest.mark.django_db]

SIMILAR_URL = "/admin/articles/similar/"
BADGE_TITLE = "Badge reader at the car park beeps red"
BADGE_ISSUE = "badge reader at the car park entrance beeps red\nthe barrier stays closed"


def _create_form(client, parent, title, issue, slug=None):
    url = f"/admin/pages/add/articles/solutionarticlepage/{parent.pk}/"
    data = querydict_from_html(client.get(url).content.decode(), form_id="page-edit-form")
    data["title"], data["slug"], data["issue"] = title, slug or slugify(title), issue
    step = {"instruction": rich_text("<p>Badge again.</p>"), "expected_result": ""}
    for key, value in nested_form_data({"resolution": streamfield([("step", step)])}).items():
        data[key] = value
    return url, data


def _autosave(client, url, data):
    """What Wagtail's autosave sends: the form without an action, answered in JSON."""
    return client.post(url, data, HTTP_ACCEPT="application/json")


def _category():
    return CategoryPage.objects.get(slug="network-vpn-wifi", locale__language_code="en")


def _abandon(page, days=30):
    SolutionArticlePage.objects.filter(pk=page.pk).update(
        latest_revision_created_at=timezone.now() - datetime.timedelta(days=days)
    )


# -- abandoned autosaves -------------------------------------------------------------------------


def test_an_abandoned_autosave_does_not_pause_the_next_autosave_of_the_same_title(users):
    client = logged_in(users["secondline"])
    url, data = _create_form(client, _category(), BADGE_TITLE, BADGE_ISSUE)
    first = _autosave(client, url, data)
    assert first.status_code == 200 and first.json()["success"], first.content[:500]
    abandoned = SolutionArticlePage.objects.get(pk=first.json()["pk"])
    _abandon(abandoned)

    # The editor starts the same article again in a new window: same title, same slug.
    url, data = _create_form(client, _category(), BADGE_TITLE, BADGE_ISSUE)
    second = _autosave(client, url, data)
    assert second.status_code == 200 and second.json()["success"], second.content[:500]
    new = SolutionArticlePage.objects.get(pk=second.json()["pk"])
    assert new.pk != abandoned.pk
    assert new.slug == abandoned.slug + "-2"
    assert ["slug", new.slug] in [list(u) for u in second.json()["field_updates"].items()]
    abandoned.refresh_from_db()
    assert abandoned.slug == slugify(BADGE_TITLE) and abandoned.title == BADGE_TITLE  # kept


def test_a_published_article_keeps_refusing_a_slug_that_is_taken(users, article):
    printer = article("demo-printer-offline")
    client = logged_in(users["manager"])
    url, data = _create_form(
        client, printer.get_parent(), "Badge reader", BADGE_ISSUE, slug="badge-reader"
    )
    data["action-publish"] = "action-publish"
    data["kb-duplicate-confirmed"] = "1"
    assert client.post(url, data).status_code == 302
    page = SolutionArticlePage.objects.get(slug="badge-reader")
    edit = f"/admin/pages/{page.pk}/edit/"
    form = querydict_from_html(client.get(edit).content.decode(), form_id="page-edit-form")
    step = {"instruction": rich_text("<p>Badge again.</p>"), "expected_result": ""}
    for key, value in nested_form_data({"resolution": streamfield([("step", step)])}).items():
        form[key] = value
    form["slug"] = printer.slug
    form["action-publish"] = "action-publish"
    form["kb-duplicate-confirmed"] = "1"
    response = client.post(edit, form)
    assert response.status_code == 200 and "already in use" in response.content.decode()
    page.refresh_from_db()
    assert page.slug == "badge-reader"


def _similar(client, **params):
    response = client.get(SIMILAR_URL, params)
    assert response.status_code == 200, response.content
    return {r["id"]: r for r in response.json()["results"]}


def test_own_earlier_autosave_is_listed_as_your_draft_never_as_a_duplicate(users):
    client = logged_in(users["secondline"])
    url, data = _create_form(client, _category(), BADGE_TITLE, BADGE_ISSUE)
    earlier = _autosave(client, url, data).json()["pk"]
    # A new window (no page id yet) with the same text: the earlier autosave is 100 % alike.
    found = _similar(client, title=BADGE_TITLE, issue=BADGE_ISSUE)
    assert found[earlier]["score"] > 0.99
    assert found[earlier]["draft_status"] == "mine"
    assert found[earlier]["is_duplicate"] is False
    # The page itself (once autosaved, the panel sends its id) is not listed at all.
    assert earlier not in _similar(client, title=BADGE_TITLE, issue=BADGE_ISSUE, page_id=earlier)


def test_someone_elses_abandoned_draft_is_no_duplicate_but_a_recent_capture_is(users):
    capture = create_wip_article(phrasings=BADGE_ISSUE.splitlines(), locale="en", title=BADGE_TITLE)
    client = logged_in(users["manager"])
    assert _similar(client, title=BADGE_TITLE, issue=BADGE_ISSUE)[capture.pk]["is_duplicate"]
    _abandon(capture)
    found = _similar(client, title=BADGE_TITLE, issue=BADGE_ISSUE)[capture.pk]
    assert found["draft_status"] == "abandoned" and found["is_duplicate"] is False


def test_publishing_does_not_ask_to_confirm_against_the_editors_own_autosave(users):
    client = logged_in(users["manager"])
    url, data = _create_form(client, _category(), BADGE_TITLE, BADGE_ISSUE)
    earlier = _autosave(client, url, data).json()["pk"]
    url, data = _create_form(client, _category(), BADGE_TITLE, BADGE_ISSUE)
    data["action-publish"] = "action-publish"
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:1500]
    new = SolutionArticlePage.objects.exclude(pk=earlier).get(title=BADGE_TITLE)
    assert new.live and not SolutionArticlePage.objects.get(pk=earlier).live


def test_unfinished_drafts_are_listed_with_the_abandoned_ones_marked(users):
    client = logged_in(users["secondline"])
    url, data = _create_form(client, _category(), BADGE_TITLE, BADGE_ISSUE)
    old = SolutionArticlePage.objects.get(pk=_autosave(client, url, data).json()["pk"])
    _abandon(old)
    url, data = _create_form(client, _category(), "Projector flickers", "beamer flickers green")
    recent = SolutionArticlePage.objects.get(pk=_autosave(client, url, data).json()["pk"])
    html = client.get("/admin/reports/unfinished-drafts/").content.decode()
    assert BADGE_TITLE in html and "Projector flickers" in html
    abandoned_only = client.get("/admin/reports/unfinished-drafts/", {"abandoned": "true"})
    html = abandoned_only.content.decode()
    assert BADGE_TITLE in html and "Projector flickers" not in html
    export = client.get("/admin/reports/unfinished-drafts/", {"export": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert rows[0][:2] == ["Article", "Language"]
    assert {old.title, recent.title} <= {row[0] for row in rows[1:]}
    assert logged_in(users["operator"]).get("/admin/reports/unfinished-drafts/").status_code in (
        302,
        403,
    )


# -- where drafts land ---------------------------------------------------------------------------


def _capture(client, **body):
    return client.post("/api/v1/captures/", body, content_type="application/json")


def test_a_draft_captured_from_a_call_lands_in_the_category_of_the_best_match(users, article):
    vpn = article("demo-vpn-cannot-connect", "nl")
    client = logged_in(users["operator"])
    response = _capture(
        client,
        query="VPN verbindt niet meer sinds de update, foutmelding 812",
        note="klant werkt thuis",
        locale="nl",
    )
    assert response.status_code == 201, response.content
    page = SolutionArticlePage.objects.get(pk=response.json()["id"])
    assert page.get_parent().pk == vpn.get_parent().pk
    assert page.locale.language_code == "nl"
    assert response.json()["category"] == vpn.get_parent().title


def test_a_captured_draft_follows_the_service_chosen_in_the_console(users, article):
    printer = article("demo-printer-offline", "fr")
    service = printer.services.first()
    client = logged_in(users["operator"])
    response = _capture(
        client, query="quelque chose ne marche pas", note="", locale="fr", service=service.slug
    )
    assert response.status_code == 201, response.content
    page = SolutionArticlePage.objects.get(pk=response.json()["id"])
    categories = {
        p.get_parent().pk
        for p in SolutionArticlePage.objects.live().filter(
            services__slug=service.slug, locale__language_code="fr"
        )
    }
    assert page.get_parent().pk in categories


def test_a_capture_with_a_bad_service_gets_a_clear_400(users):
    response = _capture(logged_in(users["operator"]), query="printer", locale="en", service=5)
    assert response.status_code == 400 and "service" in response.json()["error"]


COFFEE_EN = [
    "the coffee machine on the third floor shows error C12",
    "coffee machine error C12 on floor three",
    "coffee machine third floor says C12 and gives no coffee",
]
COFFEE_NL = ["de koffiemachine op de derde verdieping geeft fout C12"]


def test_a_draft_from_a_mixed_language_topic_is_in_its_main_language_only(users):
    customer = Client()
    for query, locale in [(q, "en") for q in COFFEE_EN] + [(q, "nl") for q in COFFEE_NL]:
        customer.get("/api/v1/public/search/", {"q": query, "locale": locale})
    now = timezone.now()
    gaps = knowledge_gaps(since=now - datetime.timedelta(days=1), until=now)
    topic = next(t for t in gaps.topics if "C12" in t.label)
    assert topic.main_locale == "en"
    assert not set(topic.draft_phrasings) & set(COFFEE_NL)

    client = logged_in(users["manager"])
    html = client.get("/admin/kb-reports/knowledge-gaps/", {"period": "7"}).content.decode()
    row = html.split(f'data-gap-topic="{topic.key}"')[1].split("</tr>")[0]
    form = row.split('action="/admin/kb-reports/knowledge-gaps/draft/"')[1].split("</form>")[0]
    data = querydict_from_html(f"<form>{form}</form>", form_id=None)
    before = set(SolutionArticlePage.objects.values_list("pk", flat=True))
    assert client.post("/admin/kb-reports/knowledge-gaps/draft/", data).status_code == 302
    page = SolutionArticlePage.objects.exclude(pk__in=before).get()
    assert page.locale.language_code == "en"
    assert "koffiemachine" not in page.issue and "koffiemachine" not in page.title
    if len(topic.languages) > 1:  # merged across languages: the Dutch wording is a hint only
        assert "Also asked in NL" in row and "koffiemachine" in row
    closest = topic.closest_article
    if closest:  # next to the article that comes closest, in the draft's language
        near = SolutionArticlePage.objects.get(pk=closest["id"])
        assert page.get_parent().pk == near.get_parent().get_translation(page.locale).pk


# -- exports -------------------------------------------------------------------------------------


def _csv(response):
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_reviews_due_export_lists_what_the_screen_lists(users, article):
    overdue, later = article("demo-printer-offline"), article("demo-vpn-cannot-connect")
    today = timezone.localdate()
    for page, due in (
        (overdue, today - datetime.timedelta(days=3)),
        (later, today + datetime.timedelta(days=30)),
    ):
        SolutionArticlePage.objects.filter(pk=page.pk).update(
            kcs_state=SolutionArticlePage.KCS_VALIDATED, next_review_date=due
        )
    client = logged_in(users["secondline"])
    screen = client.get("/admin/reports/reviews-due/").content.decode()
    assert "?export=csv" in screen and "?export=xlsx" in screen  # the download buttons
    rows = _csv(client.get("/admin/reports/reviews-due/", {"export": "csv"}))
    assert rows[0] == ["Article", "Language", "Review due", "Owner", "Edit link"]
    titles = [row[0] for row in rows[1:]]
    assert overdue.title in titles and later.title not in titles
    row = rows[1 + titles.index(overdue.title)]
    assert row[2] == str(today - datetime.timedelta(days=3))
    assert row[4].endswith(f"/admin/pages/{overdue.pk}/edit/")
    xlsx = client.get("/admin/reports/reviews-due/", {"export": "xlsx"})
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxml")


def test_flagged_export_shows_labels_and_keeps_formulas_as_text(users, article):
    page = article("demo-printer-offline")
    ArticleFlag.objects.create(
        article=page, reason="missing_step", source="console", comment='=HYPERLINK("x")'
    )
    rows = _csv(logged_in(users["secondline"]).get("/admin/reports/flagged-articles/?export=csv"))
    assert rows[0][:5] == ["Article", "Language", "Reason", "Comment", "Source"]
    row = next(r for r in rows[1:] if r[0] == page.title)
    assert row[2] == "Missing step" and row[4] == "Operator console" and row[6] == "Open"
    assert row[3] == '\'=HYPERLINK("x")'


# -- the Reports menu in the editor's language ----------------------------------------------------


@pytest.mark.parametrize(
    "language, expected",
    [
        (
            "nl",
            [
                "Terugkerende problemen",
                "Kennislacunes",
                "Gemarkeerde artikels",
                "Onafgewerkte concepten",
            ],
        ),
        (
            "fr",
            [
                "Problèmes récurrents",
                "Lacunes de connaissances",
                "Articles signalés",
                "Brouillons inachevés",
            ],
        ),
    ],
)
def test_reports_menu_is_translated(users, language, expected):
    from wagtail.users.models import UserProfile

    manager = users["manager"]
    profile = UserProfile.get_for_user(manager)
    profile.preferred_language = language
    profile.save()
    html = logged_in(manager).get("/admin/").content.decode()
    for label in expected:  # the sidebar's menu is JSON in the page (non-ASCII escaped)
        assert label in html or json.dumps(label)[1:-1] in html, label
    assert "Recurring problems" not in html and "Flagged articles" not in html
