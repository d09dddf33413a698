"""Hit URLs kept per host (search/serializers.py): a periodic re-read of the sites' root
paths that finds them unchanged keeps the URLs; changed root paths, or a host that now
falls to another site, give URLs computed again."""

import pytest
from wagtail.models import Site

from articles.models import SolutionArticlePage
from search import serializers

pytestmark = pytest.mark.django_db


@pytest.fixture
def fresh_caches():
    serializers._forget_sites()
    yield
    serializers._forget_sites()


def url_of(rf, page):
    request = rf.get("/api/v1/search/")
    serializers.remember_site(request)
    return serializers.page_url(page, request)


def expire_root_paths(paths=None):
    when, cached = serializers._root_paths["paths"]
    stale = when - serializers.SITE_CACHE_SECONDS - 1
    serializers._root_paths["paths"] = (stale, cached if paths is None else paths)


def test_unchanged_root_paths_keep_the_urls(rf, fresh_caches, monkeypatch):
    page = SolutionArticlePage.objects.live().first()
    first = url_of(rf, page)
    assert first and first.endswith(page.slug + "/")
    computed = []
    original = SolutionArticlePage.get_url

    def counting(self, *args, **kwargs):
        computed.append(self.pk)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SolutionArticlePage, "get_url", counting)
    expire_root_paths()  # read again on the next request: the same paths
    assert url_of(rf, page) == first
    assert computed == []
    expire_root_paths(paths=[])  # what was read before differs from what is read now
    assert url_of(rf, page) == first
    assert computed == [page.pk]


def test_a_host_that_falls_to_another_site_gets_its_own_urls(rf, fresh_caches):
    page = SolutionArticlePage.objects.live().first()
    request = rf.get("/api/v1/search/")
    serializers.remember_site(request)
    serializers.page_url(page, request)
    other = Site.objects.create(
        hostname="elsewhere.example", root_page=Site.objects.get(is_default_site=True).root_page
    )
    request = rf.get("/api/v1/search/")
    serializers.remember_site(request)
    request._wagtail_site = other  # the host now falls to another site
    key_sites = {key[2] for key in serializers._urls}
    serializers.page_url(page, request)
    assert {key[2] for key in serializers._urls} - key_sites == {other.pk}
