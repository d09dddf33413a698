"""Admin screens for what customers send: contact requests and article feedback (staff only)."""

from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.viewsets.base import ViewSet
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup

from . import learning_views
from .models import ArticleFeedback, CallOutcome, ContactRequest
from .privacy_views import (
    ContactRequestIndexView,
    ContactRequestInspectView,
    can_handle_privacy_requests,
    privacy_request_view,
)
from .reports import urls as report_urls
from .reports.views import can_view_reports


class ContactRequestViewSet(ModelViewSet):
    model = ContactRequest
    index_view_class = ContactRequestIndexView
    inspect_view_class = ContactRequestInspectView
    icon = "mail"
    menu_label = "Contact requests"
    list_display = ["created_at", "name", "email", "locale", "article", "status"]
    list_filter = ["status", "locale"]
    form_fields = ["status"]
    inspect_view_enabled = True
    inspect_view_fields = [
        "created_at",
        "status",
        "locale",
        "name",
        "email",
        "phone",
        "message",
        "article",
        "troubleshooting",
    ]
    search_fields = ["name", "email", "message"]


class ArticleFeedbackViewSet(ModelViewSet):
    model = ArticleFeedback
    icon = "comment"
    menu_label = "Article feedback"
    list_display = ["created_at", "article", "locale", "helpful", "reason", "comment"]
    list_filter = ["helpful", "reason", "locale"]
    form_fields = ["reason"]
    inspect_view_enabled = True


class PrivacyMenuItem(MenuItem):
    def is_shown(self, request):
        return can_handle_privacy_requests(request.user)


class DataSubjectRequestViewSet(ViewSet):
    """Export or erase what is stored about one e-mail address (knowledge managers)."""

    name = "privacy-requests"
    icon = "lock"
    menu_label = "Data-subject requests"
    menu_item_class = PrivacyMenuItem

    def get_urlpatterns(self):
        return [path("", privacy_request_view, name="index")]


class CallOutcomeViewSet(ModelViewSet):
    """Operators' call outcomes, searchable by ticket reference."""

    model = CallOutcome
    icon = "list-ul"
    menu_label = "Call outcomes"
    list_display = ["created_at", "outcome", "ticket_reference", "known_problem", "article", "team"]
    list_filter = ["outcome", "locale"]
    form_fields = ["ticket_reference"]
    inspect_view_enabled = True
    search_fields = ["ticket_reference", "query"]


class CustomerRequestsGroup(ModelViewSetGroup):
    menu_label = "Customers"
    menu_icon = "group"
    menu_order = 260
    items = (
        ContactRequestViewSet,
        ArticleFeedbackViewSet,
        CallOutcomeViewSet,
        DataSubjectRequestViewSet,
    )


@hooks.register("register_admin_viewset")
def register_customer_viewsets():
    return CustomerRequestsGroup()


@hooks.register("register_log_actions")
def register_privacy_log_actions(actions):
    actions.register_action(
        "kb.privacy_export", "Data-subject export", "Exported for a data-subject request"
    )
    actions.register_action(
        "kb.privacy_erase", "Data-subject erasure", "Erased for a data-subject request"
    )


# --- Reports (Wagtail admin -> Reports), for users with insights.view_reports -----------


class ReportsMenuItem(MenuItem):
    """A Reports menu entry shown only to users who may read the search reports."""

    def is_shown(self, request):
        return can_view_reports(request.user)


@hooks.register("register_admin_urls")
def register_report_urls():
    return [
        path("kb-reports/", include(report_urls, namespace="kb_reports")),
        # The article editor's "customers also describe this as …" panel.
        path(
            "learned-phrasings/article/<int:page_id>/",
            learning_views.learned_phrasings,
            name="learned_phrasings",
        ),
        path(
            "learned-phrasings/<int:phrasing_id>/review/",
            learning_views.review_learned_phrasing,
            name="learned_phrasing_review",
        ),
    ]


@hooks.register("register_reports_menu_item")
def recurring_problems_menu_item():
    return ReportsMenuItem(
        _("Recurring problems"),
        reverse("kb_reports:recurring_problems"),
        name="recurring-problems",
        icon_name="history",
        order=800,
    )


@hooks.register("register_reports_menu_item")
def kcs_health_menu_item():
    return ReportsMenuItem(
        _("KCS and self-service health"),
        reverse("kb_reports:kcs_health"),
        name="kcs-health",
        icon_name="success",
        order=810,
    )


@hooks.register("register_reports_menu_item")
def knowledge_gaps_menu_item():
    return ReportsMenuItem(
        _("Knowledge gaps"),
        reverse("kb_reports:knowledge_gaps"),
        name="knowledge-gaps",
        icon_name="help",
        order=790,
    )


@hooks.register("register_reports_menu_item")
def known_problems_menu_item():
    return ReportsMenuItem(
        _("Known problems"),
        reverse("kb_reports:known_problems"),
        name="known-problems",
        icon_name="warning",
        order=795,
    )


@hooks.register("register_reports_menu_item")
def missing_translations_menu_item():
    return ReportsMenuItem(
        _("Missing translations"),
        reverse("kb_reports:missing_translations"),
        name="missing-translations",
        icon_name="globe",
        order=792,
    )
