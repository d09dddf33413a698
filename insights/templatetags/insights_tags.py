"""Template tags that bring what insights knows into pages of lower layers (articles' templates)."""

from django import template

from insights.usage import popular_public_articles

register = template.Library()


@register.simple_tag
def most_used_articles(locale, limit=8):
    """The home page's "most used articles": public ones, by recent opens and solved calls."""
    return popular_public_articles(locale, limit=limit)
