"""Admin screens for what customers send: contact requests and article feedback (staff only)."""

from django.urls import include, path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup

from .models import ArticleFeedback, ContactRequest
from .reports import urls as report_urls
from .reports.views import can_view_reports


class ContactRequestViewSet(ModelViewSet):
    model = ContactRequest
    icon = "mail"
    menu_label = "Contact requests"
    list_display = ["created_at", "name", "email", "locale", "article", "status"]
    list_filter = ["status", "locale"]
    form_fields = ["status"]
    inspect_view_enabled = True
    search_fields = ["name", "email", "message"]


class ArticleFeedbackViewSet(ModelViewSet):
    model = ArticleFeedback
    icon = "comment"
    menu_label = "Article feedback"
    list_display = ["created_at", "article", "locale", "helpful", "reason", "comment"]
    list_filter = ["helpful", "reason", "locale"]
    form_fields = ["reason"]
    inspect_view_enabled = True


class CustomerRequestsGroup(ModelViewSetGroup):
    menu_label = "Customers"
    menu_icon = "group"
    menu_order = 260
    items = (ContactRequestViewSet, ArticleFeedbackViewSet)


@hooks.register("register_admin_viewset")
def register_customer_viewsets():
    return CustomerRequestsGroup()


# --- Reports (Wagtail admin -> Reports), for users with insights.view_reports -----------


class ReportsMenuItem(MenuItem):
    """A Reports menu entry shown only to users who may read the search reports."""

    def is_shown(self, request):
        return can_view_reports(request.user)


@hooks.register("register_admin_urls")
def register_report_urls():
    return [path("kb-reports/", include(report_urls, namespace="kb_reports"))]


@hooks.register("register_reports_menu_item")
def recurring_problems_menu_item():
    return ReportsMenuItem(
        "Recurring problems",
        reverse("kb_reports:recurring_problems"),
        name="recurring-problems",
        icon_name="history",
        order=800,
    )


@hooks.register("register_reports_menu_item")
def kcs_health_menu_item():
    return ReportsMenuItem(
        "KCS and self-service health",
        reverse("kb_reports:kcs_health"),
        name="kcs-health",
        icon_name="success",
        order=810,
    )


@hooks.register("register_reports_menu_item")
def knowledge_gaps_menu_item():
    return ReportsMenuItem(
        "Knowledge gaps",
        reverse("kb_reports:knowledge_gaps"),
        name="knowledge-gaps",
        icon_name="help",
        order=790,
    )
