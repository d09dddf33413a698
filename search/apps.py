from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "search"
    label = "kbsearch"
    verbose_name = "Search, operator console and reports"

    def ready(self):
        from embeddings.chunking import register_extra_chunks

        from . import learning, signals  # noqa: F401

        # Learned phrasings enter the index as match-only chunks of their article.
        register_extra_chunks(learning.learned_chunk_specs)
