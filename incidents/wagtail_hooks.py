"""Admin registration only: known problems, linked calls and tickets, the integration."""

from django.contrib import messages
from wagtail import hooks
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from .admin_views import declare_from_topic
from .models import ApiKey, IncidentLink, KnownProblem, WebhookDelivery, WebhookEndpoint
from .services import attribute_status_change


class KnownProblemViewSet(SnippetViewSet):
    model = KnownProblem
    icon = "warning"
    menu_label = "Known problems"
    list_display = ["__str__", "status", "is_public", "started_at", "ended_at"]
    list_filter = ["status", "is_public"]
    search_fields = ["title_en", "title_nl", "title_fr"]
    inspect_view_enabled = True


class IncidentLinkViewSet(SnippetViewSet):
    model = IncidentLink
    icon = "link"
    menu_label = "Linked calls and tickets"
    list_display = ["created_at", "ticket_reference", "known_problem", "article", "source", "user"]
    list_filter = ["source", "known_problem"]
    search_fields = ["ticket_reference"]
    inspect_view_enabled = True


class ApiKeyViewSet(SnippetViewSet):
    """Keys are created with `manage.py create_api_key` (the key is shown once); here they
    are listed and revoked (set 'revoked at')."""

    model = ApiKey
    icon = "key"
    menu_label = "Integration API keys"
    list_display = ["name", "prefix", "scopes", "created_at", "last_used_at", "revoked_at"]
    form_fields = ["name", "revoked_at"]
    add_to_admin_menu = False


class WebhookEndpointViewSet(SnippetViewSet):
    model = WebhookEndpoint
    icon = "globe"
    list_display = ["name", "url", "active"]


class WebhookDeliveryViewSet(SnippetViewSet):
    model = WebhookDelivery
    icon = "list-ul"
    menu_label = "Webhook deliveries"
    list_display = [
        "created_at",
        "event",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
    ]
    list_filter = ["status", "endpoint"]
    inspect_view_enabled = True
    form_fields = ["status"]


class IncidentsGroup(SnippetViewSetGroup):
    menu_label = "Known problems"
    menu_icon = "warning"
    menu_order = 240
    items = (
        KnownProblemViewSet,
        IncidentLinkViewSet,
        ApiKeyViewSet,
        WebhookEndpointViewSet,
        WebhookDeliveryViewSet,
    )


register_snippet(IncidentsGroup)


@hooks.register("after_create_snippet")
@hooks.register("after_edit_snippet")
def remember_who_changed_status(request, instance):
    if isinstance(instance, KnownProblem):
        attribute_status_change(instance, request.user)


@hooks.register("after_create_snippet")
def show_new_api_key_once(request, instance):
    if isinstance(instance, ApiKey) and getattr(instance, "raw_key", None):
        messages.warning(
            request,
            f"API key for {instance.name}: {instance.raw_key} — copy it now; only its hash is kept.",
        )


@hooks.register("register_admin_urls")
def register_declare_url():
    from django.urls import path

    return [
        path(
            "known-problems/declare/",
            declare_from_topic,
            name="incidents_declare_from_topic",
        )
    ]
