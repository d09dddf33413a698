"""Admin registration only: the service catalogue menu, the authoring loop's URLs, reports,
buttons and editor hooks. The views are in views.py, admin_views.py and editor_views.py."""

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.widgets import Button
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from . import editor_views, views
from .admin_views import (
    FlaggedArticlesReportView,
    OwnerWorkPanel,
    ReviewsDueReportView,
    UnfinishedDraftsReportView,
    user_is_author,
)
from .models import EscalationTeam, Service, ServiceLevel, SolutionArticlePage
from .translation_views import SubmitPageTranslationForLocaleView


class ServiceViewSet(SnippetViewSet):
    model = Service
    icon = "cogs"
    list_display = ["name", "slug", "category", "owning_team", "locale"]
    list_filter = ["category", "locale"]
    search_fields = ["name"]


class ServiceLevelViewSet(SnippetViewSet):
    model = ServiceLevel
    icon = "success"
    list_display = ["name", "code", "support_hours"]


class EscalationTeamViewSet(SnippetViewSet):
    model = EscalationTeam
    icon = "group"
    list_display = ["name", "queue", "contact", "hours"]
    search_fields = ["name"]


class ServiceCatalogueGroup(SnippetViewSetGroup):
    menu_label = "Service catalogue"
    menu_icon = "folder-open-inverse"
    menu_order = 250
    items = (ServiceViewSet, ServiceLevelViewSet, EscalationTeamViewSet)


register_snippet(ServiceCatalogueGroup)


# --- The authoring loop ---------------------------------------------------------------


@hooks.register("register_admin_urls")
def register_authoring_urls():
    return [
        path("articles/similar/", views.similar_articles_api, name="articles_similar"),
        path(
            "articles/flags/<int:flag_id>/reject/",
            views.reject_flag_view,
            name="articles_reject_flag",
        ),
        # Wagtail's "Translate page" form with ?locale=<code> ticked (Missing translations).
        path(
            "articles/<int:page_id>/translate/",
            SubmitPageTranslationForLocaleView.as_view(),
            name="articles_translate",
        ),
        path(
            "articles/<int:page_id>/archive/",
            views.archive_article_view,
            name="articles_archive",
        ),
        path(
            "reports/flagged-articles/",
            FlaggedArticlesReportView.as_view(),
            name="articles_flagged_report",
        ),
        path(
            "reports/flagged-articles/results/",
            FlaggedArticlesReportView.as_view(results_only=True),
            name="articles_flagged_report_results",
        ),
        path(
            "reports/reviews-due/",
            ReviewsDueReportView.as_view(),
            name="articles_reviews_due_report",
        ),
        path(
            "reports/reviews-due/results/",
            ReviewsDueReportView.as_view(results_only=True),
            name="articles_reviews_due_report_results",
        ),
        path(
            "reports/unfinished-drafts/",
            UnfinishedDraftsReportView.as_view(),
            name="articles_unfinished_drafts_report",
        ),
        path(
            "reports/unfinished-drafts/results/",
            UnfinishedDraftsReportView.as_view(results_only=True),
            name="articles_unfinished_drafts_report_results",
        ),
    ]


class AuthorsMenuItem(MenuItem):
    def is_shown(self, request):
        return user_is_author(request.user)


@hooks.register("register_reports_menu_item")
def register_flagged_articles_report():
    return AuthorsMenuItem(
        _("Flagged articles"),
        reverse("articles_flagged_report"),
        name="flagged-articles",
        icon_name="warning",
        order=710,
    )


@hooks.register("register_reports_menu_item")
def register_reviews_due_report():
    return AuthorsMenuItem(
        _("Reviews due"),
        reverse("articles_reviews_due_report"),
        name="reviews-due",
        icon_name="time",
        order=711,
    )


@hooks.register("register_reports_menu_item")
def register_unfinished_drafts_report():
    return AuthorsMenuItem(
        _("Unfinished drafts"),
        reverse("articles_unfinished_drafts_report"),
        name="unfinished-drafts",
        icon_name="doc-empty",
        order=712,
    )


@hooks.register("construct_homepage_panels")
def add_owner_work_panel(request, panels):
    if user_is_author(request.user):
        panels.insert(0, OwnerWorkPanel(request))


@hooks.register("register_page_header_buttons")
def archive_button(page, user, view_name=None, next_url=None):
    specific = page.specific_deferred if hasattr(page, "specific_deferred") else page.specific
    if (
        isinstance(specific, SolutionArticlePage)
        and page.live
        and specific.kcs_state != SolutionArticlePage.KCS_ARCHIVED
        and page.permissions_for_user(user).can_publish()
    ):
        yield Button(
            _("Archive (retire)"),
            reverse("articles_archive", args=[page.pk]),
            icon_name="folder-inverse",
            priority=60,
        )


# -- duplicate check before publishing or submitting for review; after-save rules


@hooks.register("before_create_page")
def check_duplicates_before_create(request, parent_page, page_class):
    if page_class is SolutionArticlePage:
        return editor_views.duplicate_confirmation(request, None, parent_page.locale)
    return None


@hooks.register("before_edit_page")
def check_duplicates_before_edit(request, page):
    if isinstance(page.specific, SolutionArticlePage):
        return editor_views.duplicate_confirmation(request, page.specific, page.locale)
    return None


@hooks.register("after_create_page")
def after_create_article(request, page):
    editor_views.after_editor_save(request, page)


@hooks.register("after_edit_page")
def after_edit_article(request, page):
    editor_views.after_editor_save(request, page)


@hooks.register("register_log_actions")
def register_review_reminder_log_action(actions):
    actions.register_action(
        "kb.review_reminder", "Review reminder", "Review reminder sent to the article's owner"
    )
