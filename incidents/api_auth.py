"""Integration API keys on requests: `Authorization: Bearer <key>` (or `X-API-Key: <key>`)."""

from functools import wraps

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from .services import ApiKeyRejected, authenticate_api_key


def key_from_request(request):
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("X-API-Key", "").strip()


def api_key_required(scope):
    """Views for the ticketing system: no session, no CSRF; the key and its scope decide.
    The view gets the key as `request.api_key`."""

    def decorator(view):
        @csrf_exempt
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            try:
                request.api_key = authenticate_api_key(key_from_request(request), scope)
            except ApiKeyRejected as exc:
                return JsonResponse({"error": str(exc)}, status=exc.status)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
