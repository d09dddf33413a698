"""Editor pieces for solution articles: the similar-articles panel and the new-article form."""

from django.urls import reverse
from wagtail.admin.forms import WagtailAdminPageForm
from wagtail.admin.panels import Panel

from .roles import can_review_learned_phrasings

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
