"""Security headers every response carries (CSP, referrer policy, no MIME sniffing)."""

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
