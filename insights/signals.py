"""Thin handlers: customer feedback raises an article flag (articles/flags.py); an archived or
unpublished article retires what solved calls taught the search (insights/learning.py)."""

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from wagtail.signals import page_published, page_unpublished

from articles.flags import flag_from_feedback
from articles.models import SolutionArticlePage

from .learning import retire_for_article
from .models import ArticleFeedback


@receiver(post_save, sender=ArticleFeedback)
def on_feedback_saved(sender, instance, raw=False, **kwargs):
    if raw:
        return
    flag_from_feedback(instance)


def _is_article(instance):
    return isinstance(getattr(instance, "specific", instance), SolutionArticlePage)


@receiver(page_unpublished)
def on_article_unpublished(sender, instance, **kwargs):
    if _is_article(instance):
        page_id = instance.pk
        transaction.on_commit(lambda: retire_for_article(page_id))


@receiver(page_published)
def on_article_archived(sender, instance, **kwargs):
    specific = getattr(instance, "specific", instance)
    if _is_article(instance) and specific.kcs_state == SolutionArticlePage.KCS_ARCHIVED:
        page_id = instance.pk
        transaction.on_commit(lambda: retire_for_article(page_id))
