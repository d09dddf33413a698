from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = "Knowledge base articles and service catalogue"

    def ready(self):
        from . import checks, signals  # noqa: F401
