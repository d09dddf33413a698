"""Admin screens for what customers send: contact requests and article feedback (staff only)."""

from wagtail import hooks
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup

from .models import ArticleFeedback, ContactRequest


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
