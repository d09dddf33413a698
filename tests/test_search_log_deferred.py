"""The operator search's log row is written after the answer is sent (insights/events.py,
log_search(defer=True)): the id in the answer works for a click and an outcome, also when
they come before the row is there (another worker still writing it), and the reports count
the search. Outside a transaction, as a server runs, hence transactional tests."""

import datetime
import threading
import time
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.utils import timezone

from insights import events
from insights.models import CallOutcome, DailySearchStats, SearchClick, SearchEvent
from insights.retention import prune

SEARCH = "/api/v1/search/"


def _operator():
    client = Client()
    client.force_login(get_user_model().objects.get(username="operator"))
    return client


def _search(client, q="my printer says it is offline"):
    response = client.get(SEARCH, {"q": q, "locale": "en", "limit": 5, "source": "console"})
    assert response.status_code == 200
    return response.json()


@pytest.fixture(autouse=True)
def fresh_id_blocks():
    # demo_db puts back a snapshot of the database (and of SQLite's id counter) between
    # tests, which a server never does: ids reserved before it must not be handed out after.
    events._search_ids.blocks.clear()
    yield
    events._search_ids.blocks.clear()


WRITE = events._write_search


@pytest.fixture
def held_back(monkeypatch):
    """Deferred rows are not written by this process: they wait in the returned list, as if
    the worker that answered were still writing them."""
    held = []
    monkeypatch.setattr(events, "_write_search", held.append)
    return held


def _write_later(entries, seconds):
    """Another worker writes the held rows after `seconds`, on its own connection."""
    write = WRITE

    def run():
        time.sleep(seconds)
        for entry in entries:
            write(entry)
        connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.model
def test_the_search_row_is_there_once_the_answer_is_sent_with_its_fields(demo_db):
    operator = _operator()
    data = _search(operator, "my printer says it is offline, call me on 0612345678")
    event = SearchEvent.objects.get(pk=data["search_id"])
    assert event.channel == SearchEvent.CHANNEL_OPERATOR
    assert event.user.username == "operator"
    assert event.result_page_ids == [hit["id"] for hit in data["results"]]
    assert "0612345678" not in event.query and "printer" in event.query  # redacted
    assert (event.locale, event.question_language) == ("en", "en")
    # The language the search detected travels with the deferred row: a Dutch question on
    # the console still set to English is logged as Dutch.
    dutch = _search(operator, "mijn printer zegt dat hij offline is")["search_id"]
    assert SearchEvent.objects.values_list("locale", "question_language").get(pk=dutch) == (
        "en",
        "nl",
    )
    # The next search gets another id, and an ordinary insert never takes a reserved one.
    second = _search(operator, "wifi keeps dropping")["search_id"]
    ordinary = SearchEvent.objects.create(channel="api", locale="en", query="x")
    third = _search(operator, "decoder error")["search_id"]
    assert len({data["search_id"], second, third, ordinary.pk}) == 4
    assert SearchEvent.objects.filter(pk__in=[second, third, ordinary.pk]).count() == 3


@pytest.mark.model
def test_a_click_and_an_outcome_that_come_before_the_row_are_still_recorded(demo_db, held_back):
    operator = _operator()
    data = _search(operator)
    assert len(held_back) == 1 and not SearchEvent.objects.filter(pk=data["search_id"]).exists()
    writer = _write_later(list(held_back), 0.3)
    held_back.clear()
    first = data["results"][0]["id"]
    started = time.monotonic()
    click = operator.post(
        "/api/v1/clicks/",
        {"search_id": data["search_id"], "article_id": first, "position": 1},
        content_type="application/json",
    )
    waited = time.monotonic() - started
    writer.join(10)
    assert click.status_code == 201, click.content
    assert waited >= 0.2  # it waited for the row instead of refusing the click
    assert SearchClick.objects.get().search_event_id == data["search_id"]

    # The same for an outcome posted right after a second search.
    data = _search(operator, "wifi keeps dropping")
    writer = _write_later(list(held_back), 0.3)
    held_back.clear()
    outcome = operator.post(
        "/api/v1/outcomes/",
        {
            "outcome": "solved",
            "article_id": data["results"][0]["id"],
            "search_id": data["search_id"],
            "query": "wifi keeps dropping",
            "locale": "en",
        },
        content_type="application/json",
    )
    writer.join(10)
    assert outcome.status_code == 201, outcome.content
    assert CallOutcome.objects.get(pk=outcome.json()["id"]).search_event_id == data["search_id"]

    # The reports count both searches, the click and the solved call (daily counts kept when
    # the raw events are pruned).
    prune(days=0, now=timezone.now() + datetime.timedelta(days=1))
    stats = DailySearchStats.objects.get(channel="operator", locale="en")
    assert (stats.searches, stats.with_click, stats.outcomes_solved) == (2, 1, 1)


