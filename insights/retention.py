"""Retention: search logs rolled up into daily counts then deleted; contact requests deleted and
feedback comments cleared after their own periods (run by `manage.py run_worker`)."""

import datetime
import logging
from collections import defaultdict

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from .models import (
    CALL_LANGUAGE,
    ArticleFeedback,
    CallOutcome,
    ContactRequest,
    DailySearchStats,
    SearchEvent,
    demand_language_sql,
)

logger = logging.getLogger("kb.events")


def prune(days=None, now=None):
    """Aggregate and delete events older than `days` (KB_LOG_RETENTION_DAYS). Returns counts deleted."""
    days = settings.KB_LOG_RETENTION_DAYS if days is None else days
    cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
    old_events = SearchEvent.objects.filter(created_at__lt=cutoff)
    old_outcomes = CallOutcome.objects.filter(created_at__lt=cutoff)
    totals = defaultdict(lambda: defaultdict(int))
    # Kept per the language the question was asked in, as the reports' language filter counts
    # the raw events (insights.models.demand_language).
    rows = (
        old_events.annotate(language=demand_language_sql())
        .values("created_at__date", "channel", "language")
        .annotate(
            n=Count("id", distinct=True),
            ngm=Count("id", filter=Q(no_good_match=True), distinct=True),
            empty=Count("id", filter=Q(result_page_ids=[]), distinct=True),
            clicked=Count("id", filter=Q(clicks__isnull=False), distinct=True),
            contact=Count("id", filter=Q(contact_requests__isnull=False), distinct=True),
        )
    )
    for r in rows:
        key = (r["created_at__date"], r["channel"], r["language"])
        for field, value in (
            ("searches", r["n"]),
            ("no_good_match", r["ngm"]),
            ("no_results", r["empty"]),
            ("with_click", r["clicked"]),
            ("followed_by_contact", r["contact"]),
        ):
            totals[key][field] += value
    outcome_rows = (
        old_outcomes.annotate(language=demand_language_sql(**CALL_LANGUAGE))
        .values("created_at__date", "language", "outcome")
        .annotate(n=Count("id"))
    )
    for r in outcome_rows:
        totals[(r["created_at__date"], "operator", r["language"])][f"outcomes_{r['outcome']}"] += r[
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


def _cutoff(days, now):
    return (now or timezone.now()) - datetime.timedelta(days=days)


def prune_contact_requests(days=None, now=None):
    """Delete contact requests (name, e-mail, phone, message) older than
    KB_CONTACT_RETENTION_DAYS, handled or not. Returns the number deleted."""
    days = settings.KB_CONTACT_RETENTION_DAYS if days is None else days
    old = ContactRequest.objects.filter(created_at__lt=_cutoff(days, now))
    count = old.count()
    old.delete()  # the link to the searches goes with it; the searches follow their own rule
    logger.info("deleted %s contact requests older than %s days", count, days)
    return count


def prune_feedback_comments(days=None, now=None):
    """Blank the comment and the trail id of feedback older than
    KB_FEEDBACK_COMMENT_RETENTION_DAYS; the vote and its reason stay for the helpful rate."""
    days = settings.KB_FEEDBACK_COMMENT_RETENTION_DAYS if days is None else days
    old = ArticleFeedback.objects.filter(created_at__lt=_cutoff(days, now)).exclude(
        comment="", session_key=""
    )
    count = old.update(comment="", session_key="")
    logger.info("cleared the comments of %s feedback records older than %s days", count, days)
    return count
