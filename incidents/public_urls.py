"""Customer URLs, mounted under each language prefix (/nl/, /fr/, /en/)."""

from django.urls import path

from . import views

urlpatterns = [
    path("status/", views.status_page, name="service_status"),
    path("status/deflected/", views.deflected, name="known_problem_deflected"),
]
