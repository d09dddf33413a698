"""Thin handlers: customer feedback raises an article flag. The work is in articles/flags.py."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from articles.flags import flag_from_feedback

from .models import ArticleFeedback


@receiver(post_save, sender=ArticleFeedback)
def on_feedback_saved(sender, instance, raw=False, **kwargs):
    if raw:
        return
    flag_from_feedback(instance)
