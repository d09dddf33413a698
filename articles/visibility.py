"""Audience → Wagtail view restriction, so every surface (URL, search, API, sitemap) honours it."""

from wagtail.models import PageViewRestriction

from .roles import STAFF_GROUPS, ensure_groups


def sync_audience_restriction(page):
    """Internal articles get a group restriction to the staff groups; public ones lose it."""
    restrictions = PageViewRestriction.objects.filter(page=page)
    if page.audience == page.AUDIENCE_INTERNAL:
        groups = list(ensure_groups().values())
        restriction = restrictions.filter(restriction_type=PageViewRestriction.GROUPS).first()
        if restriction is None:
            restriction = PageViewRestriction.objects.create(
                page=page, restriction_type=PageViewRestriction.GROUPS
            )
        restriction.groups.set(groups)
    else:
        restrictions.filter(restriction_type=PageViewRestriction.GROUPS).delete()


def user_is_staff_reader(user):
    """Operators, second line, knowledge managers and superusers may read internal articles."""
    if not user or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return user.groups.filter(name__in=STAFF_GROUPS).exists()
