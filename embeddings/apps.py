from django.apps import AppConfig


class EmbeddingsConfig(AppConfig):
    name = "embeddings"
    verbose_name = "Embeddings and vector index"

    def ready(self):
        from . import signals  # noqa: F401
