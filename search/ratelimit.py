"""A small fixed-window rate limit per client address, kept in the Django cache."""

import time
from functools import wraps

from django.core.cache import cache
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def client_address(request):
    # Behind a proxy, set it to overwrite REMOTE_ADDR; never trust a client-sent header here.
    return request.META.get("REMOTE_ADDR", "unknown")


def allow(bucket, request, limit, window_seconds):
    window = int(time.time() // window_seconds)
    key = f"rl:{bucket}:{client_address(request)}:{window}"
    if cache.add(key, 1, timeout=window_seconds + 1):
        return True
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=window_seconds + 1)
        return True
    return count <= limit


def rate_limited(bucket, limit, window_seconds, json=False):
    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not allow(bucket, request, limit, window_seconds):
                message = _("Too many requests; please wait a moment and try again.")
                if json:
                    return JsonResponse({"error": message}, status=429)
                return render(request, "search/rate_limited.html", {"message": message}, status=429)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
