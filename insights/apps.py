from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "insights"
    verbose_name = "Insights: event log, knowledge gaps and reports"

    def ready(self):
        # Django connects receivers when the app registry is ready, not at import time.
        from . import signals  # noqa: F401
