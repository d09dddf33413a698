"""Writes about early warnings: raise one (and tell second line and knowledge managers by
e-mail), refresh it while the rise goes on, dismiss it, or link it to the known problem that
was declared from it. The detector that decides when to raise is insights/early_warning.py.
"""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from articles.roles import KNOWLEDGE_MANAGERS, SECOND_LINE

from .models import LANGUAGES, EarlyWarning, KnownProblem

logger = logging.getLogger("kb.early_warning")

MAX_EXAMPLES = 8


def recipients():
    """Active second-line staff and knowledge managers with an e-mail address."""
    users = get_user_model().objects.filter(
        is_active=True, groups__name__in=[SECOND_LINE, KNOWLEDGE_MANAGERS]
    )
    return sorted({u.email for u in users.exclude(email="")})


def list_url():
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + reverse("incidents_early_warnings")


def notify(warning):
    """One e-mail to second line and knowledge managers (whatever EMAIL_BACKEND says)."""
    to = recipients()
    if not to:
        return 0
    lines = "\n".join(f"- {example}" for example in warning.examples)
    expected = f"{warning.expected:.1f}"
    body = _(
        "Unresolved searches and calls about one topic rose well above their usual rate.\n\n"
        "Topic: %(topic)s\n"
        "%(observed)s in the last %(minutes)s minutes, %(expected)s expected at this hour.\n"
        "Since: %(since)s\n\n"
        "What people asked:\n%(examples)s\n\n"
        "Declare a known problem or dismiss the warning: %(url)s\n"
    ) % {
        "topic": warning.topic,
        "observed": warning.observed,
        "minutes": warning.window_minutes,
        "expected": expected,
        "since": timezone.localtime(warning.first_rise_at).strftime("%Y-%m-%d %H:%M"),
        "examples": lines,
        "url": list_url(),
    }
    try:
        return send_mail(
            subject=_("Early warning: %(topic)s") % {"topic": warning.topic[:80]},
            message=body,
            from_email=None,
            recipient_list=to,
        )
    except Exception:  # the warning is in the admin either way; mail is a courtesy
        logger.exception("could not e-mail early warning %s", warning.pk)
        return 0


def raise_warning(*, services=(), **fields):
    """Create an open warning; the e-mail goes once the row is committed."""
    fields["examples"] = list(fields.get("examples", []))[:MAX_EXAMPLES]
    warning = EarlyWarning.objects.create(**fields)
    if services:
        warning.services.set(services)
    transaction.on_commit(lambda: notify(warning))
    logger.info("early warning %s raised: %s", warning.pk, warning.topic)
    return warning


def refresh_warning(
    warning, *, observed, expected, p_value, last_seen_at, examples=(), window_minutes=None
):
    """The same topic is still high: keep its peak figures (and their window) and newest
    examples."""
    warning.last_seen_at = last_seen_at
    if observed > warning.observed:
        warning.observed, warning.expected, warning.p_value = observed, expected, p_value
        warning.window_minutes = window_minutes or warning.window_minutes
    merged = list(warning.examples)
    for example in examples:
        if example not in merged:
            merged.append(example)
    warning.examples = merged[:MAX_EXAMPLES]
    warning.save(
        update_fields=[
            "last_seen_at",
            "observed",
            "expected",
            "p_value",
            "examples",
            "window_minutes",
        ]
    )
    return warning


def dismiss(warning, user):
    warning.status = EarlyWarning.STATUS_DISMISSED
    warning.handled_at, warning.handled_by = timezone.now(), user
    warning.save(update_fields=["status", "handled_at", "handled_by"])
    return warning


def declare(warning, problem, user, now=None):
    """The known problem declared from this warning: link them and record when."""
    warning.status = EarlyWarning.STATUS_DECLARED
    warning.known_problem = problem
    warning.handled_at = now or timezone.now()
    warning.handled_by = user if user is not None and user.is_authenticated else None
    warning.save(update_fields=["status", "known_problem", "handled_at", "handled_by"])
    return warning


def prefilled_problem(
    *, title="", language="en", examples=(), services=(), source="", started_at=None
):
    """An unsaved known problem for the create form: title in the topic's language, what people
    asked in the internal notes, the services when they are known. Internal and investigating
    until someone writes the customer texts."""
    language = language if language in LANGUAGES else "en"
    title = " ".join(str(title).split())[:200]
    examples = [" ".join(str(e).split())[:300] for e in examples if str(e).strip()][:10]
    notes = source or _("Declared from a report topic.")
    if examples:
        notes += "\n" + _("What people asked:") + "\n" + "\n".join(f"- {e}" for e in examples)
    problem = KnownProblem(
        status=KnownProblem.STATUS_INVESTIGATING,
        is_public=False,
        internal_notes=notes,
        started_at=started_at or timezone.now(),
        **{f"title_{language}": title},
    )
    if services:
        problem.services = list(services)
    return problem


def prefilled_from_warning(warning):
    return prefilled_problem(
        title=warning.topic,
        language=warning.locale,
        examples=warning.examples,
        services=list(warning.services.all()),
        started_at=warning.first_rise_at,
        source=_(
            "Declared from the early warning of %(date)s (%(observed)s requests, %(expected)s expected)."
        )
        % {
            "date": timezone.localtime(warning.raised_at).strftime("%Y-%m-%d %H:%M"),
            "observed": warning.observed,
            "expected": f"{warning.expected:.1f}",
        },
    )
