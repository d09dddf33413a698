"""Thin handlers: customer feedback raises an article flag (articles/flags.py); an archived or
unpublished article retires what solved calls taught the search (insights/learning.py);
migrate gives knowledge managers the data-subject-request permission."""

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models.signals import post_migrate, post_save
from django.dispatch import receiver
from wagtail.signals import page_published, page_unpublished

from articles.flags import flag_from_feedback
from articles.models import SolutionArticlePage
from articles.roles import KNOWLEDGE_MANAGERS

from .learning import retire_for_article
from .models import ArticleFeedback
from .privacy import PRIVACY_CODENAME


@receiver(post_save, sender=ArticleFeedback)
def on_feedback_saved(sender, instance, raw=False, **kwargs):
    if raw:
        return
    flag_from_feedback(instance)


@receiver(post_migrate)
def grant_privacy_permission(sender, using="default", **kwargs):
    """Knowledge managers handle data-subject requests (export, erase): an existing site gets
    the permission on its next `migrate`, a new one from load_initial_data's roles."""
    if sender.label != "insights":
        return
    group = Group.objects.using(using).filter(name=KNOWLEDGE_MANAGERS).first()
    permission = (
        Permission.objects.using(using)
        .filter(content_type__app_label="insights", codename=PRIVACY_CODENAME)
        .first()
    )
    if group is not None and permission is not None:
        group.permissions.add(permission)


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