@pytest.mark.model
def test_a_search_whose_row_never_comes_loses_only_its_link(demo_db, held_back, caplog):
    operator = _operator()
    data = _search(operator)
    held_back.clear()  # the worker died before writing it
    started = time.monotonic()
    click = operator.post(
        "/api/v1/clicks/",
        {"search_id": data["search_id"], "article_id": data["results"][0]["id"], "position": 1},
        content_type="application/json",
    )
    assert click.status_code == 404  # no 500, and no click on a search nobody logged
    assert time.monotonic() - started < events.PENDING_WAIT_SECONDS + 1.0
    outcome = operator.post(
        "/api/v1/outcomes/",
        {"outcome": "no_article", "search_id": data["search_id"], "query": "printer"},
        content_type="application/json",
    )
    assert outcome.status_code == 201  # the call's outcome itself is kept
    assert CallOutcome.objects.get().search_event_id is None
    # A made-up id (beyond every reserved one) is answered at once, without waiting.
    started = time.monotonic()
    click = operator.post(
        "/api/v1/clicks/",
        {"search_id": data["search_id"] + 10**6, "article_id": 1, "position": 1},
        content_type="application/json",
    )
    assert click.status_code == 404 and time.monotonic() - started < 0.5


@pytest.mark.model
@pytest.mark.django_db(transaction=True)
def test_reserved_ids_are_unique_and_an_ordinary_insert_skips_them():
    """On SQLite and PostgreSQL (KB_TEST_DATABASE_URL): no demo data needed."""
    response = SimpleNamespace(
        locale="en", query="printer", hits=[], confidence=0.1, no_good_match=False, took_ms=3.0
    )
    ids = [
        events.log_search(response, channel=SearchEvent.CHANNEL_API, defer=True) for _ in range(3)
    ]
    assert None not in ids and len(set(ids)) == 3
    assert not SearchEvent.objects.filter(pk__in=ids).exists()  # not written yet
    assert all(events._may_be_pending(pk) for pk in ids)
    ordinary = SearchEvent.objects.create(channel="api", locale="en", query="other")
    assert ordinary.pk not in ids
    # Another process's block does not overlap this one's.
    other = events.reserve_search_ids("default", events._SearchIds.BLOCK)
    assert not set(other) & set(ids) and ordinary.pk not in other
    events.write_pending_searches()
    assert sorted(SearchEvent.objects.filter(pk__in=ids).values_list("pk", flat=True)) == sorted(
        ids
    )
    assert events.find_search(ids[0]).query == "printer"
    assert not events._may_be_pending(max(other) + 1)


@pytest.mark.model
@pytest.mark.django_db(transaction=True)
def test_an_outcome_waits_for_a_row_another_worker_is_still_writing(monkeypatch):
    """On SQLite and PostgreSQL: an operator's outcome posted before the search's row."""
    user = get_user_model().objects.create_superuser(
        "deferred-log-lead", "dl@example.com", "x" * 12
    )
    client = Client()
    client.force_login(user)
    held = []
    monkeypatch.setattr(events, "_write_search", held.append)
    response = SimpleNamespace(
        locale="en", query="vpn drops", hits=[], confidence=0.1, no_good_match=False, took_ms=3.0
    )
    request = SimpleNamespace(user=user, session=None)
    search_id = events.log_search(
        response, channel=SearchEvent.CHANNEL_OPERATOR, request=request, defer=True
    )
    events.write_pending_searches()  # the answering worker's own flush: held back here
    assert held and not SearchEvent.objects.filter(pk=search_id).exists()
    writer = _write_later(list(held), 0.3)
    held.clear()
    outcome = client.post(
        "/api/v1/outcomes/",
        {"outcome": "no_article", "search_id": search_id, "query": "vpn drops"},
        content_type="application/json",
    )
    writer.join(10)
    assert outcome.status_code == 201, outcome.content
    record = CallOutcome.objects.get(pk=outcome.json()["id"])
    assert record.search_event_id == search_id
    assert record.search_event.user == user and record.search_event.query == "vpn drops"
