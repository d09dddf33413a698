"""Category pages (summary, counts, scoped search, subtopics) and article pages (breadcrumb,
last updated, 'N of M found this helpful')."""

import pytest
from django.utils import timezone

from articles.models import CategoryPage
from insights.models import ArticleFeedback

pytestmark = [pytest.mark.model, pytest.mark.django_db]


def _category(article):
    return CategoryPage.objects.get(pk=article.get_parent().pk)


def test_category_page_shows_count_and_a_search_box_scoped_to_it(client, article):
    category = _category(article("demo-wifi-cannot-connect", "nl"))
    html = client.get(category.url).content.decode()
    count = category.public_articles().count()
    assert count >= 2
    assert f"{count} artikels" in html or f"{count} articles" in html
    assert f'name="category" value="{category.pk}"' in html
    assert 'id="category-q"' in html
    assert (
        '<p class="intro">Geen verbinding op kantoor of thuis: wifi, VPN en het netwerk.</p>'
        in html
    )


def test_the_scoped_search_returns_only_articles_of_that_category(client, article):
    wifi = article("demo-wifi-cannot-connect", "en")
    category = _category(wifi)
    unscoped = client.get("/en/search/", {"q": "printer offline"}).content.decode()
    assert "Printer" in unscoped or "printer" in unscoped
    response = client.get("/en/search/", {"q": "printer offline", "category": category.pk})
    results = response.context["results"]
    assert results
    assert all(r["hit"].page.path.startswith(category.path) for r in results)
    client.get("/en/search/", {"q": "printer", "category": "nonsense"})  # ignored, no error


def test_home_lists_topics_with_article_counts(client):
    html = client.get("/fr/").content.decode()
    assert 'class="card-count"' in html and "articles" in html


def test_article_page_has_a_breadcrumb_from_home(client, article):
    page = article("demo-printer-offline", "nl")
    html = client.get(page.url).content.decode()
    crumb = html[
        html.index('class="breadcrumb"') : html.index("</nav>", html.index('class="breadcrumb"'))
    ]
    assert 'href="/nl/"' in crumb
    assert page.get_parent().title in crumb
    assert 'aria-current="page"' in crumb


def test_article_page_says_when_it_was_last_updated(client, article):
    page = article("demo-printer-offline", "fr")
    html = client.get(page.url).content.decode()
    assert 'id="last-updated"' in html and "Dernière mise à jour" in html
    assert timezone.localdate(page.last_published_at).isoformat() in html


def test_article_page_shows_how_many_found_it_helpful(client, article):
    page = article("demo-printer-offline", "en")
    assert 'id="helpful-count"' not in client.get(page.url).content.decode()
    for helpful in (True, True, False):
        ArticleFeedback.objects.create(article=page, locale="en", helpful=helpful)
    html = client.get(page.url).content.decode()
    assert "2 of 3 found this helpful" in html
    nl = article("demo-printer-offline", "nl")
    ArticleFeedback.objects.create(article=nl, locale="nl", helpful=True)
    assert "1 van 1 vond dit nuttig" in client.get(nl.url).content.decode()


def test_step_anchors_count_steps_only_when_a_note_or_script_comes_first(client, article):
    # Search results link to the matched step (#step-N, numbered like the index numbers
    # steps); a note or a diagnosis script placed before the steps must not shift them.
    from tests.conftest import publish

    page = article("demo-printer-offline", "en")
    steps = [b for b in page.resolution.raw_data if b["type"] == "step"]
    others = [b for b in page.resolution.raw_data if b["type"] != "step"]
    note = {"type": "note", "value": {"kind": "tip", "text": "<p>Keep the printer on.</p>"}}
    page.resolution = page.resolution.stream_block.to_python([note, *others, *steps])
    page = publish(page)
    html = client.get(page.url).content.decode()
    for number, block in enumerate(steps, start=1):
        start = html.index(f'id="step-{number}"')
        end = html.index("</li>", start)
        first_words = block["value"]["instruction"].split("<p>")[-1][:20]
        assert first_words in html[start:end], (number, first_words)
    assert f'id="step-{len(steps) + 1}"' not in html
