"""Turn search hits into the JSON the APIs and the console use."""

import threading
import time

from django.db.models.signals import post_delete, post_save
from django.http.request import split_domain_port
from wagtail.models import Page, Site
from wagtail.rich_text import expand_db_html

from articles.models import ServiceLevel
from articles.selectors import coverage_for

from .console import localize_hours


def _minutes(value):
    if value is None:
        return None
    if value % 1440 == 0:
        return f"{value // 1440} d"
    if value % 60 == 0:
        return f"{value // 60} h"
    return f"{value} min"


def coverage_entries(page, service_level, service_label="slug"):
    """Per service of the article: covered by this contract or not, SLA targets, escalation team."""
    return [
        {
            "service": getattr(c.service, service_label),
            "covered": c.covered,
            "targets": [
                {
                    "priority": t.priority,
                    "response": _minutes(t.response_minutes),
                    "resolution": _minutes(t.resolution_minutes),
                }
                for t in c.targets
            ],
            "escalation_team": c.escalation_team.name if c.escalation_team else None,
        }
        for c in coverage_for(page, service_level)
    ]


def public_snippet(hit):
    """The snippet a customer may read: a hit found through the operator's diagnosis script
    ("Does the caller see...") shows the article's first issue phrasing instead."""
    if hit.chunk_kind == "diagnosis":
        phrasings = hit.page.issue_phrasings
        return phrasings[0] if phrasings else hit.page.title
    return hit.snippet


# Every hit's URL is built relative to the request's Wagtail site, which Wagtail looks up with
# one annotated query per request (~2.3 ms CPU of a ~70 ms search request, bench/request_cpu.py).
# Sites change rarely: keep the answer per host and port for SITE_CACHE_SECONDS in this
# process (a Site saved or deleted here clears it at once; other processes within that time).
SITE_CACHE_SECONDS = 30.0
_sites = {}  # (hostname, port) -> (monotonic time, Site field values or None)
_sites_lock = threading.Lock()


# Every page URL also needs the sites' root paths, which Wagtail keeps in Django's cache: the
# database cache by default, so one more query per search request. Kept here the same way.
_root_paths = {}  # "paths" -> (monotonic time, [SiteRootPath])

# A page's URL (Wagtail's get_url: its url_path matched against the root paths, the locale's
# prefix reversed, ~0.3 ms of CPU per hit, eight hits per search) is the same for every
# search from one host while the page keeps its url_path and the root paths stay: kept with
# them (cleared when they read differently, checked at most SITE_CACHE_SECONDS later, or a
# site changes here).
_urls = {}  # (hostname, port, site id, page id, url_path, locale id) -> URL
MAX_URLS = 20000


def _forget_sites(**_kwargs):
    with _sites_lock:
        _sites.clear()
        _root_paths.clear()
        _urls.clear()


def _forget_root_paths(sender, instance, **_kwargs):
    # A site's root page renamed or moved here changes its root path at once.
    if isinstance(instance, Page) and instance.depth is not None and instance.depth <= 2:
        _forget_sites()


post_save.connect(_forget_sites, sender=Site, dispatch_uid="kb-search-site-cache")
post_delete.connect(_forget_sites, sender=Site, dispatch_uid="kb-search-site-cache")
post_save.connect(_forget_root_paths, dispatch_uid="kb-search-site-root-paths")


def site_root_paths():
    """Site.get_site_root_paths() from the per-process cache (SITE_CACHE_SECONDS)."""
    now = time.monotonic()
    with _sites_lock:
        cached = _root_paths.get("paths")
    if cached is not None and now - cached[0] <= SITE_CACHE_SECONDS:
        return cached[1]
    paths = Site.get_site_root_paths()
    with _sites_lock:
        _root_paths["paths"] = (now, paths)
        # The URLs depend on the root paths only: kept while they read the same.
        if cached is None or list(cached[1]) != list(paths):
            _urls.clear()
    return paths


def page_url(page, request=None):
    """page.get_url(request=request), kept per host (see _urls) once remember_site ran."""
    host = getattr(request, "_kb_site_key", None)
    if host is None:
        return page.get_url(request=request)
    # The request's site too: which site a host falls to (e.g. the default site) can change
    # in another process without changing the root paths.
    site = getattr(request, "_wagtail_site", None)
    key = (*host, site.pk if site else None, page.pk, page.url_path, page.locale_id)
    with _sites_lock:
        url = _urls.get(key)
    if url is None:
        url = page.get_url(request=request)
        with _sites_lock:
            if len(_urls) >= MAX_URLS:
                _urls.clear()
            _urls[key] = url
    return url


