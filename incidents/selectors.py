"""Reads for the customer pages: banners and the status page."""

import datetime

from django.db.models import Q
from django.utils import timezone

from .models import KnownProblem

RECENT_DAYS = 30


def banner_problems(page=None):
    """Active public problems for a banner: all of them on the home and search pages; on an
    article page those affecting one of its services or listing it (any language version)."""
    problems = KnownProblem.objects.active().public().prefetch_related("services")
    if page is not None:
        services = getattr(page, "services", None)
        keys = list(services.values_list("translation_key", flat=True)) if services else []
        problems = problems.filter(
            Q(services__translation_key__in=keys)
            | Q(solution_articles__translation_key=page.translation_key)
        ).distinct()
    return list(problems.order_by("-started_at"))


def status_page_problems(now=None):
    """(current public problems, public problems resolved in the last RECENT_DAYS days)."""
    now = now or timezone.now()
    public = KnownProblem.objects.public().prefetch_related("services")
    current = list(public.active().order_by("-started_at"))
    recent = list(
        public.filter(
            status=KnownProblem.STATUS_RESOLVED,
            ended_at__gte=now - datetime.timedelta(days=RECENT_DAYS),
        ).order_by("-ended_at")
    )
    return current, recent
