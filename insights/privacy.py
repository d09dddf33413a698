"""Data-subject requests: everything stored about one e-mail address, exported or erased.

Keyed by the address: contact requests (the only place a customer's e-mail is stored), the
searches and feedback on the same anonymous trail as those requests (search/trail.py), other
people's contact requests that mention the address in their message, and staff accounts with
that address. Each export and erase is logged (logger `kb.privacy` and, for every contact
request it touched, Wagtail's history) with a keyed hash of the address, never the address.
"""

import hashlib
import hmac
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from wagtail.log_actions import log

from .learning import evidence_from, forget_sources, source_for_session, source_for_user
from .models import ArticleFeedback, CallOutcome, ContactRequest, SearchEvent

logger = logging.getLogger("kb.privacy")

# Who may export and erase: knowledge managers (articles/roles.py, insights/signals.py).
PRIVACY_CODENAME = "delete_contactrequest"

ERASED_MENTION = "[EMAIL]"


class PrivacyRequestError(ValueError):
    """The request cannot be carried out; the message says why."""


def normalise(email):
    email = str(email or "").strip()
    if "@" not in email or len(email) > 254 or any(c.isspace() for c in email):
        raise PrivacyRequestError(f"Not an e-mail address: {email[:60]!r}")
    return email.lower()


def subject_hash(email):
    """What the logs keep instead of the address: HMAC-SHA256 keyed with SECRET_KEY, so the
    same address gives the same hash (requests can be matched) but cannot be guessed back
    from a list of addresses without the key."""
    digest = hmac.new(
        settings.SECRET_KEY.encode(), normalise(email).encode(), hashlib.sha256
    ).hexdigest()
    return f"hmac-sha256:{digest[:24]}"


def _own_requests(email):
    return ContactRequest.objects.filter(email__iexact=email)


def _mentions(email):
    return ContactRequest.objects.filter(message__icontains=email).exclude(email__iexact=email)


def _trail_keys(requests):
    """The anonymous trail ids (search/trail.py) of these contact requests' searches."""
    keys = set(
        SearchEvent.objects.filter(contact_requests__in=requests)
        .exclude(session_key="")
        .values_list("session_key", flat=True)
    )
    keys.discard("")
    return keys


def _trail_sources(keys):
    """How the learning search (insights/learning.py) names these trails: hashed."""
    return [source_for_session(key) for key in keys]


def _accounts(email):
    return get_user_model().objects.filter(email__iexact=email)


def _iso(value):
    return value.isoformat() if value else None


def _article(page):
    return {"id": page.pk, "title": page.title} if page is not None else None


def summary(email):
    """How much is stored, by kind (shown before an export or erase; not logged)."""
    email = normalise(email)
    own = list(_own_requests(email).values_list("pk", flat=True))
    keys = _trail_keys(own)
    return {
        "contact requests": len(own),
        "searches on their trail": SearchEvent.objects.filter(
            Q(session_key__in=keys) | Q(contact_requests__in=own)
        )
        .distinct()
        .count(),
        "feedback on their trail": ArticleFeedback.objects.filter(session_key__in=keys).count(),
        "wordings the search learned from their trail": evidence_from(_trail_sources(keys)).count(),
        "other people's contact requests that mention the address": _mentions(email).count(),
        "staff accounts with this address": _accounts(email).count(),
    }


