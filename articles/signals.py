"""Thin handlers: the workflow moves KCS confidence, publishing closes flags. The work is in
lifecycle.py and flags.py (customer feedback raising flags is wired in insights/signals.py)."""

from django.dispatch import receiver
from wagtail.signals import page_published, workflow_approved, workflow_submitted

from .flags import close_flags_on_publish
from .lifecycle import on_published, on_submitted
from .models import SolutionArticlePage


def _article(obj):
    if isinstance(obj, SolutionArticlePage):
        return obj
    specific = getattr(obj, "specific", None)
    return specific if isinstance(specific, SolutionArticlePage) else None


@receiver(workflow_submitted)
def on_workflow_submitted(sender, instance, user=None, **kwargs):
    page = _article(getattr(instance, "content_object", None))
    if page is not None:
        on_submitted(page)


@receiver(workflow_approved)
def on_workflow_approved(sender, instance, user=None, **kwargs):
    """The review approved and published the article (the publish ran before this signal).
    A knowledge manager publishing directly in the editor is handled in wagtail_hooks."""
    page = _article(getattr(instance, "content_object", None))
    if page is not None:
        on_published(SolutionArticlePage.objects.get(pk=page.pk))


@receiver(page_published)
def on_page_published(sender, instance, revision=None, **kwargs):
    page = _article(instance)
    if page is not None:
        close_flags_on_publish(page, getattr(revision, "user", None))
