"""Write side of search analytics. Never slows or breaks a search: failures are logged."""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from embeddings.encoder import comparison_model_id, get_encoder
from incidents import services as incident_services
from incidents.models import IncidentLink
from textutils.redaction import redact
from textutils.sanitize import sanitize_text

from . import gaps, learning
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
        # Anonymous visitors are followed by their trail cookie (search/trail.py), not a session.
        trail = getattr(request, "kb_trail", None)
        with transaction.atomic():
            event = SearchEvent.objects.create(
                channel=channel,
                locale=response.locale,
                user=user if user is not None and user.is_authenticated else None,
                session_key=trail or ((session.session_key or "") if session is not None else ""),
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
    *,
    user,
    outcome,
    query="",
    locale="",
    article=None,
    team=None,
    note="",
    search_event_id=None,
    ticket_reference="",
    known_problem=None,
):
    """`ticket_reference` must already be checked (incidents.services.clean_ticket_reference).
    A call linked to a known problem is also counted on the problem (incidents.IncidentLink)."""
    event = SearchEvent.objects.filter(pk=search_event_id).first() if search_event_id else None
    redacted = redact(query)[:600]
    with transaction.atomic():
        record = CallOutcome.objects.create(
            user=user,
            outcome=outcome,
            query=redacted,
            locale=locale[:8],
            article=article,
            team=team,
            note=redact(note)[:2000],
            search_event=event,
            ticket_reference=ticket_reference,
            known_problem=known_problem,
        )
        if known_problem is not None:
            incident_services.link(
                known_problem=known_problem,
                ticket_reference=ticket_reference,
                source=IncidentLink.SOURCE_CONSOLE,
                user=user,
                query=redacted,
            )
    # A solved call's wording is stored as evidence; run_worker's "learning" job turns it into
    # learned phrasings off the request (insights/learning.py).
    learning.note_solved_call(record)
    return record


def record_feedback(*, article, locale, helpful, session_key=""):
    """'Was this helpful?' yes/no on an article page."""
    record = ArticleFeedback.objects.create(
        article=article, locale=locale[:8], helpful=bool(helpful), session_key=session_key
    )
    learning.note_helpful_feedback(record)  # 'yes' after a public search teaches too
    return record


def add_feedback_details(record, *, reason, comment=""):
    """The reason and optional comment after a 'no': plain text, personal data redacted."""
    record.reason = reason
    record.comment = redact(sanitize_text(comment or "", MAX_COMMENT_CHARS))
    record.save(update_fields=["reason", "comment"])
    return record


def record_contact_request(
    *, locale, name, email, phone, message, article, session_key, troubleshooting=None, now=None
):
    """'Still need help?': store the request with the public searches of the last two hours
    and the guided-troubleshooting answers the customer gave on the article."""
    record = ContactRequest.objects.create(
        troubleshooting=troubleshooting or {},
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
