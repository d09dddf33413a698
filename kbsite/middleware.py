"""Security headers every response carries (CSP, referrer policy, no MIME sniffing), API 404s
that stay 404s, and JSON bodies no database could store refused with a 400."""

import json

from django.http import JsonResponse
from django.middleware.locale import LocaleMiddleware as DjangoLocaleMiddleware

# Wagtail's admin needs inline styles and scripts; the public and operator pages use
# only same-origin files, so they get the strict policy.
STRICT_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)
ADMIN_CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-inline' 'unsafe-eval'; object-src 'none'; base-uri 'self'; "
    "frame-ancestors 'self'"
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        is_admin = request.path.startswith(("/admin/", "/django-admin/"))
        response.headers.setdefault(
            "Content-Security-Policy", ADMIN_CSP if is_admin else STRICT_CSP
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        return response


class LocaleMiddleware(DjangoLocaleMiddleware):
    """Django's LocaleMiddleware, except that API 404s stay 404s (no redirect to /en/api/...)."""

    def process_response(self, request, response):
        if request.path.startswith("/api/"):
            return response
        return super().process_response(request, response)


class RejectUnstorableJsonMiddleware:
    """A JSON body whose strings hold a lone surrogate (``"\\ud800"``) or a NUL character gets a
    400 here, once for every API: a lone surrogate cannot be encoded as UTF-8 and PostgreSQL
    refuses NUL in text, so every view that stored such a string would fail with a 500.
    Valid pairs (an emoji written as two escapes) pass. Form posts need no such check:
    Django's form fields already refuse NUL, and form bodies are decoded with replacement."""

    MESSAGE = (
        "The request contains text that cannot be stored "
        "(a lone surrogate such as \\ud800, or a NUL character)."
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            request.method in ("POST", "PUT", "PATCH")
            and request.content_type == "application/json"
        ):
            body = request.body
            # Only an escape can smuggle either in: raw UTF-8 cannot encode a surrogate, and
            # JSON does not allow a raw control character inside a string.
            lowered = body.lower()
            if (b"\\ud" in lowered or b"\\u0000" in body) and _has_unstorable_text(body):
                return JsonResponse({"error": self.MESSAGE}, status=400)
        return self.get_response(request)


def _unstorable(text):
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _has_unstorable_text(body):
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return False  # the view answers malformed JSON with its own message
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if _unstorable(value):
                return True
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False
