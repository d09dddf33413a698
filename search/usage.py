"""How much each article is used: opened from a search, or used to solve a call."""

import datetime
from collections import Counter

from django.utils import timezone

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
