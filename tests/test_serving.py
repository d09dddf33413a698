"""Serving under load: the article page while and after an article is published, a web
worker's intra-op threads, and the search API's per-process site lookup (bench/load_test.py,
bench/request_cpu.py; docs/reliability.md "Load")."""

import faiss
import torch
from django.test import RequestFactory
from wagtail.models import Site

from search import service
from search.serializers import remember_site
from search.warmup import limit_worker_threads
from tests.conftest import publish

ARTICLE_PATH = "/en/printers-hardware/office-printer-shows-as-offline/"  # the load test's


def _new_expected_result(page, text):
    page = page.get_latest_revision_as_object()
    blocks = list(page.resolution.raw_data)
    step = next(b for b in blocks if b["type"] == "step")
    step["value"]["expected_result"] = text
    page.resolution = page.resolution.stream_block.to_python(blocks)
    return page


def test_article_page_renders_after_an_article_is_published(client, article, run_on_commit):
    """The load test's customers read this page while the editor publishes revisions of it;
    every read answered 500 on a database that lacked a migration (see also
    test_deployment.py: /healthz is then down)."""
    page = article("demo-printer-offline")
    before = client.get(ARTICLE_PATH)
    assert before.status_code == 200
    assert page.title in before.content.decode()
    for n in range(2):
        run_on_commit(publish, _new_expected_result(page, f"The printer shows Ready ({n})."))
        after = client.get(ARTICLE_PATH)
        assert after.status_code == 200
        html = after.content.decode()
        assert page.title in html and f"The printer shows Ready ({n})." in html


def test_a_web_worker_keeps_one_intra_op_thread_through_its_searches(db, settings):
    settings.KB_QUERY_THREADS = 1
    saved = torch.get_num_threads(), faiss.omp_get_max_threads()
    try:
        torch.set_num_threads(2)
        faiss.omp_set_num_threads(2)
        assert limit_worker_threads() == (1, 1)
        for query, locale in (("printer offline", "en"), ("printer staat offline", "nl")):
            assert service.search(query, locale=locale, limit=3).hits
            # query_threads() no longer switches the pools up again after each search.
            assert (torch.get_num_threads(), faiss.omp_get_max_threads()) == (1, 1)
    finally:
        torch.set_num_threads(saved[0])
        faiss.omp_set_num_threads(saved[1])


def test_search_api_urls_and_site_follow_a_site_change_at_once(operator, article):
    answer = operator.get("/api/v1/search/", {"q": "printer offline", "locale": "en"}).json()
    page = article("demo-printer-offline")
    found = {r["id"]: r["url"] for r in answer["results"]}
    # The URLs the API hands out are the ones Wagtail builds with its own site lookup.
    assert found[page.pk] == page.get_url(request=RequestFactory().get("/"))
    site = Site.objects.get(is_default_site=True)
    site.site_name = "Renamed helpdesk"
    site.save()
    request = RequestFactory().get("/api/v1/search/")
    remember_site(request)
    assert request._wagtail_site.pk == site.pk
    assert request._wagtail_site.site_name == "Renamed helpdesk"
