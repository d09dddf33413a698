"""The hits' pages built without the constructors that do nothing for a stored page
(search/service.py, _page_from_db) and their services without cloning a query per page
(_with_results): the same objects Django's from_db and prefetch give, and the ORM's path
again as soon as the page model runs a constructor the shortcut does not know."""

import pytest
from django.db import DEFAULT_DB_ALIAS, connections

from articles.models import Service, SolutionArticlePage
from search import service

pytestmark = pytest.mark.django_db

CACHES = {"_state", "_prefetched_objects_cache"}


def own_attributes(obj):
    """The instance's own values (fields, caches of related objects aside)."""
    return {k: v for k, v in vars(obj).items() if k not in CACHES}


def test_a_hydrated_page_is_the_page_from_db_gives():
    ids = list(SolutionArticlePage.objects.values_list("pk", flat=True)[:8])
    pages = service.hydrate_pages(ids)
    assert set(pages) == set(ids)
    for pk, page in pages.items():
        want = SolutionArticlePage.objects.get(pk=pk)
        assert type(page) is SolutionArticlePage
        assert own_attributes(page) == own_attributes(want)
        assert page._state.adding is False and page._state.db == "default"
        assert page.specific_class is SolutionArticlePage
        assert page.get_url() == want.get_url()
    # A stored page behaves as one: saved, it is updated, not inserted again.
    page = pages[ids[0]]
    page.title = "Renamed through a hydrated page"
    page.save(update_fields=["title"])
    assert SolutionArticlePage.objects.get(pk=ids[0]).title == page.title
    assert SolutionArticlePage.objects.count() >= len(ids)


def test_an_unknown_page_constructor_turns_the_shortcut_off(monkeypatch):
    ids = list(SolutionArticlePage.objects.values_list("pk", flat=True)[:3])
    assert service._only_known_page_inits()  # the shortcut is in use on this install
    connections[DEFAULT_DB_ALIAS].__dict__.pop("_kb_page_statements", None)
    monkeypatch.setattr(service, "_PAGE_INITS", frozenset({"builtins.object"}))
    built = []
    original = SolutionArticlePage.from_db.__func__

    def from_db(cls, *args):
        built.append(args[2][0])
        return original(cls, *args)

    monkeypatch.setattr(SolutionArticlePage, "from_db", classmethod(from_db))
    try:
        pages = service.hydrate_pages(ids)
    finally:
        connections[DEFAULT_DB_ALIAS].__dict__.pop(
            "_kb_page_statements", None
        )  # not kept for other tests
    assert sorted(built) == sorted(ids)  # through the model's own constructors
    assert set(pages) == set(ids)


def test_each_pages_services_are_its_own():
    ids = list(SolutionArticlePage.objects.values_list("pk", flat=True))
    pages = service.hydrate_pages(ids)
    with_services = [p for p in pages.values() if p.services.all()]
    assert len(with_services) >= 2
    first, second = with_services[0], with_services[1]
    assert first.services.all() is first.services.all()  # the prefetched list, no query
    assert first.services.all() is not second.services.all()
    for page in (first, second):
        links = SolutionArticlePage.services.through.objects.filter(solutionarticlepage=page.pk)
        expected = list(
            Service.objects.filter(pk__in=links.values("service")).order_by("name", "pk")
        )
        assert list(page.services.all()) == expected
        assert len(page.services.all()) == len(expected)
    # Narrowing one page's services is a new query: the other page's list is unchanged.
    before = list(second.services.all())
    narrowed = first.services.all().order_by("-pk")
    assert narrowed._result_cache is None and narrowed.query is not first.services.all().query
    list(narrowed)
    assert list(second.services.all()) == before
    assert first.services.all()._result_cache is not None
