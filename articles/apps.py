from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = "Knowledge base articles and service catalogue"

    def ready(self):
        # Django connects receivers when the app registry is ready, not at import time.
        from . import signals  # noqa: F401
