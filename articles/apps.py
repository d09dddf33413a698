from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = "Knowledge base articles and service catalogue"

    def ready(self):
        # Django connects receivers when the app registry is ready, not at import time; the
        # page source is registered then too (it reads the article models).
        from embeddings.indexing import register_page_source

        from . import index_signals, signals  # noqa: F401
        from .indexing import ArticlePageSource

        register_page_source(ArticlePageSource())
