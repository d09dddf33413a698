"""Template tags that bring what insights knows into pages of lower layers (articles' templates)."""

from django import template

from insights import usage
from insights.usage import popular_public_articles

register = template.Library()


@register.simple_tag
def most_used_articles(locale, limit=8):
    """The home page's "most used articles": public ones, by recent opens and solved calls."""
    return popular_public_articles(locale, limit=limit)


@register.simple_tag
def helpful_summary(article):
    """'N of M found this helpful' for an article page, from the customers' feedback votes
    (None before the first vote)."""
    return usage.helpful_counts(article)
