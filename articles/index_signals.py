"""Thin signal handlers that keep the vector index in step with articles: each records that
an index update is owed and enqueues the embeddings task on commit (embeddings.tasks)."""

from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.dispatch import receiver
from wagtail.models import Page, PageViewRestriction
from wagtail.signals import page_published, page_unpublished, post_page_move

from embeddings.tasks import request_index

from .models import SolutionArticlePage


def _is_article(page):
    return (
        isinstance(page, SolutionArticlePage)
        or getattr(page, "specific_class", None) is SolutionArticlePage
    )


def _request_subtree(page, reason):
    ids = SolutionArticlePage.objects.descendant_of(page, inclusive=True).values_list(
        "id", "locale_id"
    )
    for page_id, locale_id in ids:
        request_index(page_id, reason, locale_id)


@receiver(page_published)
def on_published(sender, instance, **kwargs):
    if _is_article(instance):
        request_index(instance.pk, "published", instance.locale_id)


@receiver(page_unpublished)
def on_unpublished(sender, instance, **kwargs):
    if _is_article(instance):
        request_index(instance.pk, "unpublished", instance.locale_id)


@receiver(pre_delete)
def on_page_delete(sender, instance, **kwargs):
    if isinstance(instance, Page) and _is_article(instance):
        request_index(instance.pk, "deleted", instance.locale_id)


@receiver(post_page_move)
def on_moved(sender, instance, **kwargs):
    _request_subtree(instance, "moved")


@receiver(post_save, sender=PageViewRestriction)
@receiver(post_delete, sender=PageViewRestriction)
def on_restriction_changed(sender, instance, **kwargs):
    if kwargs.get("raw"):  # fixture loading: the chunk table is loaded as it was
        return
    page = Page.objects.filter(pk=instance.page_id).first()
    if page is not None:
        _request_subtree(page, "restriction")


@receiver(m2m_changed, sender=PageViewRestriction.groups.through)
def on_restriction_groups_changed(sender, instance, action, **kwargs):
    if kwargs.get("raw"):
        return
    if action in ("post_add", "post_remove", "post_clear") and isinstance(
        instance, PageViewRestriction
    ):
        on_restriction_changed(PageViewRestriction, instance)
