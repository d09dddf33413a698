from django.urls import path

from . import views

urlpatterns = [
    path("api/v1/search/", views.operator_search_api, name="api_operator_search"),
    path("api/v1/public/search/", views.public_search_api, name="api_public_search"),
    path("operator/", views.operator_console, name="operator_console"),
]
