"""How much each article is used: opened from a search, or used to solve a call."""

import datetime
from collections import Counter

from django.db.models import Count, Q
from django.utils import timezone

from articles.selectors import visible_articles

from .models import ArticleFeedback, CallOutcome, SearchClick


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


def helpful_counts(article):
    """{"helpful": N, "votes": M} from 'Was this helpful?' on this article (guided
    troubleshooting's "this solved it" counts as a yes), or None before the first vote."""
    counts = ArticleFeedback.objects.filter(article_id=article.pk).aggregate(
        votes=Count("id"), helpful=Count("id", filter=Q(helpful=True))
    )
    return counts if counts["votes"] else None
