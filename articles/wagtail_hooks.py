"""Admin registration: the service catalogue under one menu."""

from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from .models import EscalationTeam, Service, ServiceLevel


class ServiceViewSet(SnippetViewSet):
    model = Service
    icon = "cogs"
    list_display = ["name", "slug", "category", "owning_team", "locale"]
    list_filter = ["category", "locale"]
    search_fields = ["name"]


class ServiceLevelViewSet(SnippetViewSet):
    model = ServiceLevel
    icon = "success"
    list_display = ["name", "code", "support_hours"]


class EscalationTeamViewSet(SnippetViewSet):
    model = EscalationTeam
    icon = "group"
    list_display = ["name", "queue", "contact", "hours"]
    search_fields = ["name"]


class ServiceCatalogueGroup(SnippetViewSetGroup):
    menu_label = "Service catalogue"
    menu_icon = "folder-open-inverse"
    menu_order = 250
    items = (ServiceViewSet, ServiceLevelViewSet, EscalationTeamViewSet)


register_snippet(ServiceCatalogueGroup)
