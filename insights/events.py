"""Write side of search analytics. Never slows or breaks a search: failures are logged."""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from embeddings.encoder import comparison_model_id, get_encoder
from textutils.redaction import redact
from textutils.sanitize import sanitize_text

from . import gaps
from .models import ArticleFeedback, CallOutcome, ContactRequest, SearchEvent

logger = logging.getLogger("kb.events")

MAX_COMMENT_CHARS = 1000
CONTACT_TRAIL_WINDOW = timedelta(hours=2)


def log_search(response, *, channel, request=None, query_vector=None):
    """Store a search with its redacted query; return the event id, or None if logging failed.

    `query_vector` is the query's embedding when the search already computed it (the caller
    in `search` passes it, so logging never encodes)."""
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
        if response.no_good_match and query_vector is not None:
            _remember_vector(response.query, event.query, query_vector)
        return event.pk
    except Exception:
        logger.exception("could not log a %s search; the search itself was answered", channel)
        return None


def _remember_vector(query, redacted, vector):
    """Unresolved demand feeds the knowledge-gap report: keep the query's vector (no encoding).
    `vector` is the comparison model's (search.service.cached_query_vector), the space the
    report clusters in."""
    gaps.remember_search_vector(query, redacted, vector, get_encoder(comparison_model_id()))


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


def record_feedback(*, article, locale, helpful, session_key=""):
    """'Was this helpful?' yes/no on an article page."""
    return ArticleFeedback.objects.create(
        article=article, locale=locale[:8], helpful=bool(helpful), session_key=session_key
    )


def add_feedback_details(record, *, reason, comment=""):
    """The reason and optional comment after a 'no': plain text, personal data redacted."""
    record.reason = reason
    record.comment = redact(sanitize_text(comment or "", MAX_COMMENT_CHARS))
    record.save(update_fields=["reason", "comment"])
    return record


def record_contact_request(*, locale, name, email, phone, message, article, session_key, now=None):
    """'Still need help?': store the request with the public searches of the last two hours."""
    record = ContactRequest.objects.create(
        locale=locale[:8],
        name=sanitize_text(name, 120),
        email=email,
        phone=sanitize_text(phone or "", 40),
        message=sanitize_text(message, 3000),
        article=article,
    )
    trail = SearchEvent.objects.filter(
        session_key=session_key,
        channel=SearchEvent.CHANNEL_PUBLIC,
        created_at__gte=(now or timezone.now()) - CONTACT_TRAIL_WINDOW,
    )
    if now is not None:
        trail = trail.filter(created_at__lte=now)
    record.searches.set(trail)
    return record
