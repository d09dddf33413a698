"""Report URLs, mounted under /admin/kb-reports/ (namespace kb_reports) by search/wagtail_hooks.py."""

from django.urls import path

from . import views

app_name = "kb_reports"

urlpatterns = [
    path("recurring-problems/", views.RecurringProblemsView.as_view(), name="recurring_problems"),
    path("kcs-health/", views.KcsHealthView.as_view(), name="kcs_health"),
]
