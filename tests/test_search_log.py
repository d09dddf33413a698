"""Search log: clicks with their position, retention with daily counts that survive pruning."""

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from articles.models import SolutionArticlePage
from insights.models import CallOutcome, DailySearchStats, SearchClick, SearchEvent

pytestmark = [pytest.mark.model, pytest.mark.django_db]


def _search(client, q="printer offline"):
    return client.get("/api/v1/public/search/", {"q": q, "locale": "en"}).json()


def test_a_click_on_a_result_is_stored_with_its_position(client):
    data = _search(client)
    second = data["results"][1]["id"]
    response = client.post(
        "/api/v1/clicks/",
        {"search_id": data["search_id"], "article_id": second, "position": 2},
        content_type="application/json",
    )
    assert response.status_code == 201
    click = SearchClick.objects.get()
    assert (click.article_id, click.position, click.search_event_id) == (
        second,
        2,
        data["search_id"],
    )


def test_clicks_on_someone_elses_search_or_a_page_not_in_the_results_are_refused(client):
    data = _search(client)
    other = Client()
    assert (
        other.post(
            "/api/v1/clicks/",
            {"search_id": data["search_id"], "article_id": data["results"][0]["id"], "position": 1},
            content_type="application/json",
        ).status_code
        == 404
    )
    assert (
        client.post(
            "/api/v1/clicks/",
            {"search_id": data["search_id"], "article_id": 999999, "position": 1},
            content_type="application/json",
        ).status_code
        == 404
    )
    assert not SearchClick.objects.exists()


def test_pruning_deletes_old_events_but_keeps_daily_counts(client, users, settings):
    settings.KB_LOG_RETENTION_DAYS = 30
    _search(client)
    _search(client, "quantum chromodynamics lattice")
    CallOutcome.objects.create(user=users["operator"], outcome="no_article", locale="en", note="x")
    old = timezone.now() - datetime.timedelta(days=40)
    SearchEvent.objects.update(created_at=old)
    CallOutcome.objects.update(created_at=old)
    recent = _search(client, "vpn")
    out = StringIO()
    call_command("prune_search_logs", stdout=out)
    assert "Deleted 2 search events and 1 call outcomes" in out.getvalue()
    assert list(SearchEvent.objects.values_list("pk", flat=True)) == [recent["search_id"]]
    stats = DailySearchStats.objects.get(day=timezone.localdate(old), channel="public", locale="en")
    assert (stats.searches, stats.no_good_match) == (2, 1)
    assert (
        DailySearchStats.objects.get(
            day=timezone.localdate(old), channel="operator"
        ).outcomes_no_article
        == 1
    )
    call_command("prune_search_logs", stdout=StringIO())  # idempotent: nothing counted twice
    assert (
        DailySearchStats.objects.get(
            day=timezone.localdate(old), channel="public", locale="en"
        ).searches
        == 2
    )


def test_daily_counts_keep_the_language_the_question_was_asked_in(client, users, settings):
    """A Dutch question on the English page stays Dutch demand after pruning, as the reports'
    language filter counts it before; a row logged without it keeps its locale."""
    settings.KB_LOG_RETENTION_DAYS = 30
    dutch = _search(client, "mijn printer zegt dat hij offline is")
    assert SearchEvent.objects.get(pk=dutch["search_id"]).question_language == "nl"
    old_row = _search(client, "printer offline")
    SearchEvent.objects.filter(pk=old_row["search_id"]).update(question_language="")
    SearchEvent.objects.update(created_at=timezone.now() - datetime.timedelta(days=40))
    call_command("prune_search_logs", stdout=StringIO())
    counts = dict(
        DailySearchStats.objects.filter(channel="public").values_list("locale", "searches")
    )
    assert counts == {"nl": 1, "en": 1}


def test_home_page_lists_the_most_used_public_articles_first(client, users, article):
    from insights.usage import popular_public_articles

    wifi, printer = article("demo-wifi-cannot-connect"), article("demo-printer-offline")
    for _ in range(3):
        CallOutcome.objects.create(
            user=users["operator"], outcome="solved", article=wifi, locale="en"
        )
    CallOutcome.objects.create(
        user=users["operator"], outcome="solved", article=printer, locale="en"
    )
    internal = (
        SolutionArticlePage.objects.live()
        .filter(audience="internal", locale__language_code="en")
        .first()
    )
    for _ in range(5):
        CallOutcome.objects.create(
            user=users["operator"], outcome="solved", article=internal, locale="en"
        )
    top = popular_public_articles(wifi.locale, limit=8)
    assert [p.pk for p in top[:2]] == [wifi.pk, printer.pk]
    assert internal.pk not in [p.pk for p in top]
    html = client.get("/en/").content.decode()
    assert html.index(wifi.title) < html.index(printer.title)


def test_a_search_logged_by_the_previous_release_during_an_upgrade_is_kept():
    """Between `migrate` and the web workers' reload, the previous release's workers insert
    search-log rows without the question-language column: the row must be kept (a database
    default), not refused, and counts in its locale."""
    from django.db import connection

    table = connection.ops.quote_name(SearchEvent._meta.db_table)
    columns = ", ".join(
        connection.ops.quote_name(SearchEvent._meta.get_field(name).column)
        for name in (
            "created_at",
            "channel",
            "locale",
            "session_key",
            "query",
            "result_page_ids",
            "result_scores",
            "confidence",
            "no_good_match",
            "latency_ms",
        )
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [timezone.now(), "public", "nl", "", "printer offline", "[]", "[]", 0.1, True, 12.0],
        )
    event = SearchEvent.objects.get()
    assert event.question_language == "" and event.query == "printer offline"
