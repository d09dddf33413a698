"""Authoring-loop APIs used from the operator console and the article page (staff, CSRF)."""

from django.urls import path

from . import branding_views, views

urlpatterns = [
    path("api/v1/flags/", views.flag_api, name="articles_flag_api"),
    path("api/v1/captures/", views.capture_api, name="articles_capture_api"),
    path("brand.css", branding_views.brand_css, name="brand_css"),
]
