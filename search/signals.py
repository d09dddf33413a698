"""Thin handlers: an archived or unpublished article retires what calls taught it
(search/learning.py does the work)."""

from django.db import transaction
from wagtail.signals import page_published, page_unpublished


def _article_id(instance):
    from articles.models import SolutionArticlePage

    specific = getattr(instance, "specific", instance)
    return instance.pk if isinstance(specific, SolutionArticlePage) else None


def _retire_on_commit(article_id):
    from .learning import retire_for_article

    transaction.on_commit(lambda: retire_for_article(article_id))


def on_unpublished(sender, instance, **kwargs):
    article_id = _article_id(instance)
    if article_id is not None:
        _retire_on_commit(article_id)


def on_published(sender, instance, **kwargs):
    from articles.models import SolutionArticlePage

    specific = getattr(instance, "specific", instance)
    if isinstance(specific, SolutionArticlePage) and (
        specific.kcs_state == SolutionArticlePage.KCS_ARCHIVED
    ):
        _retire_on_commit(instance.pk)


page_published.connect(on_published, dispatch_uid="kbsearch-learning-published")
page_unpublished.connect(on_unpublished, dispatch_uid="kbsearch-learning-unpublished")
