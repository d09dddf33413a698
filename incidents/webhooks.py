"""Signed webhooks to the ticketing system when a known problem changes status.

Each event becomes one `WebhookDelivery` per active endpoint. The first attempt runs as a
task right after the change is committed; a failed attempt (no answer, or not 2xx) waits
KB_WEBHOOK_BACKOFF_SECONDS * 2**(attempts - 1) before the next one, and after
KB_WEBHOOK_MAX_ATTEMPTS the delivery is marked failed. `manage.py deliver_webhooks` (run it
every minute, e.g. from cron or the worker) sends what is due. Every attempt is logged.

Signature: ``X-KB-Signature: sha256=HEX`` where HEX is HMAC-SHA256(secret,
"{X-KB-Timestamp}.{raw body}"); receivers check it and reject old timestamps (docs/integration.md).
"""

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger("kb.incidents")

EVENT_STATUS_CHANGED = "known_problem.status_changed"


def _setting(name, default):
    return getattr(settings, name, default)


def sign(secret, timestamp, body):
    message = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def status_payload(problem, change):
    return {
        "event": EVENT_STATUS_CHANGED,
        "known_problem": {
            "id": problem.pk,
            "status": problem.status,
            "previous_status": change.from_status,
            "public": problem.is_public,
            "title": {code: problem.title_in(code) for code in ("en", "nl", "fr")},
            "started_at": problem.started_at.isoformat(),
            "ended_at": problem.ended_at.isoformat() if problem.ended_at else None,
            "services": sorted({s.slug for s in problem.services.all()}),
        },
        "changed_at": change.changed_at.isoformat(),
        "linked_tickets": sorted(
            set(
                problem.links.exclude(ticket_reference="").values_list(
                    "ticket_reference", flat=True
                )
            )
        ),
    }


def create_deliveries(problem, change):
    """One pending delivery per active endpoint; the caller sends them after the commit."""
    endpoints = list(WebhookEndpoint.objects.filter(active=True))
    if not endpoints:
        return []
    payload = status_payload(problem, change)
    return [
        WebhookDelivery.objects.create(
            endpoint=endpoint,
            known_problem=problem,
            event=EVENT_STATUS_CHANGED,
            payload=payload,
            next_attempt_at=timezone.now(),
        )
        for endpoint in endpoints
    ]


def backoff(attempts):
    return timedelta(seconds=_setting("KB_WEBHOOK_BACKOFF_SECONDS", 60) * 2 ** (attempts - 1))


def attempt(delivery, now=None):
    """POST the delivery once; record the attempt and what happens next. Returns the delivery."""
    now = now or timezone.now()
    endpoint = delivery.endpoint
    body = json.dumps({**delivery.payload, "delivery_id": delivery.pk}, sort_keys=True).encode()
    timestamp = str(int(now.timestamp()))
    request = urllib.request.Request(
        endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "helpdesk-kb-webhooks/1",
            "X-KB-Event": delivery.event,
            "X-KB-Delivery": str(delivery.pk),
            "X-KB-Timestamp": timestamp,
            "X-KB-Signature": sign(endpoint.secret, timestamp, body),
        },
    )
    started = time.perf_counter()
    status_code, error = None, ""
    try:
        with urllib.request.urlopen(request, timeout=_setting("KB_WEBHOOK_TIMEOUT", 5)) as resp:
            status_code = resp.status
    except urllib.error.HTTPError as exc:
        status_code, error = exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        error = str(getattr(exc, "reason", exc))[:300] or exc.__class__.__name__
    duration = int((time.perf_counter() - started) * 1000)
    WebhookAttempt.objects.create(
        delivery=delivery,
        attempted_at=now,
        status_code=status_code,
        error=error,
        duration_ms=duration,
    )
    delivery.attempts += 1
    delivery.last_status_code = status_code
    delivery.last_error = error
    if status_code is not None and 200 <= status_code < 300:
        delivery.status = WebhookDelivery.STATUS_DELIVERED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
    elif delivery.attempts >= _setting("KB_WEBHOOK_MAX_ATTEMPTS", 6):
        delivery.status = WebhookDelivery.STATUS_FAILED
        delivery.next_attempt_at = None
        logger.warning("webhook delivery %s to %s failed for good", delivery.pk, endpoint.name)
    else:
        delivery.next_attempt_at = now + backoff(delivery.attempts)
    delivery.save()
    return delivery


def deliver(delivery_id, now=None):
    delivery = (
        WebhookDelivery.objects.select_related("endpoint")
        .filter(pk=delivery_id, status=WebhookDelivery.STATUS_PENDING)
        .first()
    )
    return attempt(delivery, now) if delivery is not None else None


def deliver_due(now=None):
    """Send every pending delivery whose time has come; returns how many were attempted."""
    now = now or timezone.now()
    due = WebhookDelivery.objects.filter(
        status=WebhookDelivery.STATUS_PENDING, next_attempt_at__lte=now
    ).select_related("endpoint")
    count = 0
    for delivery in due:
        attempt(delivery, now)
        count += 1
    return count
