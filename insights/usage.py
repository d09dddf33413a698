"""How much each article is used: opened from a search, or used to solve a call."""

import datetime
from collections import Counter

from django.utils import timezone

from articles.selectors import visible_articles

from .models import CallOutcome, SearchClick


def usage_counts(days=90):
    """{page id: opens + solved calls} over the last `days` days."""
    since = timezone.now() - datetime.timedelta(days=days)
    counts = Counter(
        SearchClick.objects.filter(created_at__gte=since).values_list("article_id", flat=True)
    )
    counts.update(
        CallOutcome.objects.filter(
            created_at__gte=since, outcome=CallOutcome.SOLVED, article__isnull=False
        ).values_list("article_id", flat=True)
    )
    return counts


def popular_public_articles(locale, limit=8, days=90):
    """Public articles most opened from searches and most used to solve calls lately;
    recently published ones fill the list while there is little usage yet."""
    qs = visible_articles(None).filter(locale=locale)
    counts = usage_counts(days=days)
    used = sorted(qs.filter(pk__in=list(counts)), key=lambda page: counts[page.pk], reverse=True)[
        :limit
    ]
    fill = qs.exclude(pk__in=[p.pk for p in used]).order_by("-last_published_at")[
        : limit - len(used)
    ]
    return used + list(fill)
