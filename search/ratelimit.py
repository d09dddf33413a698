"""Rate limits per client address, counted in the shared cache by django-ratelimit.

Each limit names the HTTP methods it counts, so opening a form (GET) never uses an
allowance meant for sending it (POST). The client address is REMOTE_ADDR, or the header
named by KB_CLIENT_IP_HEADER when the request comes from one of KB_TRUSTED_PROXIES (a
client can send that header too: only a trusted proxy's copy is believed). IPv6 clients
are counted per /64, the block one customer usually holds. The limits themselves are
listed in docs/deployment.md.
"""

import ipaddress
import logging
from functools import lru_cache, wraps

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy
from django_ratelimit.core import is_ratelimited

logger = logging.getLogger("kb.ratelimit")

GET = ("GET", "HEAD")
POST = ("POST",)
MESSAGE = gettext_lazy("Too many requests; please wait a moment and try again.")


@lru_cache(maxsize=8)
def _trusted_networks(proxies):
    networks = []
    for entry in proxies:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            logger.error("KB_TRUSTED_PROXIES: %r is not an address or network; ignored", entry)
    return tuple(networks)


def _parse_ip(value):
    try:
        return ipaddress.ip_address(value.strip().strip("[]"))
    except ValueError:
        return None


def client_address(request):
    """The address to count a request against (a string)."""
    remote = request.META.get("REMOTE_ADDR", "")
    header = getattr(settings, "KB_CLIENT_IP_HEADER", "")
    if header:
        proxy = _parse_ip(remote)
        trusted = _trusted_networks(tuple(getattr(settings, "KB_TRUSTED_PROXIES", ())))
        if proxy is not None and any(proxy in network for network in trusted):
            value = request.META.get("HTTP_" + header.upper().replace("-", "_"), "")
            # X-Forwarded-For lists every hop; the last one is the address our proxy saw.
            client = _parse_ip(value.split(",")[-1]) if value else None
            if client is not None:
                return str(client)
    return remote or "unknown"


def client_key(group, request):
    address = _parse_ip(client_address(request))
    if address is not None and address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address) if address is not None else "unknown"


def rate_limited(group, rate, methods, json=False):
    """Allow `rate` ("5/10m", "60/m") requests with one of `methods` per client address."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            try:
                limited = is_ratelimited(
                    request,
                    group=group,
                    key=client_key,
                    rate=rate,
                    method=list(methods),
                    increment=True,
                )
            except Exception:  # a cache outage must not take the customer pages down
                logger.exception("rate limit %s could not be checked; request allowed", group)
                limited = False
            if limited:
                if json:
                    return JsonResponse({"error": str(MESSAGE)}, status=429)
                return render(request, "search/rate_limited.html", {"message": MESSAGE}, status=429)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
