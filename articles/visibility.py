"""Audience → Wagtail view restriction, so every surface (URL, search, API, sitemap) honours it."""

from django.db.models.signals import m2m_changed
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
    """Operators, second line, knowledge managers and superusers may read internal articles.

    The group lookup is remembered on the user object (as Django's permission cache is), so
    one request asks once, not once per check (an operator search checked three times):
    a request gets a fresh user; changing this user's groups forgets it (below)."""
    if not user or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    known = getattr(user, _STAFF_READER_ATTR, None)
    if known is None:
        known = user.groups.filter(name__in=STAFF_GROUPS).exists()
        setattr(user, _STAFF_READER_ATTR, known)
    return known


_STAFF_READER_ATTR = "_kb_is_staff_reader"


def _forget_staff_reader(sender, instance, **_kwargs):
    # user.groups.add/remove/clear: that user object asks again (group.user_set changes
    # reach users loaded afterwards, as every request's is).
    if hasattr(instance, _STAFF_READER_ATTR):
        delattr(instance, _STAFF_READER_ATTR)


# Any many-to-many change (the user model is not loaded yet when this module is): only a
# user object that remembered the answer carries the attribute.
m2m_changed.connect(_forget_staff_reader, dispatch_uid="kb-forget-staff-reader")
