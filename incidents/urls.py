"""API URLs of the incidents app (mounted at the site root)."""

from django.urls import path

from . import views

urlpatterns = [
    path("api/v1/integration/links/", views.integration_link_api, name="api_integration_link"),
]
