from django import template

from articles.models import SolutionArticlePage
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
