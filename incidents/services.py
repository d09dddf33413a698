"""Writes about known problems: status history, links from calls and tickets, API keys."""

import datetime
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from . import webhooks
from .models import (
    ApiKey,
    Deflection,
    IncidentLink,
    KnownProblem,
    KnownProblemStatusChange,
    hash_key,
)
from .tasks import deliver_webhook

DEFAULT_TICKET_PATTERN = r"[A-Z][A-Z0-9]{1,9}-\d{1,12}"


def ticket_pattern():
    return getattr(settings, "KB_TICKET_REFERENCE_PATTERN", "") or DEFAULT_TICKET_PATTERN


def clean_ticket_reference(value):
    """'' for no reference; the stripped reference when it matches KB_TICKET_REFERENCE_PATTERN.
    Raises ValidationError with a message for the person who typed it."""
    value = " ".join(str(value or "").split())
    if not value:
        return ""
    if len(value) > 64 or not re.fullmatch(ticket_pattern(), value):
        raise ValidationError(
            f"The ticket reference {value[:64]!r} is not in the expected format "
            f"(for example INC-123456)."
        )
    return value


def note_status_change(problem, previous_status, user=None):
    """Record a status step and tell the ticketing system once the change is committed."""
    change = KnownProblemStatusChange.objects.create(
        known_problem=problem,
        from_status=previous_status,
        to_status=problem.status,
        changed_by=user if user is not None and user.is_authenticated else None,
    )
    if previous_status:  # a declaration is not a change the linked customers wait for
        for delivery in webhooks.create_deliveries(problem, change):
            transaction.on_commit(lambda pk=delivery.pk: deliver_webhook.enqueue(pk))
    return change


def change_status(problem, status, user=None, now=None):
    if status not in dict(KnownProblem.STATUSES):
        raise ValidationError(f"Unknown status {status!r}.")
    problem.status = status
    problem.ended_at = (now or timezone.now()) if status == KnownProblem.STATUS_RESOLVED else None
    problem._changed_by = user
    problem.save()
    return problem


def link(
    *,
    known_problem=None,
    article=None,
    ticket_reference="",
    source,
    user=None,
    api_key=None,
    query="",
):
    """Link a call or ticket to a known problem or an article. `query` must be redacted."""
    if known_problem is None and article is None:
        raise ValidationError("Say which known problem or article to link to.")
    return IncidentLink.objects.create(
        known_problem=known_problem,
        article=article,
        ticket_reference=clean_ticket_reference(ticket_reference),
        source=source,
        user=user if user is not None and user.is_authenticated else None,
        api_key=api_key,
        query=query[:600],
    )


# --- API keys ---------------------------------------------------------------------------


def create_api_key(name, scopes):
    """(ApiKey, the raw key). The raw key is not stored: show it once."""
    unknown = set(scopes) - set(dict(ApiKey.SCOPES))
    if unknown or not scopes:
        raise ValidationError(f"Scopes must be some of {sorted(dict(ApiKey.SCOPES))}.")
    key = ApiKey.objects.create(name=name, scopes=sorted(set(scopes)))
    return key, key.raw_key


class ApiKeyRejected(Exception):
    """The request's key may not be used; `status` is 401 (no usable key) or 403 (scope)."""

    def __init__(self, message, status=401):
        super().__init__(message)
        self.status = status


def authenticate_api_key(raw_key, scope):
    """The usable key with this scope; raises ApiKeyRejected with a message otherwise."""
    if not raw_key:
        raise ApiKeyRejected("Send your integration API key as 'Authorization: Bearer <key>'.")
    key = ApiKey.objects.filter(key_hash=hash_key(raw_key)).first()
    if key is None:
        raise ApiKeyRejected("Unknown API key.")
    if key.revoked_at is not None:
        raise ApiKeyRejected("This API key has been revoked.")
    if scope not in key.scopes:
        raise ApiKeyRejected(f"This API key does not have the {scope!r} scope.", status=403)
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
    return key


def revoke_api_key(key):
    with transaction.atomic():
        key.revoked_at = key.revoked_at or timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


def attribute_status_change(problem, user):
    """The admin saves the model before it can say who did it: credit the status step that
    save just recorded (the latest one without an author, from the last minute)."""
    recent = timezone.now() - datetime.timedelta(minutes=1)
    latest = problem.status_changes.order_by("-pk").first()
    if latest and latest.changed_by_id is None and latest.changed_at >= recent:
        latest.changed_by = user
        latest.save(update_fields=["changed_by"])


def record_deflection(problem, locale, source=Deflection.SOURCE_CONTACT_FORM):
    return Deflection.objects.create(known_problem=problem, locale=locale[:8], source=source)
