"""What every installation needs before it can take its own articles, and nothing more.

`manage.py setup_site` calls `setup_site()`: a locale per content language, a knowledge-base
home page per language (translations of one another), the staff groups with their
permissions, the review workflow, and the Wagtail Site at the configured address, so
links built from it (the operator's "copy the self-service link") point at the real host.
No demo content: no categories, services, users or articles. Safe to run again; a second
run changes only what the configuration changed (the site's address).
"""

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from wagtail.models import Locale, Page, Site

from .models import KnowledgeBaseHomePage
from .roles import ensure_roles_and_workflow

SITE_NAME = "Helpdesk knowledge base"
# Home page title and intro per language; a language missing here gets the English text.
HOME_PAGES = {
    "en": (
        "Helpdesk knowledge base",
        "Find the answer to your question, or tell us what you need.",
    ),
    "nl": (
        "Kennisbank van de helpdesk",
        "Vind het antwoord op je vraag, of laat ons weten wat je nodig hebt.",
    ),
    "fr": (
        "Base de connaissances du helpdesk",
        "Trouvez la réponse à votre question, ou dites-nous ce qu'il vous faut.",
    ),
}
LOCAL_HOSTNAMES = {"localhost", "127.0.0.1", "::1", "[::1]", "0.0.0.0"}  # noqa: S104


class SiteSetupError(ValueError):
    """The requested site address cannot be used."""


@dataclass
class SiteSetupReport:
    locales: list = field(default_factory=list)
    homes_created: list = field(default_factory=list)
    root_url: str = ""
    hostname: str = ""
    site_changed: bool = False


def is_local_hostname(hostname):
    hostname = (hostname or "").strip().lower()
    return hostname in LOCAL_HOSTNAMES or hostname.endswith(".localhost")


def parse_base_url(base_url):
    """'https://kb.example.be' -> ('kb.example.be', 443). Wagtail's Site keeps only host and
    port and builds links as https for 443, http otherwise."""
    parts = urlsplit(base_url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SiteSetupError(
            f"base URL must look like https://kb.example.be or http://host:8000, got {base_url!r}"
        )
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise SiteSetupError(f"bad port in base URL {base_url!r}") from exc
    if parts.scheme == "https" and port != 443:
        raise SiteSetupError(
            "Wagtail builds https links only for port 443; serve HTTPS on 443 "
            f"or use an http:// base URL (got {base_url!r})"
        )
    return parts.hostname, port


def content_languages():
    """The content languages, the default language first (it holds the site's root page)."""
    codes = [code for code, _name in settings.WAGTAIL_CONTENT_LANGUAGES]
    default = settings.LANGUAGE_CODE if settings.LANGUAGE_CODE in codes else codes[0]
    return [default] + [code for code in codes if code != default]


def ensure_locales():
    return {
        code: Locale.objects.get_or_create(language_code=code)[0] for code in content_languages()
    }


def _publish(page):
    page.save_revision().publish()


def ensure_homes(locales, report=None):
    """One published KnowledgeBaseHomePage per locale, translations of the default one."""
    codes = list(locales)
    default = codes[0]
    homes = {}
    root_home = KnowledgeBaseHomePage.objects.filter(locale=locales[default]).first()
    if root_home is None:
        root = Page.get_first_root_node()
        # Wagtail's initial migration creates a generic welcome page; the KB home replaces it.
        for page in root.get_children().filter(content_type__model="page", slug="home"):
            page.delete()
        title, intro = HOME_PAGES.get(default, HOME_PAGES["en"])
        root_home = KnowledgeBaseHomePage(
            title=title, intro=intro, slug="kb", locale=locales[default]
        )
        root.add_child(instance=root_home)
        _publish(root_home)
        if report is not None:
            report.homes_created.append(default)
    homes[default] = root_home
    for code in codes[1:]:
        home = KnowledgeBaseHomePage.objects.filter(locale=locales[code]).first()
        if home is None:
            home = root_home.copy_for_translation(locales[code])
            home.title, home.intro = HOME_PAGES.get(code, HOME_PAGES["en"])
            home.save()
            _publish(home)
            if report is not None:
                report.homes_created.append(code)
        homes[code] = home
    return homes


def ensure_site(root_page, hostname, port):
    """Make the default Wagtail Site serve root_page at hostname:port; return (site, changed)."""
    clash = Site.objects.filter(hostname=hostname, port=port, is_default_site=False).first()
    if clash is not None:
        raise SiteSetupError(
            f"another Wagtail site ({clash.site_name or clash.pk}) already uses "
            f"{hostname}:{port}; change or delete it in the admin first"
        )
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        site = Site.objects.create(
            hostname=hostname,
            port=port,
            root_page=root_page,
            is_default_site=True,
            site_name=SITE_NAME,
        )
        return site, True
    wanted = {"hostname": hostname, "port": port, "root_page_id": root_page.pk}
    changed = {name: value for name, value in wanted.items() if getattr(site, name) != value}
    if changed:
        for name, value in changed.items():
            setattr(site, name, value)
        site.save()
    return site, bool(changed)


def setup_site(base_url=None, hostname=None, port=None):
    """Create or update everything a fresh installation needs; return a SiteSetupReport.

    The site address comes from base_url (default: settings.WAGTAILADMIN_BASE_URL, i.e. the
    KB_BASE_URL environment variable); hostname and port override its parts.
    """
    default_host, default_port = parse_base_url(base_url or settings.WAGTAILADMIN_BASE_URL)
    hostname = (hostname or default_host).strip().lower()
    port = int(port or default_port)
    if not 0 < port < 65536:
        raise SiteSetupError(f"port must be between 1 and 65535, got {port}")
    report = SiteSetupReport()
    # First: the rate-limit counters live in the database cache unless Redis is configured,
    # and Wagtail clears cached site paths through it when a Site is saved.
    call_command("createcachetable", verbosity=0)
    with transaction.atomic():
        locales = ensure_locales()
        homes = ensure_homes(locales, report)
        ensure_roles_and_workflow(list(homes.values()))
        site, report.site_changed = ensure_site(homes[next(iter(homes))], hostname, port)
    report.locales = list(locales)
    report.root_url = site.root_url
    report.hostname = site.hostname
    return report
