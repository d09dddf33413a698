from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "search"
    label = "kbsearch"
    verbose_name = "Search, operator console and reports"

    def ready(self):
        from insights.gaps import register_answer_rule

        from .gap_answers import first_answer
        from .service import cross_language_lift

        # The gap report's "answered since" is the search's rule (insights cannot import search).
        register_answer_rule(first_answer, lift=cross_language_lift)
