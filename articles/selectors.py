"""Read-side queries for articles: what a given user may see, related articles, translations."""

from dataclasses import dataclass

from .models import ServiceLevel, SolutionArticlePage
from .visibility import user_is_staff_reader


def visible_articles(user=None, *, staff=False):
    """Searchable articles the user may read: live public ones, plus internal for staff.

    `staff=True` grants staff visibility without a user: a caller authenticated otherwise
    (the ticketing integration's scoped API key, incidents/api_auth.py)."""
    qs = SolutionArticlePage.objects.searchable()
    if staff or user_is_staff_reader(user):
        return qs
    return qs.visible_to_public()


def related_articles_for(page, user):
    ids = [link.related_page_id for link in page.related_links.all()]
    return list(visible_articles(user).filter(id__in=ids).specific())


def language_versions(page, user):
    """Other-language versions of this article that the user may read."""
    return list(
        visible_articles(user)
        .filter(translation_key=page.translation_key)
        .exclude(id=page.id)
        .select_related("locale")
    )


@dataclass
class ServiceCoverage:
    service: object
    covered: bool
    excluded: str
    targets: list
    escalation_team: object


def coverage_for(article, level: ServiceLevel):
    """For one contract level: per service of the article, covered or not, SLA targets, team."""
    # Sorted here, not in SQL, so a level fetched with prefetch_related("targets") costs no
    # query per article (priorities are "P1".."P4": text order is priority order).
    targets = sorted(level.targets.all(), key=lambda t: t.priority)
    fallback_team = article.get_escalation_team()
    return [
        ServiceCoverage(
            service=service,
            covered=level.covers(service),
            excluded=level.exclusions,
            targets=targets if level.covers(service) else [],
            escalation_team=article.escalation_team or service.owning_team or fallback_team,
        )
        for service in article.services.all()
    ]
