from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    label = "incidents"
    verbose_name = "Known problems and incidents"

    def ready(self):
        from . import signals  # noqa: F401  (connects the receivers)
