from django.urls import path

from . import views

urlpatterns = [
    path("api/v1/search/", views.operator_search_api, name="api_operator_search"),
    path("api/v1/public/search/", views.public_search_api, name="api_public_search"),
    path("api/v1/articles/<int:page_id>/", views.article_card_api, name="api_article_card"),
    path("api/v1/outcomes/", views.outcome_api, name="api_outcomes"),
    path("api/v1/clicks/", views.click_api, name="api_clicks"),
    path(
        "api/v1/integration/suggestions/",
        views.integration_suggestions_api,
        name="api_integration_suggestions",
    ),
    path("operator/", views.operator_console, name="operator_console"),
    path("operator/language/", views.operator_language, name="operator_language"),
]