def export(email, *, user=None):
    """A JSON-ready dict of everything stored about `email`."""
    email = normalise(email)
    own = list(_own_requests(email).select_related("article").prefetch_related("searches"))
    keys = _trail_keys([r.pk for r in own])
    feedback = ArticleFeedback.objects.filter(session_key__in=keys).select_related("article")
    searches = SearchEvent.objects.filter(Q(session_key__in=keys) | Q(contact_requests__in=own))
    data = {
        "subject": email,
        "generated_at": _iso(timezone.now()),
        "contact_requests": [
            {
                "id": r.pk,
                "created_at": _iso(r.created_at),
                "locale": r.locale,
                "name": r.name,
                "email": r.email,
                "phone": r.phone,
                "message": r.message,
                "status": r.status,
                "article": _article(r.article),
                "troubleshooting_answers": [
                    {"question": a.get("question", ""), "answer": a.get("answer", "")}
                    for a in (r.troubleshooting or {}).get("answers", [])
                ],
            }
            for r in own
        ],
        "searches_before_contact": [
            {
                "created_at": _iso(s.created_at),
                "locale": s.locale,
                "question_language": s.question_language,
                "query": s.query,
            }
            for s in searches.distinct().order_by("created_at")
        ],
        "feedback": [
            {
                "created_at": _iso(f.created_at),
                "article": _article(f.article),
                "locale": f.locale,
                "helpful": f.helpful,
                "reason": f.reason,
                "comment": f.comment,
            }
            for f in feedback.order_by("created_at")
        ],
        # "Helpful: yes" after a search: that search's wording (redacted) taught the search.
        "wordings_learned_from_their_searches": [
            {
                "created_at": _iso(e.created_at),
                "article": _article(e.article),
                "locale": e.locale,
                "wording": e.text,
            }
            for e in evidence_from(_trail_sources(keys))
            .select_related("article")
            .order_by("created_at")
        ],
        # Someone else's request names this address: its content belongs to them.
        "mentioned_in_other_contact_requests": [
            {"id": pk, "created_at": _iso(created)}
            for pk, created in _mentions(email).values_list("pk", "created_at")
        ],
        "staff_accounts": [_account(u) for u in _accounts(email)],
    }
    _log("export", email, user, own, _counts(data))
    return data


def _account(user):
    return {
        "username": user.get_username(),
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "date_joined": _iso(user.date_joined),
        "last_login": _iso(user.last_login),
        "groups": sorted(user.groups.values_list("name", flat=True)),
        "searches_logged": SearchEvent.objects.filter(user=user).count(),
        "call_outcomes_logged": CallOutcome.objects.filter(user=user).count(),
        "solved_call_wordings_the_search_learned": evidence_from([source_for_user(user)]).count(),
    }


def _counts(data):
    return {key: len(value) for key, value in data.items() if isinstance(value, list)}


@transaction.atomic
def erase(email, *, user=None):
    """Delete the contact requests of `email`, unlink its trail (searches and feedback stay as
    anonymous statistics, their trail id and comments cleared), replace the address where
    others mention it. Staff accounts are left to an administrator (Settings -> Users).
    Returns the counts of what was done."""
    email = normalise(email)
    own = list(_own_requests(email))
    keys = _trail_keys([r.pk for r in own])
    counts = {
        "contact_requests_deleted": len(own),
        # Before the trail is unlinked: the learning search knows the trail by its hash.
        "learned_wordings_deleted": forget_sources(_trail_sources(keys)),
        "searches_unlinked": SearchEvent.objects.filter(session_key__in=keys).update(
            session_key=""
        ),
        "feedback_unlinked": ArticleFeedback.objects.filter(session_key__in=keys).update(
            session_key="", comment=""
        ),
        "mentions_redacted": 0,
        "staff_accounts_left_to_an_administrator": _accounts(email).count(),
    }
    for mention in _mentions(email):
        mention.message = _replace_casefold(mention.message, email, ERASED_MENTION)
        mention.save(update_fields=["message"])
        counts["mentions_redacted"] += 1
    _log("erase", email, user, own, counts)  # before the delete: the log entry needs the pk
    ContactRequest.objects.filter(pk__in=[r.pk for r in own]).delete()
    return counts


def _replace_casefold(text, needle, replacement):
    lower, out, start = text.lower(), [], 0
    while (i := lower.find(needle, start)) >= 0:
        out.append(text[start:i] + replacement)
        start = i + len(needle)
    return "".join(out) + text[start:]


def _log(kind, email, user, requests, counts):
    subject = subject_hash(email)
    actor = user.get_username() if user is not None else "manage.py"
    logger.info("privacy %s subject=%s by=%s %s", kind, subject, actor, counts)
    for request in requests:
        log(
            instance=request,
            action=f"kb.privacy_{kind}",
            user=user,
            title=f"Contact request #{request.pk}",  # not str(request): that holds the name
            data={"subject": subject, "counts": counts},
            deleted=kind == "erase",
        )
