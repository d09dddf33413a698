"""Retention of search logs: roll old events up into daily counts, then delete them."""

import datetime
import logging
from collections import defaultdict

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from .models import CallOutcome, DailySearchStats, SearchEvent

logger = logging.getLogger("kb.events")


def prune(days=None, now=None):
    """Aggregate and delete events older than `days` (KB_LOG_RETENTION_DAYS). Returns counts deleted."""
    days = settings.KB_LOG_RETENTION_DAYS if days is None else days
    cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
    old_events = SearchEvent.objects.filter(created_at__lt=cutoff)
    old_outcomes = CallOutcome.objects.filter(created_at__lt=cutoff)
    totals = defaultdict(lambda: defaultdict(int))
    rows = old_events.values("created_at__date", "channel", "locale").annotate(
        n=Count("id", distinct=True),
        ngm=Count("id", filter=Q(no_good_match=True), distinct=True),
        empty=Count("id", filter=Q(result_page_ids=[]), distinct=True),
        clicked=Count("id", filter=Q(clicks__isnull=False), distinct=True),
        contact=Count("id", filter=Q(contact_requests__isnull=False), distinct=True),
    )
    for r in rows:
        key = (r["created_at__date"], r["channel"], r["locale"])
        for field, value in (
            ("searches", r["n"]),
            ("no_good_match", r["ngm"]),
            ("no_results", r["empty"]),
            ("with_click", r["clicked"]),
            ("followed_by_contact", r["contact"]),
        ):
            totals[key][field] += value
    for r in old_outcomes.values("created_at__date", "locale", "outcome").annotate(n=Count("id")):
        totals[(r["created_at__date"], "operator", r["locale"])][f"outcomes_{r['outcome']}"] += r[
            "n"
        ]
    with transaction.atomic():
        for (day, channel, locale), counts in totals.items():
            stats, _ = DailySearchStats.objects.select_for_update().get_or_create(
                day=day, channel=channel, locale=locale
            )
            for field, value in counts.items():
                setattr(stats, field, getattr(stats, field) + value)
            stats.save()
        deleted_outcomes = old_outcomes.delete()[0]
        deleted_events = old_events.delete()[0]
    logger.info(
        "pruned %s search events and %s outcomes older than %s days",
        deleted_events,
        deleted_outcomes,
        days,
    )
    return deleted_events, deleted_outcomes
