"""Admin registration only: known problems, early warnings, linked calls and tickets, the
integration."""

from django.contrib import messages
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.panels import FieldPanel, ObjectList
from wagtail.admin.ui.sidebar import LinkMenuItem
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from .admin_views import (
    ApiKeyForm,
    ApiKeyIndexView,
    EarlyWarningListView,
    KnownProblemCreateView,
    can_see_early_warnings,
    declare_from_topic,
    dismiss_early_warning,
    revoke_api_key,
)
from .home_panels import EarlyWarningHomePanel
from .models import (
    ApiKey,
    EarlyWarning,
    IncidentLink,
    KnownProblem,
    WebhookDelivery,
    WebhookEndpoint,
)
from .services import attribute_status_change


class KnownProblemViewSet(SnippetViewSet):
    model = KnownProblem
    icon = "warning"
    menu_label = "Known problems"
    list_display = ["__str__", "status", "is_public", "started_at", "ended_at"]
    list_filter = ["status", "is_public"]
    search_fields = ["title_en", "title_nl", "title_fr"]
    inspect_view_enabled = True
    add_view_class = KnownProblemCreateView


class IncidentLinkViewSet(SnippetViewSet):
    model = IncidentLink
    icon = "link"
    menu_label = "Linked calls and tickets"
    list_display = ["created_at", "ticket_reference", "known_problem", "article", "source", "user"]
    list_filter = ["source", "known_problem"]
    search_fields = ["ticket_reference"]
    inspect_view_enabled = True


class ApiKeyViewSet(SnippetViewSet):
    """Keys are created here or with `manage.py create_api_key`; the key is shown once and only
    its hash is kept. Listed with their state; 'Revoke' makes the API refuse a key."""

    model = ApiKey
    icon = "key"
    menu_label = "Integration API keys"
    list_display = ["name", "prefix", "scopes", "created_at", "last_used_at", "revoked_at"]
    list_filter = {"revoked_at": ["isnull"]}
    edit_handler = ObjectList(
        [FieldPanel("name"), FieldPanel("scopes")], base_form_class=ApiKeyForm
    )
    index_view_class = ApiKeyIndexView
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
            _("API key for %(name)s: %(key)s — copy it now; it is not shown again.")
            % {"name": instance.name, "key": instance.raw_key},
        )


@hooks.register("register_admin_urls")
def register_incident_urls():
    return [
        path(
            "known-problems/declare/",
            declare_from_topic,
            name="incidents_declare_from_topic",
        ),
        path("early-warnings/", EarlyWarningListView.as_view(), name="incidents_early_warnings"),
        path(
            "early-warnings/<int:pk>/dismiss/",
            dismiss_early_warning,
            name="incidents_dismiss_early_warning",
        ),
        path("integration-keys/<int:pk>/revoke/", revoke_api_key, name="incidents_revoke_api_key"),
    ]


class EarlyWarningMenuItem(MenuItem):
    """'Early warnings (n)': the count of open warnings, for second line and managers."""

    def is_shown(self, request):
        return can_see_early_warnings(request.user)

    def render_component(self, request):
        count = EarlyWarning.objects.open().count()
        label = _("Early warnings (%(count)s)") % {"count": count} if count else self.label
        return LinkMenuItem(
            self.name,
            label,
            self.url,
            icon_name=self.icon_name,
            classname=self.classname,
            attrs={**self.attrs, "data-open-early-warnings": str(count)},
        )


@hooks.register("register_admin_menu_item")
def early_warning_menu_item():
    return EarlyWarningMenuItem(
        gettext_lazy("Early warnings"),
        reverse("incidents_early_warnings"),
        name="early-warnings",
        icon_name="warning",
        order=235,
    )


@hooks.register("construct_homepage_panels")
def early_warning_home_panel(request, panels):
    if can_see_early_warnings(request.user):
        panels.insert(0, EarlyWarningHomePanel())
