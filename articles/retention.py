"""Retention of flags: a closed or rejected flag is history, deleted after KB_FLAG_RETENTION_DAYS.

Open flags are work for an article's owner and are never deleted by age."""

import datetime
import logging

from django.conf import settings
from django.utils import timezone

from .models import ArticleFlag

logger = logging.getLogger("kb.retention")


def prune_flags(days=None, now=None):
    """Delete flags closed or rejected more than `days` ago. Returns the number deleted."""
    days = settings.KB_FLAG_RETENTION_DAYS if days is None else days
    cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
    old = ArticleFlag.objects.exclude(status=ArticleFlag.STATUS_OPEN).filter(closed_at__lt=cutoff)
    count = old.count()
    old.delete()
    logger.info("deleted %s closed or rejected flags older than %s days", count, days)
    return count
