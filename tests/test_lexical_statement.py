"""The full-text statement written once per process (search/lexical.py, same_statement):
the same pages, scores and order as the statement compiled from the ORM scope on every
call, for staff and public scopes, in every language; never reused for another scope."""

import pytest

from articles.models import SolutionArticlePage
from search import lexical, service
from search.stopwords import stem_prefixes
from tests.conftest import publish
from tests.test_lexical import QUERIES

pytestmark = [pytest.mark.model, pytest.mark.django_db]


def marked_scope(staff):
    """The scope the search itself sends: marked by _articles_for."""
    _, prefilter, _ = service._articles_for(None, "operator" if staff else "public", None)
    if staff:  # a staff scope without a staff user: what an operator's search sends
        prefilter = lexical.same_statement(SolutionArticlePage.objects.searchable(), "searchable")
    return prefilter


def fresh_scope(staff):
    """The same pages, unmarked: compiled through the ORM on this call."""
    qs = SolutionArticlePage.objects.searchable()
    return qs if staff else qs.for_audience(SolutionArticlePage.AUDIENCE_PUBLIC)


def ranked(query, locale, scope):
    terms = service.lexical_terms(query, locale)
    return lexical.ranked_pages(terms, scope, 50, stem_prefixes(terms, locale))


def test_the_search_marks_its_scope_and_not_a_service_filtered_one():
    _, public, _ = service._articles_for(None, "public", None)
    assert getattr(public, lexical._SCOPE_KEY, None) is not None
    _, filtered, _ = service._articles_for(None, "public", "mobile")
    assert getattr(filtered, lexical._SCOPE_KEY, None) is None


@pytest.mark.parametrize("staff", [True, False], ids=["staff", "public"])
def test_same_pages_scores_and_order_as_the_orm_scope(staff):
    compared = 0
    for _round in range(2):  # the second round runs the kept statement
        for query, locale in QUERIES:
            expected = ranked(query, locale, fresh_scope(staff))
            found = ranked(query, locale, marked_scope(staff))
            if expected is None:
                assert found is None
                continue
            assert list(found) == list(expected), query
            assert list(found.values()) == pytest.approx(list(expected.values()), rel=1e-9)
            compared += len(found)
    assert compared > 100


def test_the_kept_statement_is_not_compiled_again(monkeypatch):
    query, locale = QUERIES[0]
    first = ranked(query, locale, marked_scope(False))
    assert first

    def no_compile(queryset):
        raise AssertionError("the scope was compiled again")

    monkeypatch.setattr(lexical, "_object_ids", no_compile)
    assert ranked(query, locale, marked_scope(False)) == first
    # A scope built differently is its own statement: compiled, never the kept one.
    with pytest.raises(AssertionError, match="compiled again"):
        ranked(query, locale, fresh_scope(False))


def test_staff_and_public_statements_are_kept_apart(article, users, run_on_commit):
    internal = article("demo-internal-fraud-check")
    query = "fraud check SIM swap contract takeover"
    # Staff's statement kept first, then the public one, then staff again.
    assert internal.pk in ranked(query, "en", marked_scope(True))
    assert internal.pk not in ranked(query, "en", marked_scope(False))
    assert internal.pk in ranked(query, "en", marked_scope(True))
    # A filter on a marked scope is a new scope (the mark is not cloned).
    narrowed = marked_scope(True).exclude(pk=internal.pk)
    assert internal.pk not in ranked(query, "en", narrowed)
    # Archived after the statement was kept: the statement reads the data, not a copy.
    internal.kcs_state = SolutionArticlePage.KCS_ARCHIVED
    run_on_commit(publish, internal, users["admin"])
    assert internal.pk not in ranked(query, "en", marked_scope(True))
