"""KCS confidence follows the review workflow; archiving retires an article from search.

work in progress --submitted for review--> not validated --approved and published--> validated
any state --archive--> archived (a published revision: history kept, search drops it)
"""

import datetime
import uuid

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .models import SolutionArticlePage


def review_interval():
    return datetime.timedelta(days=int(getattr(settings, "KB_REVIEW_INTERVAL_DAYS", 182)))


def set_page_fields(page, revision=None, **fields):
    """Write lifecycle fields on the page row and in the revision the editor will load next,
    without creating a revision of our own (that would look like an edit)."""
    SolutionArticlePage.objects.filter(pk=page.pk).update(**fields)
    for name, value in fields.items():
        setattr(page, name, value)
    revision = revision or page.latest_revision
    if revision is not None and revision.pk == page.latest_revision_id:
        content = dict(revision.content)
        for name, value in fields.items():
            if isinstance(value, datetime.date):
                value = value.isoformat()
            elif isinstance(value, uuid.UUID):
                value = str(value)
            content[name] = value
        revision.content = content
        revision.save(update_fields=["content"])


def translation_taken(translation_key, locale_id, exclude_pk=None):
    """Whether an article in this language already carries the translation key."""
    return (
        SolutionArticlePage.objects.filter(translation_key=translation_key, locale_id=locale_id)
        .exclude(pk=exclude_pk)
        .exists()
    )


def link_as_translation(page, other):
    """Make `page` a translation of `other` unless its language already has one."""
    if other.locale_id == page.locale_id or translation_taken(
        other.translation_key, page.locale_id
    ):
        return False
    set_page_fields(page, translation_key=other.translation_key, external_id=other.external_id)
    return True


def on_submitted(page):
    """Submitted for review: a work-in-progress article becomes 'not validated'. A validated
    article under revision keeps its confidence until the revision is approved."""
    if page.kcs_state == SolutionArticlePage.KCS_WIP:
        set_page_fields(page, kcs_state=SolutionArticlePage.KCS_NOT_VALIDATED)


def on_published(page, revision=None):  # approved (workflow) or published by a reviewer
    """Approved and published: validated, with a review date if it has none or it passed.
    An archived article stays archived (archiving is itself a publish)."""
    if page.kcs_state == SolutionArticlePage.KCS_ARCHIVED:
        return
    today = timezone.localdate()
    fields = {"kcs_state": SolutionArticlePage.KCS_VALIDATED}
    if not page.next_review_date or page.next_review_date < today:
        fields["next_review_date"] = today + review_interval()
    set_page_fields(page, revision, **fields)


@transaction.atomic
def archive_article(page, user=None):
    """Retire an article: a new published revision with kcs_state=archived. The page stays
    (history, revisions, links), the indexer and SolutionArticleQuerySet.searchable() drop it."""
    # The live content is archived; a pending draft stays in the history, unpublished.
    page = SolutionArticlePage.objects.get(pk=page.pk)
    page.kcs_state = SolutionArticlePage.KCS_ARCHIVED
    revision = page.save_revision(user=user, log_action=True, clean=False)
    revision.publish(user=user)
    return SolutionArticlePage.objects.get(pk=page.pk)


def reviews_due(today=None):
    """Validated articles whose review date has passed."""
    today = today or timezone.localdate()
    return SolutionArticlePage.objects.filter(
        kcs_state=SolutionArticlePage.KCS_VALIDATED, next_review_date__lt=today
    ).order_by("next_review_date")


def reviews_due_for(user, today=None):
    if not user or not user.is_authenticated:
        return SolutionArticlePage.objects.none()
    return reviews_due(today).filter(
        Q(owner_user=user) | Q(owner_user__isnull=True, owner_group__in=user.groups.all())
    )
