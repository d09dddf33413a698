"""Report URLs, mounted under /admin/kb-reports/ (namespace kb_reports) by search/wagtail_hooks.py."""

from django.urls import path

from . import gap_topics, missing_translations, views

app_name = "kb_reports"

urlpatterns = [
    path("recurring-problems/", views.RecurringProblemsView.as_view(), name="recurring_problems"),
    path("kcs-health/", views.KcsHealthView.as_view(), name="kcs_health"),
    path("known-problems/", views.KnownProblemsView.as_view(), name="known_problems"),
    path("knowledge-gaps/", gap_topics.KnowledgeGapsView.as_view(), name="knowledge_gaps"),
    path("knowledge-gaps/draft/", gap_topics.create_draft_from_topic, name="knowledge_gaps_draft"),
    path(
        "missing-translations/",
        missing_translations.MissingTranslationsView.as_view(),
        name="missing_translations",
    ),
]
