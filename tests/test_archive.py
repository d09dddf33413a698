"""Archive means public nowhere: the URL, the sitemap, the category, the language switcher,
related links and the public APIs; staff keep the article and its history."""

import pytest

from articles.lifecycle import archive_article
from articles.models import ArticleRelatedLink, SolutionArticlePage

from .conftest import publish


@pytest.fixture
def translated_pair(db):
    """A public English article that has a public Dutch translation."""
    for page in SolutionArticlePage.objects.live().filter(
        audience="public", locale__language_code="en"
    ):
        dutch = (
            SolutionArticlePage.objects.live()
            .filter(translation_key=page.translation_key, locale__language_code="nl")
            .first()
        )
        if dutch is not None:
            return page, dutch
    pytest.fail("the demo data has no public article translated into Dutch")


@pytest.fixture
def archived(translated_pair, users, run_on_commit):
    english, _dutch = translated_pair
    url = english.url
    assert url
    page = run_on_commit(archive_article, english, users["manager"])
    assert page.kcs_state == SolutionArticlePage.KCS_ARCHIVED and page.live
    return page, url


def test_archived_article_url_is_not_found_for_the_public(client, archived, customer):
    page, url = archived
    response = client.get(url)
    assert response.status_code == 404
    assert page.issue_phrasings[0] not in response.content.decode()
    client.force_login(customer)  # logged in, but not staff: still the public
    assert client.get(url).status_code == 404


def test_live_article_url_still_answers_the_public(client, translated_pair):
    english, _dutch = translated_pair
    assert client.get(english.url).status_code == 200


def test_archived_article_leaves_the_sitemap(client, archived, article):
    page, url = archived
    xml = client.get("/sitemap.xml").content.decode()
    assert url not in xml
    assert article("demo-printer-offline").url in xml  # live articles stay


def test_archived_article_leaves_its_category_and_the_home_page(client, archived):
    page, url = archived
    category_html = client.get(page.get_parent().url).content.decode()
    assert url not in category_html
    assert url not in client.get("/en/").content.decode()


def test_archived_article_leaves_the_language_switcher_of_its_translation(
    client, archived, translated_pair
):
    _page, url = archived
    _english, dutch = translated_pair
    html = client.get(dutch.url).content.decode()
    assert f'href="{url}"' not in html


def test_archived_article_leaves_related_links(client, archived, article, users):
    page, url = archived
    other = article("demo-printer-offline")
    ArticleRelatedLink.objects.create(page=other, related_page=page)
    html = client.get(other.url).content.decode()
    assert f'href="{url}"' not in html
    client.force_login(users["operator"])
    assert f'href="{url}"' not in client.get(other.url).content.decode()


def test_archived_article_is_in_no_public_api(client, archived):
    page, _url = archived
    for q in page.issue_phrasings[:2]:
        hits = client.get("/api/v1/public/search/", {"q": q, "locale": "en"}).json()
        assert page.pk not in [h["id"] for h in hits["results"]]
    assert client.post("/en/feedback/", {"article": page.pk, "helpful": "yes"}).status_code == 404
    contact = client.get("/en/contact/", {"article": page.pk}).content.decode()
    assert page.title not in contact


def test_staff_still_open_an_archived_article_marked_as_archived_and_never_cached(
    operator, archived
):
    page, url = archived
    response = operator.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Archived – staff only" in html and page.issue_phrasings[0] in html
    assert "Was this helpful?" not in html
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert "noindex" in response["X-Robots-Tag"]
    # ... but the console's search and card do not offer it any more.
    hits = operator.get("/api/v1/search/", {"q": page.issue_phrasings[0], "locale": "en"}).json()
    assert page.pk not in [h["id"] for h in hits["results"]]
    assert operator.get(f"/api/v1/articles/{page.pk}/").status_code == 404


def test_admin_keeps_the_archived_article_with_its_history_and_says_archived(manager, archived):
    page, _url = archived
    edit = manager.get(f"/admin/pages/{page.pk}/edit/")
    assert edit.status_code == 200 and "archived" in edit.content.decode()
    history = manager.get(f"/admin/pages/{page.pk}/history/")
    assert history.status_code == 200
    assert page.revisions.count() >= 2
    listing = manager.get(f"/admin/pages/{page.get_parent().pk}/").content.decode()
    assert "archived" in listing


def test_republishing_with_another_state_makes_it_public_again(client, archived, users):
    page, url = archived
    page.kcs_state = SolutionArticlePage.KCS_VALIDATED
    publish(page, users["manager"])
    assert client.get(url).status_code == 200
    assert url in client.get("/sitemap.xml").content.decode()