def remember_site(request):
    """Give the request its Wagtail site (what `Site.find_for_request` would find) from the
    per-process cache; a fresh Site instance per request, so nothing is shared between them."""
    if request is None:
        return
    if not hasattr(request, "_wagtail_cached_site_root_paths"):
        # Where Page.get_url(request=...) looks first (wagtail.models.Page._get_site_root_paths).
        request._wagtail_cached_site_root_paths = site_root_paths()
    if hasattr(request, "_wagtail_site"):
        return
    key = (split_domain_port(request._get_raw_host())[0], request.get_port())
    request._kb_site_key = key
    now = time.monotonic()
    with _sites_lock:
        cached = _sites.get(key)
    if cached is None or now - cached[0] > SITE_CACHE_SECONDS:
        site = Site._find_for_request(request)
        values = None
        if site is not None:
            values = {f.attname: getattr(site, f.attname) for f in Site._meta.concrete_fields}
        with _sites_lock:
            _sites[key] = (now, values)
        request._wagtail_site = site
        return
    values = cached[1]
    request._wagtail_site = (
        Site.from_db("default", list(values), list(values.values())) if values else None
    )


def hit_to_dict(hit, request=None, service_level=None, include_internal_details=False):
    page = hit.page
    team = page.get_escalation_team()
    data = {
        "id": page.pk,
        "external_id": page.external_id,
        "translation_key": str(page.translation_key),
        "title": page.title,
        "url": page_url(page, request),
        "snippet": hit.snippet if include_internal_details else public_snippet(hit),
        "matched": {"kind": hit.chunk_kind, "step": hit.matched_step},
        "score": hit.score,
        "locale": hit.locale,
        "fallback_language": hit.fallback,
        # a fallback hit: the languages the article was found in, the shown one first
        "available_languages": list(hit.languages),
        "audience": page.audience,
        "services": [{"slug": s.slug, "name": s.name} for s in page.services.all()],
    }
    if include_internal_details:
        data["escalation_team"] = (
            {
                "name": team.name,
                "queue": team.queue,
                "contact": team.contact,
                "hours": localize_hours(team.hours),
            }
            if team
            else None
        )
        if service_level is not None:
            data["coverage"] = [
                {**entry, "support_hours": localize_hours(service_level.support_hours)}
                for entry in coverage_entries(page, service_level)
            ]
    return data


def response_to_dict(
    response, request=None, service_level_code=None, include_internal_details=False
):
    level = None
    if service_level_code:
        level = (
            ServiceLevel.objects.filter(code=service_level_code).prefetch_related("targets").first()
        )
    remember_site(request)
    return {
        "query": response.query,
        "locale": response.locale,
        "question_language": response.question_language,
        "no_good_match": response.no_good_match,
        "confidence": response.confidence,
        "took_ms": response.took_ms,
        "results": [
            hit_to_dict(h, request, level, include_internal_details) for h in response.hits
        ],
    }


def article_card(page, request=None, service_level=None):
    """Everything an operator needs on one card: steps, diagnosis, coverage, escalation, link."""
    remember_site(request)
    steps, scripts = [], []
    for block in page.resolution:
        if block.block_type == "step":
            steps.append(
                {
                    "number": len(steps) + 1,
                    "html": expand_db_html(block.value["instruction"].source),
                    "expected": block.value.get("expected_result") or "",
                }
            )
        elif block.block_type == "diagnosis":
            scripts.append(
                {
                    "title": block.value["title"],
                    "questions": [
                        {
                            "key": q["key"],
                            "question": q["question"],
                            "yes": _action(q["yes"]),
                            "no": _action(q["no"]),
                        }
                        for q in block.value["questions"]
                    ],
                }
            )
    team = page.get_escalation_team()
    card = {
        "id": page.pk,
        "translation_key": str(page.translation_key),
        "title": page.title,
        "locale": page.locale.language_code,
        "audience": page.audience,
        "url": page_url(page, request),
        "issue": page.issue_phrasings,
        "environment": " ".join(filter(None, [page.environment_product, page.environment_version])),
        "cause_html": expand_db_html(page.cause) if page.cause else "",
        "steps": steps,
        "diagnosis": scripts,
        "services": [{"slug": s.slug, "name": s.name} for s in page.services.all()],
        "escalation_team": (
            {
                "id": team.pk,
                "name": team.name,
                "queue": team.queue,
                "contact": team.contact,
                "hours": localize_hours(team.hours),
            }
            if team
            else None
        ),
        "self_service_url": page.get_full_url(request=request)
        if page.is_visible_to_public()
        else None,
        "kcs_state": page.get_kcs_state_display(),
    }
    if service_level is not None:
        card["coverage"] = {
            "level": service_level.name,
            "support_hours": localize_hours(service_level.support_hours),
            "exclusions": service_level.exclusions,
            "services": coverage_entries(page, service_level, service_label="name"),
        }
    return card


def _action(action):
    data = {"action": action["action"]}
    if action["action"] == "step":
        data["step"] = action["step"]
    elif action["action"] == "question":
        data["question"] = action["question"]
    elif action["action"] == "escalate":
        team = action.get("team")
        data["team"] = team.name if team else None
    return data
