"""{% known_problem_banner %}: the banner customers see while a public known problem lasts."""

from django import template
from django.utils.translation import get_language

from ..presenters import problem_view
from ..selectors import banner_problems
from ..texts import ui

register = template.Library()


@register.inclusion_tag("incidents/banner.html")
def known_problem_banner(page=None, exclude=None):
    """On an article page pass `page`: only problems affecting that article are shown.
    `exclude`: problems (as shown by known_problem_matches) already on the page."""
    language = (get_language() or "en")[:2]
    skip = {p["id"] for p in exclude or []}
    return {
        "problems": [problem_view(p, language) for p in banner_problems(page) if p.pk not in skip],
        "labels": ui(language),
        "language": language,
    }


@register.inclusion_tag("incidents/search_matches.html")
def known_problem_matches(problems):
    """The known problems a search matched, above the articles (self-service search page)."""
    language = (get_language() or "en")[:2]
    return {"problems": problems or [], "labels": ui(language)}


@register.inclusion_tag("incidents/deflection.html", takes_context=True)
def known_problem_deflection(context, problems):
    """On the 'still need help' form: the matching known problems, and 'that is my problem'."""
    language = (get_language() or "en")[:2]
    return {
        "problems": problems,
        "labels": ui(language),
        "language": language,
        "csrf_token": context.get("csrf_token"),
    }


@register.simple_tag
def known_problem_label(name):
    return ui((get_language() or "en")[:2]).get(name, name)
