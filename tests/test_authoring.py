"""The second-line authoring loop: similar articles while writing, flags, capture from the
call, the KCS lifecycle and new-article templates. Similarity uses the real model."""

import datetime
import json

import pytest
from django.utils import timezone
from django.utils.text import slugify
from wagtail.models import Page, WorkflowState
from wagtail.test.utils.form_data import (
    nested_form_data,
    querydict_from_html,
    rich_text,
    streamfield,
)

from articles.authoring import create_wip_article
from articles.models import ArticleFlag, CategoryPage, SolutionArticlePage
from articles.roles import SECOND_LINE
from insights.models import ArticleFeedback
from tests.conftest import publish

pytestmark = pytest.mark.django_db

SIMILAR_URL = "/admin/articles/similar/"


def similar(client, **params):
    response = client.get(SIMILAR_URL, params)
    assert response.status_code == 200, response.content
    return response.json()["results"]


# --- similar articles while writing ----------------------------------------------------


def test_similar_panel_finds_the_dutch_version_of_an_english_article(secondline, article):
    en, nl = article("demo-printer-offline"), article("demo-printer-offline", "nl")
    results = similar(secondline, page_id=en.pk, title=en.title, issue=en.issue)
    by_id = {r["id"]: r for r in results}
    assert en.pk not in by_id  # never the page itself
    assert nl.pk in by_id
    assert by_id[nl.pk]["locale"] == "nl" and by_id[nl.pk]["is_translation"]
    assert not by_id[nl.pk]["is_duplicate"]  # its own translation is expected to be close
    assert 0 < by_id[nl.pk]["score"] < 1


def test_a_new_copy_of_an_article_is_a_duplicate_and_its_translations_are_listed(
    secondline, article
):
    en, nl = article("demo-printer-offline"), article("demo-printer-offline", "nl")
    results = similar(secondline, title=en.title, issue=en.issue)
    assert results[0]["id"] == en.pk and results[0]["is_duplicate"]
    assert nl.pk in [r["id"] for r in results]


def test_other_language_versions_are_among_similar_articles_for_most_demo_articles(secondline):
    """The panel compares in the multilingual model's space: an English demo article's Dutch
    version is among its similar articles (bench/duplicate_panel.py, docs/authoring.md)."""
    found = total = 0
    for en in SolutionArticlePage.objects.filter(locale__language_code="en", live=True):
        nl = SolutionArticlePage.objects.filter(
            translation_key=en.translation_key, locale__language_code="nl"
        ).first()
        if nl is None:
            continue
        total += 1
        found += nl.pk in [
            r["id"] for r in similar(secondline, page_id=en.pk, title=en.title, issue=en.issue)
        ]
    assert total >= 10
    assert found / total >= 0.9


def test_similar_articles_include_unpublished_drafts(secondline):
    draft = create_wip_article(
        phrasings=["the badge reader at the car park entrance beeps red"], locale="fr"
    )
    results = similar(secondline, title="Badge reader beeps red at the car park", issue="")
    match = next(r for r in results if r["id"] == draft.pk)
    assert match["live"] is False and match["kcs_state"] == "wip" and match["locale"] == "fr"


def test_similar_endpoint_is_for_authors_only(client, users, customer):
    assert client.get(SIMILAR_URL, {"title": "printer"}).status_code in (302, 403)
    for user in (users["operator"], customer):
        client.force_login(user)
        response = client.get(SIMILAR_URL, {"title": "printer"})
        assert response.status_code in (302, 403)
        assert b"results" not in response.content


def test_similar_endpoint_rejects_bad_input_with_a_message(secondline):
    response = secondline.get(SIMILAR_URL, {"title": "x" * 300})
    assert response.status_code == 400 and "too long" in response.json()["error"]
    response = secondline.get(SIMILAR_URL, {"title": "printer", "page_id": "abc"})
    assert response.status_code == 400 and "No such article" in response.json()["error"]


def _create_form_data(client, parent, title, issue):
    url = f"/admin/pages/add/articles/solutionarticlepage/{parent.pk}/"
    html = client.get(url).content.decode()
    data = querydict_from_html(html, form_id="page-edit-form")
    data["title"] = title
    data["slug"] = slugify("kb " + title)[:40]
    data["issue"] = issue
    step = {"instruction": rich_text("<p>Restart it.</p>"), "expected_result": ""}
    for key, value in nested_form_data({"resolution": streamfield([("step", step)])}).items():
        data[key] = value
    return url, data


