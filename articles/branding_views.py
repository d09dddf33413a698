"""The branding stylesheet: the colours from Wagtail settings as CSS custom properties.

A same-origin file, so the public pages' strict content-security policy (style-src 'self')
needs no exception; its address carries a version of the colours, so it can be cached for a
long time and still change the moment an editor saves new colours."""

from django.http import HttpResponse
from django.views.decorators.http import require_GET

from .branding import SiteBranding

CACHE_SECONDS = 365 * 24 * 60 * 60


@require_GET
def brand_css(request):
    branding = SiteBranding.load(request_or_site=request)
    # Both values passed the #rrggbb validator when saved: nothing else can reach the CSS.
    css = (
        ":root {"
        f" --accent: {branding.primary_colour};"
        f" --accent-ink: {branding.primary_text_colour};"
        " }\n"
    )
    response = HttpResponse(css, content_type="text/css; charset=utf-8")
    if request.GET.get("v") == branding.css_version:
        response["Cache-Control"] = f"public, max-age={CACHE_SECONDS}, immutable"
    else:
        response["Cache-Control"] = "no-cache"
    return response
