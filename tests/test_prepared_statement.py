"""The statements written once per database connection and shape (dbutils/prepared.py): the
ORM's rows and SQL for every number of values, the ORM again where the stand-ins cannot be
found, and one statement per connection and shape (no extra query, no second compile)."""

import threading
import uuid

import pytest
from django.db import DEFAULT_DB_ALIAS, connections
from django.test.utils import CaptureQueriesContext
from wagtail.models import Locale

from articles.models import SolutionArticlePage
from dbutils import prepared
from search import service

pytestmark = pytest.mark.django_db

KEPT = (
    "_kb_visible_statements",
    "_kb_own_versions_statements",
    "_kb_page_statements",
    "_kb_service_statements",
)


@pytest.fixture
def fresh_statements():
    """No statement kept on this thread's connection wrapper, before and after the test (a
    statement kept as None by a test must not send later tests to the ORM)."""
    wrapper = connections[DEFAULT_DB_ALIAS]
    for name in KEPT:
        wrapper.__dict__.pop(name, None)
    yield wrapper
    for name in KEPT:
        wrapper.__dict__.pop(name, None)


@pytest.fixture
def builds(monkeypatch):
    """The stand-ins from_queryset was given, one list per statement compiled."""
    calls = []
    original = prepared.PreparedStatement.from_queryset.__func__

    def counted(cls, queryset, stand_ins, layout=None):
        calls.append(list(stand_ins))
        return original(cls, queryset, stand_ins, layout)

    monkeypatch.setattr(prepared.PreparedStatement, "from_queryset", classmethod(counted))
    return calls


def pages(ids):
    # translation_key and first_published_at need the compiler's converters on SQLite.
    return (
        SolutionArticlePage.objects.filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", "translation_key", "locale_id", "first_published_at")
    )


def captured(run):
    with CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as ctx:
        result = run()
    return result, [query["sql"] for query in ctx.captured_queries]


def test_rows_and_sql_are_the_orms_for_several_counts():
    ids = list(SolutionArticlePage.objects.order_by("pk").values_list("pk", flat=True))
    assert len(ids) > 20
    for count in (1, 2, 5, len(ids)):
        stand_ins = [-(n + 1) for n in range(count)]
        statement = prepared.PreparedStatement.from_queryset(pages(stand_ins), stand_ins)
        assert statement is not None
        # SQLite's text UUIDs and datetimes are converted; PostgreSQL's come typed.
        assert bool(statement.converters) == (connections[DEFAULT_DB_ALIAS].vendor == "sqlite")
        # The same statement for other values: its kept parameters are not changed by a run.
        for pool in (ids[:count], ids[-count:], [10**9, *ids[1:count]]):
            rows, sql = captured(
                lambda pool=pool, s=statement: [tuple(row) for row in s.rows(pool)]
            )
            expected, orm_sql = captured(lambda pool=pool: list(pages(pool)))
            assert rows == expected
            assert sql == orm_sql  # the ORM's statement and parameters, one query
            assert all(type(row[1]) is uuid.UUID for row in rows)


def test_stand_ins_that_cannot_be_found_exactly_once_give_no_statement():
    build = prepared.PreparedStatement.from_queryset
    assert build(pages([-1, -2]), [-1, -2]) is not None
    # Not as the database receives them (a string for an integer id).
    assert build(pages([-1, -2]), ["-1", "-2"]) is None
    # Not in the statement at all.
    assert build(pages([-1, -2]), [-1, -2, -3]) is None
    # Twice in the statement: which place a call's value goes to is unknown.
    assert build(pages([-1, -2]).exclude(locale_id=-1), [-1, -2]) is None
    # A stand-in the ORM knows no row has (a negative tree depth): it writes no statement.
    assert build(pages([-1, -2]).filter(numchild=-1), [-1, -2]) is None