def test_publishing_a_near_duplicate_asks_for_confirmation_without_javascript(manager, article):
    en = article("demo-printer-offline")
    parent = en.get_parent()
    url, data = _create_form_data(manager, parent, en.title + " again", en.issue)
    data["action-publish"] = "action-publish"
    before = SolutionArticlePage.objects.count()

    response = manager.post(url, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Possible duplicate" in html and en.title in html
    assert SolutionArticlePage.objects.count() == before  # nothing saved yet

    # "Link it as a related article and publish": the interstitial's own form data.
    form = querydict_from_html(html, form_id=None, form_index=_form_index(html, "related"))
    response = manager.post(url, form)
    assert response.status_code == 302
    new = SolutionArticlePage.objects.exclude(pk__lte=0).order_by("-pk").first()
    assert new.title == en.title + " again" and new.live
    assert [link.related_page_id for link in new.related_links.all()] == [en.pk]


def _form_index(html, choice):
    from bs4 import BeautifulSoup

    forms = BeautifulSoup(html, "html.parser").find_all("form")
    return next(
        i for i, f in enumerate(forms) if f.find("button", attrs={"value": choice}) is not None
    )


def test_a_near_duplicate_in_another_language_can_become_its_translation(manager):
    nl_keys = SolutionArticlePage.objects.filter(locale__language_code="nl").values(
        "translation_key"
    )
    en = (
        SolutionArticlePage.objects.filter(locale__language_code="en", live=True)
        .exclude(translation_key__in=nl_keys)
        .order_by("pk")
        .first()
    )
    parent = CategoryPage.objects.filter(locale__language_code="nl").first()
    url, data = _create_form_data(manager, parent, en.title, en.issue)
    data["action-publish"] = "action-publish"
    html = manager.post(url, data).content.decode()
    assert "Make it the translation of this EN article" in html
    form = querydict_from_html(html, form_index=_form_index(html, "translation"))
    assert manager.post(url, form).status_code == 302
    new = SolutionArticlePage.objects.get(title=en.title, locale__language_code="nl")
    assert new.translation_key == en.translation_key and new.external_id == en.external_id
    assert new.live


def test_a_different_article_publishes_without_confirmation(manager):
    parent = CategoryPage.objects.get(slug="network-vpn-wifi", locale__language_code="en")
    url, data = _create_form_data(
        manager, parent, "Conference room projector flickers", "the beamer image flickers green"
    )
    data["action-publish"] = "action-publish"
    response = manager.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    page = SolutionArticlePage.objects.get(title="Conference room projector flickers")
    assert page.live
    assert page.kcs_state == SolutionArticlePage.KCS_VALIDATED  # published by a reviewer


def test_new_article_form_starts_from_the_content_standard(secondline):
    parent = CategoryPage.objects.get(slug="network-vpn-wifi", locale__language_code="en")
    html = secondline.get(f"/admin/pages/add/articles/solutionarticlepage/{parent.pk}/").content
    html = html.decode()
    assert "kb-similar" in html  # the similar-articles panel
    assert "Why it happens, if known" in html  # cause guidance
    assert "&quot;type&quot;: &quot;step&quot;" in html or '"type": "step"' in html


# --- flags ------------------------------------------------------------------------------


def flag_json(client, **body):
    return client.post("/api/v1/flags/", json.dumps(body), content_type="application/json")


def test_flag_from_console_is_a_task_for_the_owner_until_republished(client, users, article):
    page = article("demo-vpn-cannot-connect")
    page.owner_user = users["secondline"]
    page.save(update_fields=["owner_user"])
    client.force_login(users["operator"])
    response = flag_json(
        client,
        article_id=page.pk,
        reason="missing_step",
        comment="step 3 needs the new client; customer 0475 12 34 56",
    )
    assert response.status_code == 201, response.content
    flag = ArticleFlag.objects.get(pk=response.json()["id"])
    assert (
        flag.status == "open" and flag.source == "console" and flag.raised_by == users["operator"]
    )
    assert "0475" not in flag.comment and "[PHONE]" in flag.comment

    client.force_login(users["secondline"])
    dashboard = client.get("/admin/").content.decode()
    assert "Flags on your articles" in dashboard and page.title in dashboard
    report = client.get("/admin/reports/flagged-articles/").content.decode()
    assert page.title in report
    export = client.get("/admin/reports/flagged-articles/?export=csv")
    csv = b"".join(export.streaming_content).decode()
    assert page.title in csv and "Missing step" in csv and "missing_step" not in csv
    assert client.get("/admin/reports/flagged-articles/?export=xlsx").status_code == 200

    publish(SolutionArticlePage.objects.get(pk=page.pk), users["manager"])
    flag.refresh_from_db()
    assert flag.status == "closed" and flag.closed_at is not None
    assert page.title not in client.get("/admin/").content.decode()


def test_flag_on_a_group_owned_article_reaches_the_group(client, users, article):
    page = article("demo-printer-offline")
    page.owner_user = None
    page.owner_group = users["secondline"].groups.get(name=SECOND_LINE)
    page.save(update_fields=["owner_user", "owner_group"])
    flag = ArticleFlag.objects.create(article=page, reason="unclear", source="console")
    assert flag in ArticleFlag.objects.open().for_owner(users["secondline"])
    assert flag not in ArticleFlag.objects.open().for_owner(users["operator"])


def test_rejecting_a_flag_needs_a_reason_and_closes_it(client, users, article):
    page = article("demo-printer-offline")
    flag = ArticleFlag.objects.create(article=page, reason="outdated", source="console")
    client.force_login(users["secondline"])
    url = f"/admin/articles/flags/{flag.pk}/reject/"
    response = client.post(url, {"note": "  "})
    assert response.status_code == 400 and "Say why" in response.content.decode()
    flag.refresh_from_db()
    assert flag.status == "open"
    response = client.post(url, {"note": "Still correct for firmware 4.2"})
    assert response.status_code == 302
    flag.refresh_from_db()
    assert flag.status == "rejected" and flag.closed_by == users["secondline"]
    assert flag.resolution_note == "Still correct for firmware 4.2"


def test_customers_and_anonymous_cannot_flag(client, customer, article):
    page = article("demo-printer-offline")
    assert flag_json(client, article_id=page.pk, reason="outdated").status_code == 401
    client.force_login(customer)
    assert flag_json(client, article_id=page.pk, reason="outdated").status_code == 403
    response = client.post("/api/v1/flags/", {"article_id": page.pk, "reason": "outdated"})
    assert response.status_code == 403
    assert "flag-form" not in client.get(page.url).content.decode()
    assert not ArticleFlag.objects.exists()


def test_bad_flag_input_gets_a_message(operator, article):
    page = article("demo-printer-offline")
    response = flag_json(operator, article_id=page.pk, reason="boring")
    assert response.status_code == 400 and "reason" in response.json()["error"]
    assert flag_json(operator, article_id=999999, reason="outdated").status_code == 404
    response = operator.post("/api/v1/flags/", "{not json", content_type="application/json")
    assert response.status_code == 400


def test_staff_flag_an_article_from_its_page(operator, article):
    page = article("demo-printer-offline")
    html = operator.get(page.url).content.decode()
    assert 'id="flag-reason"' in html
    response = operator.post(
        "/api/v1/flags/",
        {"article_id": page.pk, "reason": "incorrect", "comment": "menu is renamed"},
    )
    assert response.status_code == 200 and "Thank you" in response.content.decode()
    flag = ArticleFlag.objects.get()
    assert flag.source == "article_page" and flag.reason == "incorrect"


def test_not_helpful_feedback_with_a_comment_raises_a_flag(client, article):
    page = article("demo-printer-offline")
    response = client.post("/en/feedback/", {"article": page.pk, "helpful": "no"})
    assert response.status_code == 302
    response = client.post(
        response["Location"],
        {"reason": "did_not_work", "comment": "still offline, mail me at an@example.be"},
    )
    assert response.status_code == 200
    flag = ArticleFlag.objects.get()
    assert flag.source == "customer_feedback" and flag.reason == "incorrect"
    assert flag.article_id == page.pk and "@" not in flag.comment
    feedback = ArticleFeedback.objects.get()
    feedback.save()  # saved again (e.g. edited in the admin): still one flag
    assert ArticleFlag.objects.count() == 1


def test_feedback_without_comment_or_helpful_raises_no_flag(article):
    page = article("demo-printer-offline")
    ArticleFeedback.objects.create(article=page, locale="en", helpful=False, reason="outdated")
    ArticleFeedback.objects.create(article=page, locale="en", helpful=True, comment="great")
    assert not ArticleFlag.objects.exists()


# --- capture from the call ---------------------------------------------------------------


def capture(client, **body):
    return client.post("/api/v1/captures/", json.dumps(body), content_type="application/json")


def test_capture_turns_a_no_article_call_into_a_redacted_wip_draft(operator):
    response = capture(
        operator,
        query="decoder toont foutcode E-202",
        note="klant jan@example.be belt terug op 0475 12 34 56",
        locale="nl",
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["owner"] == SECOND_LINE and "E-202" in data["message"]
    page = SolutionArticlePage.objects.get(pk=data["id"])
    assert not page.live and page.kcs_state == "wip" and page.locale.language_code == "nl"
    assert page.issue.splitlines() == [
        "decoder toont foutcode E-202",
        "klant [EMAIL] belt terug op [PHONE]",
    ]
    assert page.owner_group.name == SECOND_LINE and page.owner_user is None  # operators don't edit
    assert page.get_latest_revision() is not None


def test_capture_is_for_staff_and_needs_wording(client, users, customer):
    assert capture(client, query="tv stuck", locale="en").status_code == 401
    client.force_login(customer)
    assert capture(client, query="tv stuck", locale="en").status_code == 403
    client.force_login(users["operator"])
    response = capture(client, query="  ", note="", locale="en")
    assert response.status_code == 400 and "phrasing" in response.json()["error"]
    assert capture(client, query="tv stuck", locale="de").status_code == 400
    assert capture(client, query="x" * 700, locale="en").status_code == 400


# --- lifecycle ---------------------------------------------------------------------------


def test_kcs_confidence_follows_the_review_workflow(users, settings):
    settings.KB_REVIEW_INTERVAL_DAYS = 180
    page = create_wip_article(phrasings=["docking station gives no picture"], locale="en")
    page.resolution = [("step", {"instruction": "<p>Reseat the cable.</p>"})]
    page.save_revision(user=users["secondline"])
    workflow = page.get_workflow()
    state = workflow.start(page, users["secondline"])
    page.refresh_from_db()
    assert page.kcs_state == SolutionArticlePage.KCS_NOT_VALIDATED
    task_state = state.current_task_state
    task_state.task.specific.on_action(task_state, users["manager"], "approve")
    page.refresh_from_db()
    assert state.__class__.objects.get(pk=state.pk).status == WorkflowState.STATUS_APPROVED
    assert page.live and page.kcs_state == SolutionArticlePage.KCS_VALIDATED
    assert page.next_review_date == timezone.localdate() + datetime.timedelta(days=180)
    # The editor's next draft starts from the validated state, not the old one.
    assert page.get_latest_revision_as_object().kcs_state == SolutionArticlePage.KCS_VALIDATED


def test_archived_article_leaves_search_but_keeps_its_history(
    client, users, article, run_on_commit
):
    page = article("demo-sim-puk-blocked")
    revisions_before = page.revisions.count()
    client.force_login(users["operator"])
    hits = client.get("/api/v1/search/", {"q": "SIM card blocked PUK", "locale": "en"}).json()
    assert page.pk in [h["id"] for h in hits["results"]]

    client.force_login(users["secondline"])
    assert "Archive (retire)" not in client.get(f"/admin/pages/{page.pk}/edit/").content.decode()
    assert client.post(f"/admin/articles/{page.pk}/archive/").status_code in (302, 403)
    assert SolutionArticlePage.objects.get(pk=page.pk).kcs_state != "archived"
    client.force_login(users["manager"])
    assert "Archive (retire)" in client.get(f"/admin/pages/{page.pk}/edit/").content.decode()
    response = run_on_commit(client.post, f"/admin/articles/{page.pk}/archive/")
    assert response.status_code == 302

    page = SolutionArticlePage.objects.get(pk=page.pk)
    assert page.kcs_state == SolutionArticlePage.KCS_ARCHIVED and page.live
    assert page.revisions.count() == revisions_before + 1
    client.force_login(users["operator"])
    hits = client.get("/api/v1/search/", {"q": "SIM card blocked PUK", "locale": "en"}).json()
    assert page.pk not in [h["id"] for h in hits["results"]]
    public = client.get("/api/v1/public/search/", {"q": "SIM card blocked PUK", "locale": "en"})
    assert page.pk not in [h["id"] for h in public.json()["results"]]


def test_overdue_reviews_are_listed_for_the_owner_and_in_the_report(client, users, article):
    overdue, later = article("demo-printer-offline"), article("demo-vpn-cannot-connect")
    today = timezone.localdate()
    for page, due in (
        (overdue, today - datetime.timedelta(days=3)),
        (later, today + datetime.timedelta(days=30)),
    ):
        page.kcs_state = SolutionArticlePage.KCS_VALIDATED
        page.next_review_date = due
        page.owner_user = users["secondline"]
        page.save(update_fields=["kcs_state", "next_review_date", "owner_user"])
    client.force_login(users["secondline"])
    report = client.get("/admin/reports/reviews-due/").content.decode()
    assert overdue.title in report and later.title not in report
    dashboard = client.get("/admin/").content.decode()
    assert "Reviews due on your articles" in dashboard and overdue.title in dashboard
    assert later.title not in dashboard
    client.force_login(users["operator"])
    assert client.get("/admin/reports/reviews-due/").status_code in (302, 403)


def test_an_older_revision_can_be_restored(client, users, article):
    page = article("demo-printer-offline")
    old_title = page.title
    page.title = "Printer offline (rewritten)"
    page = publish(page, users["manager"])
    old_revision = page.revisions.order_by("created_at").filter(content__title=old_title).last()
    client.force_login(users["manager"])
    revert = client.get(f"/admin/pages/{page.pk}/revisions/{old_revision.pk}/revert/")
    assert revert.status_code == 200 and old_title in revert.content.decode()
    compare = client.get(
        f"/admin/pages/{page.pk}/revisions/compare/{old_revision.pk}...{page.latest_revision_id}/"
    )
    assert compare.status_code == 200
    restored = old_revision.as_object()
    publish(restored, users["manager"])
    assert Page.objects.get(pk=page.pk).title == old_title
