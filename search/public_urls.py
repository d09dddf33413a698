"""Self-service URLs, mounted under each language prefix (/nl/, /fr/, /en/)."""

from django.urls import path

from . import public_views

urlpatterns = [
    path("search/", public_views.search_page, name="public_search"),
    path("feedback/", public_views.feedback, name="article_feedback"),
    path(
        "feedback/<int:feedback_id>/",
        public_views.feedback_details,
        name="article_feedback_details",
    ),
    path("contact/", public_views.contact, name="contact_request"),
]
