"""Editor pieces for solution articles: the similar-articles panel and the new-article form."""

from django.urls import reverse
from wagtail.admin.forms import WagtailAdminPageForm
from wagtail.admin.panels import Panel
from wagtail.models import Page

from .roles import can_review_learned_phrasings


def unique_child_slug(parent, slug, exclude=None):
    """`slug`, or `slug-2`, `slug-3`, … : the first one free among `parent`'s children."""
    siblings = parent.get_children()
    if exclude is not None and exclude.pk:
        siblings = siblings.exclude(pk=exclude.pk)
    taken = set(siblings.filter(slug__startswith=slug).values_list("slug", flat=True))
    candidate, n = slug, 2
    while candidate in taken:
        suffix = f"-{n}"
        candidate, n = slug[: 255 - len(suffix)] + suffix, n + 1
    return candidate


# A new article starts from the content standard: one empty step to fill in (its
# instruction is required, so it cannot be published blank).
RESOLUTION_SKELETON = [{"type": "step", "value": {"instruction": "", "expected_result": ""}}]


class SolutionArticleForm(WagtailAdminPageForm):
    def __init__(self, *args, **kwargs):
        instance = kwargs.get("instance")
        unbound = not args and kwargs.get("data") is None
        if instance is not None and instance.pk is None and unbound and not instance.resolution:
            instance.resolution = RESOLUTION_SKELETON
        super().__init__(*args, **kwargs)
        self.slug_was_taken = ""

    def clean_slug(self):
        """A draft that was never published takes the next free slug instead of failing:
        Wagtail's autosave creates the page as soon as a title is typed, so an abandoned
        draft with the same title would otherwise hold the slug and pause every autosave
        of the new article ("Autosave is paused – there are validation errors"). Once an
        article has been published its slug is part of its address: a clash is an error."""
        slug = self.cleaned_data.get("slug")
        if not slug or self.parent_page is None or self.instance.first_published_at:
            return slug
        if Page._slug_is_available(slug, self.parent_page, self.instance):
            return slug
        self.slug_was_taken = slug
        return unique_child_slug(self.parent_page, slug, exclude=self.instance)

    def get_field_updates_for_resave(self):
        updates = list(super().get_field_updates_for_resave())
        if self.slug_was_taken:
            updates.append(("slug", self.cleaned_data["slug"]))  # show the slug it got
        return updates


class SimilarArticlesPanel(Panel):
    """Lists the existing articles (all languages, drafts included) closest to what is being
    written, refreshed as the title or the issue changes."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "articles/admin/similar_articles_panel.html"

        def get_context_data(self, parent_context=None):
            # The duplicate threshold is applied by the endpoint (views.similar_articles_api).
            context = super().get_context_data(parent_context)
            context["endpoint"] = reverse("articles_similar")
            context["page_id"] = self.instance.pk or ""
            return context


class LearnedPhrasingsPanel(Panel):
    """'Customers also describe this as …': wordings solved calls taught the search, with
    counts and languages, to promote into the issue field or reject. Shown to knowledge
    managers and the article's owner; the list comes from the insights app's review API."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "articles/admin/learned_phrasings_panel.html"

        def is_shown(self):
            return bool(self.instance.pk) and can_review_learned_phrasings(
                self.request.user, self.instance
            )

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            context["endpoint"] = reverse("learned_phrasings", args=[self.instance.pk])
            return context
