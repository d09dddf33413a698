"""Write side of search analytics. Never slows or breaks a search: failures are logged."""

import logging

from django.db import transaction

from .models import CallOutcome, SearchEvent
from .redaction import redact

logger = logging.getLogger("kb.events")


def log_search(response, *, channel, request=None):
    """Store a search with its redacted query; return the event id, or None if logging failed."""
    try:
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        with transaction.atomic():
            event = SearchEvent.objects.create(
                channel=channel,
                locale=response.locale,
                user=user if user is not None and user.is_authenticated else None,
                session_key=(session.session_key or "") if session is not None else "",
                query=redact(response.query)[:600],
                result_page_ids=[h.page.pk for h in response.hits],
                result_scores=[h.score for h in response.hits],
                confidence=response.confidence,
                no_good_match=response.no_good_match,
                latency_ms=response.took_ms,
            )
        return event.pk
    except Exception:
        logger.exception("could not log a %s search; the search itself was answered", channel)
        return None


def record_outcome(
    *, user, outcome, query="", locale="", article=None, team=None, note="", search_event_id=None
):
    event = SearchEvent.objects.filter(pk=search_event_id).first() if search_event_id else None
    return CallOutcome.objects.create(
        user=user,
        outcome=outcome,
        query=redact(query)[:600],
        locale=locale[:8],
        article=article,
        team=team,
        note=redact(note)[:2000],
        search_event=event,
    )
