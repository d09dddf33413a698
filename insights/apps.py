from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "insights"
    verbose_name = "Insights: event log, knowledge gaps and reports"

    def ready(self):
        # Django connects receivers when the app registry is ready, not at import time.
        from articles.indexing import register_extra_chunks

        from . import signals  # noqa: F401
        from .learning import learned_chunk_specs

        # Learned phrasings enter the index as match-only chunks of their article.
        register_extra_chunks(learned_chunk_specs)
