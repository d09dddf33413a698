"""The anonymous search trail: which public searches came before a contact request.

A random id in a short-lived cookie ties a visitor's public searches, clicks and feedback to
a later "Still need help?" request, without a server-side session: an anonymous search or
API call writes no session row (a crawler calling the API 200 times leaves 200 log events and
nothing else). The id is random, says nothing about the visitor, expires with the contact
trail window (two hours after the last use) and is stored only in `SearchEvent.session_key`
and `ArticleFeedback.session_key`, which are pruned with them.
"""

import re
import secrets
from functools import wraps

from django.conf import settings

TRAIL_COOKIE = "kb_trail"
TRAIL_MAX_AGE_SECONDS = 2 * 60 * 60  # events.CONTACT_TRAIL_WINDOW
_VALID = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def trail_key(request):
    """This visitor's trail id: the cookie's, or a new one the response will set."""
    key = getattr(request, "kb_trail", None)
    if key:
        return key
    key = request.COOKIES.get(TRAIL_COOKIE, "")
    if not _VALID.match(key):
        key = secrets.token_urlsafe(24)
    request.kb_trail = key
    return key


def with_trail(view):
    """Give the view `request.kb_trail` and refresh the cookie when the view used it."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        key = getattr(request, "kb_trail", None)
        if key:
            response.set_cookie(
                TRAIL_COOKIE,
                key,
                max_age=TRAIL_MAX_AGE_SECONDS,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response

    return wrapped
