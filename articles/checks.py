"""`manage.py check --deploy`: the site must not still call itself localhost in production.

Links to self-service pages (the operator's "copy the self-service link", sitemaps, e-mails)
are built from the default Wagtail Site and from WAGTAILADMIN_BASE_URL (KB_BASE_URL).
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.db import DatabaseError

from .site_setup import is_local_hostname

FIX = "Run `manage.py setup_site --base-url https://your.host` and set KB_BASE_URL to the same."


@checks.register(checks.Tags.urls, deploy=True)
def check_site_address(app_configs=None, **kwargs):
    from wagtail.models import Site

    warnings = []
    admin_host = urlsplit(getattr(settings, "WAGTAILADMIN_BASE_URL", "") or "").hostname
    if not admin_host or is_local_hostname(admin_host):
        warnings.append(
            checks.Warning(
                f"KB_BASE_URL (WAGTAILADMIN_BASE_URL) is {settings.WAGTAILADMIN_BASE_URL!r}: "
                "links in notification e-mails will point at this machine, not the site.",
                hint=FIX,
                id="kb.W001",
            )
        )
    try:
        site = Site.objects.filter(is_default_site=True).first()
    except DatabaseError:  # no database yet (before migrate): nothing to compare
        return warnings
    if site is None:
        warnings.append(
            checks.Warning(
                "There is no default Wagtail site: pages cannot be served.",
                hint="Run `manage.py setup_site --base-url https://your.host`.",
                id="kb.W002",
            )
        )
    elif is_local_hostname(site.hostname):
        warnings.append(
            checks.Warning(
                f"The default Wagtail site's address is {site.root_url}: self-service links "
                "given to customers (the operator's copy-link button) will not work.",
                hint=FIX,
                id="kb.W003",
            )
        )
    return warnings
