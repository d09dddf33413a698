"""The search's hits are whole articles: the page-fetch shortcut must load exactly what the
ORM would (every field, the locale, the escalation team, the services with their teams), so
cards, URLs, coverage and the search log are what they were, with nothing fetched per hit."""

import pytest
from django.db import connection
from django.db.models import Prefetch
from django.test.utils import CaptureQueriesContext

from articles.models import EscalationTeam, Service, SolutionArticlePage
from search import service
from search.serializers import response_to_dict

pytestmark = pytest.mark.django_db


def orm_pages(ids):
    return (
        SolutionArticlePage.objects.filter(pk__in=ids)
        .select_related("locale", "escalation_team")
        .prefetch_related(
            Prefetch("services", queryset=Service.objects.select_related("owning_team"))
        )
        .in_bulk()
    )


def field_values(obj):
    return [(f.attname, getattr(obj, f.attname)) for f in obj._meta.concrete_fields]


def test_hydrated_pages_equal_the_orms_field_for_field():
    ids = list(SolutionArticlePage.objects.values_list("pk", flat=True))
    # An article without an escalation team of its own, and one whose team was just renamed.
    team = EscalationTeam.objects.first()
    team.name = "Renamed team"
    team.save()
    SolutionArticlePage.objects.filter(pk=ids[0]).update(escalation_team=None)
    SolutionArticlePage.objects.filter(pk=ids[1]).update(escalation_team=team)
    expected = orm_pages(ids)
    with CaptureQueriesContext(connection) as ctx:
        pages = service.hydrate_pages(ids + [ids[0], 10**9])  # a duplicate, a missing id
    assert len(ctx.captured_queries) == 2  # the pages (locale, team), the services
    assert set(pages) == set(expected)
    with CaptureQueriesContext(connection) as ctx:
        for pk, page in pages.items():
            want = expected[pk]
            assert type(page) is SolutionArticlePage
            assert field_values(page) == field_values(want)
            assert [type(v) for _k, v in field_values(page)] == [
                type(v) for _k, v in field_values(want)
            ]
            assert field_values(page.locale) == field_values(want.locale)
            assert (page.escalation_team is None) == (want.escalation_team is None)
            if want.escalation_team is not None:
                assert field_values(page.escalation_team) == field_values(want.escalation_team)
            assert [field_values(s) for s in page.services.all()] == [
                field_values(s) for s in want.services.all()
            ]
            assert [s.owning_team and s.owning_team.name for s in page.services.all()] == [
                s.owning_team and s.owning_team.name for s in want.services.all()
            ]
            assert page.get_escalation_team() == want.get_escalation_team()
            assert page.issue_phrasings == want.issue_phrasings
            # The steps as stored (iterating the blocks would load the teams they name).
            assert list(page.resolution.raw_data) == list(want.resolution.raw_data)
    assert ctx.captured_queries == []  # nothing loaded lazily, per hit
    assert pages[ids[1]].escalation_team.name == "Renamed team"
    assert pages[ids[0]].escalation_team is None
    assert service.hydrate_pages([]) == {}


def test_operator_search_cards_need_no_further_queries(rf, users):
    operator = users["operator"]
    response = service.search(
        "my printer says it is offline", user=operator, channel="operator", locale="en"
    )
    assert response.hits
    request = rf.get("/api/v1/search/")
    request.user = operator
    response_to_dict(response, request, include_internal_details=True)  # fills the URL cache
    with CaptureQueriesContext(connection) as ctx:
        data = response_to_dict(response, request, include_internal_details=True)
    assert ctx.captured_queries == []
    first = data["results"][0]
    page = orm_pages([first["id"]])[first["id"]]
    assert first["title"] == page.title
    assert first["services"] == [{"slug": s.slug, "name": s.name} for s in page.services.all()]
    team = page.get_escalation_team()
    assert (first["escalation_team"] or {}).get("name") == (team.name if team else None)


def test_staff_visibility_statement_keeps_the_same_pages_as_the_orm(users):
    """Operators' visibility (live, not archived; internal included) built once per process:
    the same pages as the ORM's queryset, also after articles are archived or unpublished."""
    operator = users["operator"]
    articles, _scope, _allowed = service._articles_for(operator, "operator", None)
    public_articles, _scope, _allowed = service._articles_for(None, "public", None)
    ids = list(SolutionArticlePage.objects.values_list("pk", flat=True))
    internal = SolutionArticlePage.objects.filter(audience="internal").values_list("pk", flat=True)
    assert internal  # the demo has internal articles: operators see them, customers do not

    def orm(qs, pool):
        return {
            pid: (key, loc)
            for pid, key, loc in qs.filter(pk__in=pool).values_list(
                "pk", "translation_key", "locale_id"
            )
        }

    for pool in (ids, ids[:7], [ids[3], 10**9]):
        assert service.visible_pages(articles, pool) == orm(articles, pool)
        assert service.visible_pages(public_articles, pool) == orm(public_articles, pool)
    assert set(internal) <= set(service.visible_pages(articles, ids))
    assert not set(internal) & set(service.visible_pages(public_articles, ids))
    SolutionArticlePage.objects.filter(pk=ids[0]).update(kcs_state="archived")
    SolutionArticlePage.objects.filter(pk=ids[1]).update(live=False)
    articles, _scope, _allowed = service._articles_for(operator, "operator", None)
    seen = service.visible_pages(articles, ids)  # the statement kept from above
    assert ids[0] not in seen and ids[1] not in seen
    assert seen == orm(articles, ids)
    assert service.visible_pages(articles, []) == {}