def test_call_sites_fall_back_to_the_orm_with_the_same_result(users, monkeypatch, fresh_statements):
    staff, _scope, _allowed = service._articles_for(users["operator"], "operator", None)
    ids = list(SolutionArticlePage.objects.values_list("pk", flat=True))
    keys = list(SolutionArticlePage.objects.values_list("translation_key", flat=True).distinct())
    locale_id = Locale.objects.get(language_code="nl").pk
    kept_ones = service.visible_pages(staff, ids), service.own_versions_of(staff, keys, locale_id)
    assert service._visible_statement(staff, len(ids)) is not None
    for name in KEPT:
        fresh_statements.__dict__.pop(name, None)
    original = prepared.PreparedStatement.from_queryset.__func__

    def unfound(cls, queryset, stand_ins, layout=None):
        # As a Django that sends the values otherwise: no stand-in is found again.
        return original(cls, queryset, [f"{s}?" for s in stand_ins], layout)

    monkeypatch.setattr(prepared.PreparedStatement, "from_queryset", classmethod(unfound))
    assert service._visible_statement(staff, len(ids)) is None
    assert service._own_versions_statement(staff, len(keys)) is None
    for _round in range(2):  # the second round: None is kept, not written again
        visible = service.visible_pages(staff, ids)
        own = service.own_versions_of(staff, keys, locale_id)
        assert (visible, own) == kept_ones
        assert visible == {
            pid: (key, loc)
            for pid, key, loc in staff.filter(pk__in=ids).values_list(
                "pk", "translation_key", "locale_id"
            )
        }
        assert own == frozenset(
            staff.filter(translation_key__in=keys, locale_id=locale_id).values_list(
                "translation_key", flat=True
            )
        )
    assert fresh_statements.__dict__["_kb_visible_statements"] == {len(ids): None}
    assert fresh_statements.__dict__["_kb_own_versions_statements"] == {len(keys): None}


def test_one_statement_per_connection_and_count(users, fresh_statements, builds):
    staff, _scope, _allowed = service._articles_for(users["operator"], "operator", None)
    ids = list(SolutionArticlePage.objects.order_by("pk").values_list("pk", flat=True))
    keys = list(SolutionArticlePage.objects.values_list("translation_key", flat=True).distinct())
    locale_id = Locale.objects.get(language_code="fr").pk
    for _round in range(3):
        for count in (2, 3, 7):
            found, sql = captured(lambda count=count: service.visible_pages(staff, ids[:count]))
            assert len(found) == count and len(sql) == 1
            _orm, orm_sql = captured(
                lambda count=count: list(
                    staff.filter(pk__in=ids[:count]).values_list(
                        "pk", "translation_key", "locale_id"
                    )
                )
            )
            assert sql == orm_sql
            _own, sql = captured(
                lambda count=count: service.own_versions_of(staff, keys[:count], locale_id)
            )
            assert len(sql) == 1
            hydrated, sql = captured(lambda count=count: service.hydrate_pages(ids[:count]))
            assert sorted(hydrated) == ids[:count] and len(sql) == 2  # pages, their services
    # Compiled once per count (visibility, own versions); the same statement kept for each.
    assert len(builds) == 6  # visibility: count stand-ins; own versions: a locale and count
    for name in KEPT:
        assert sorted(fresh_statements.__dict__[name]) == [2, 3, 7], name
    assert service._visible_statement(staff, 3) is service._visible_statement(staff, 3)
    assert service._page_statement(3) is service._page_statement(3)

    # Another thread has its own connection wrapper, so its own statements.
    seen = {}

    def other_thread():
        try:
            seen["wrapper"] = connections[DEFAULT_DB_ALIAS]
            seen["kept"] = prepared.kept(DEFAULT_DB_ALIAS, "_kb_page_statements", 3, object)
            seen["again"] = prepared.kept(DEFAULT_DB_ALIAS, "_kb_page_statements", 3, object)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert seen["wrapper"] is not fresh_statements
    assert seen["kept"] is seen["again"]
    assert seen["kept"] is not service._page_statement(3)
    assert type(service._page_statement(3)) is prepared.PreparedStatement
