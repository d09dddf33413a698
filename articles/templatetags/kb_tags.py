from django import template
from django.urls import reverse
from django.utils.translation import get_language, gettext

from articles.models import SiteBranding, SolutionArticlePage
from articles.selectors import language_versions, related_articles_for

register = template.Library()


@register.simple_tag(takes_context=True)
def page_translations(context, page):
    """Live versions of this page in the other languages that the visitor may see."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if isinstance(page, SolutionArticlePage):
        return language_versions(page, user)
    return list(page.get_translations().live().public().select_related("locale"))


@register.simple_tag(takes_context=True)
def related_articles(context, page):
    """The article's related links that the visitor may read."""
    request = context.get("request")
    return related_articles_for(page, getattr(request, "user", None))


@register.simple_tag(takes_context=True)
def site_branding(context):
    """The site's branding (Wagtail settings) for the page's language: name, logo, contact
    details, footer links and the address of the colour stylesheet."""
    request = context.get("request")
    branding = SiteBranding.load(request_or_site=request)
    language = get_language()
    row = branding.for_language(language)
    return {
        "name": (row.site_name if row else "") or gettext("Helpdesk knowledge base"),
        "logo": branding.logo,
        "row": row,
        "css_url": f"{reverse('brand_css')}?v={branding.css_version}",
    }
