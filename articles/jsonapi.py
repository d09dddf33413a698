"""Helpers shared by every JSON endpoint (articles' authoring APIs, search's operator and public
APIs): one error shape, one staff check, one way to read a JSON body or an integer parameter.

In `articles` because "staff" is the content layer's reader rule (visibility.py); `search`
sits above and imports it.
"""

import json

from django.http import JsonResponse
from django.utils.translation import gettext as _

from .visibility import user_is_staff_reader


def error(message, status=400):
    """The error response of every JSON API: {"error": "<a sentence for the person>"}."""
    return JsonResponse({"error": message}, status=status)


def staff_only(request):
    """None for helpdesk staff; otherwise the 401/403 response to return."""
    if not request.user.is_authenticated:
        return error(_("Log in as helpdesk staff to do this."), status=401)
    if not user_is_staff_reader(request.user):
        return error(_("Only helpdesk staff may do this."), status=403)
    return None


def json_body(request):
    """The request body as a dict, or None when it is not a JSON object."""
    try:
        data = json.loads(request.body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def parse_int(value):
    """An int, or None for anything that is not one (ids and positions from clients)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
