"""The services on a hit's card come from one hand-written statement (search/service.py,
_attach_services): the same services, in the ORM's order (by name), with their owning teams,
as the prefetch gave, for pages with several services, none, or a service without a team."""

import pytest
from django.db import connection
from django.db.models import Prefetch
from django.test.utils import CaptureQueriesContext

from articles.models import Service, SolutionArticlePage
from search import service

pytestmark = pytest.mark.django_db


def test_several_services_come_in_the_orms_order_with_their_teams():
    pages = list(SolutionArticlePage.objects.order_by("pk")[:3])
    many, none_ = pages[0], pages[1]
    locale_services = list(Service.objects.filter(locale=many.locale).order_by("-pk")[:3])
    assert len(locale_services) == 3
    loose = locale_services[0]
    loose.owning_team = None
    loose.name = "Aaa first by name"  # sorts first though its id is the highest
    loose.save()
    many.services.set(locale_services)
    many.save()
    none_.services.set([])
    none_.save()
    ids = [p.pk for p in pages]
    expected = (
        SolutionArticlePage.objects.filter(pk__in=ids)
        .prefetch_related(
            Prefetch("services", queryset=Service.objects.select_related("owning_team"))
        )
        .in_bulk()
    )
    with CaptureQueriesContext(connection) as ctx:
        hydrated = service.hydrate_pages(ids)
    assert len(ctx.captured_queries) == 2
    with CaptureQueriesContext(connection) as ctx:
        for pk in ids:
            got = [
                (s.pk, s.name, s.owning_team_id, s.owning_team and s.owning_team.name)
                for s in hydrated[pk].services.all()
            ]
            want = [
                (s.pk, s.name, s.owning_team_id, s.owning_team and s.owning_team.name)
                for s in expected[pk].services.all()
            ]
            assert got == want
    assert ctx.captured_queries == []  # services and teams were all loaded
    names = [s.name for s in hydrated[many.pk].services.all()]
    assert len(names) == 3 and names[0] == "Aaa first by name"
    assert list(hydrated[none_.pk].services.all()) == []
    assert hydrated[many.pk].services.all()[0].owning_team is None
