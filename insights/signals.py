"""Thin handlers: customer feedback raises an article flag (the work is in articles/flags.py);
migrate gives knowledge managers the data-subject-request permission."""

from django.contrib.auth.models import Group, Permission
from django.db.models.signals import post_migrate, post_save
from django.dispatch import receiver

from articles.flags import flag_from_feedback
from articles.roles import KNOWLEDGE_MANAGERS

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
