"""Admin registration: the service catalogue under one menu."""

from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from .models import EscalationTeam, Service, ServiceLevel


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

from django.shortcuts import render  # noqa: E402
from django.urls import path, reverse  # noqa: E402
from django.utils.translation import gettext_lazy as _  # noqa: E402
from wagtail import hooks  # noqa: E402
from wagtail.admin.menu import MenuItem  # noqa: E402
from wagtail.admin.widgets import Button  # noqa: E402

from . import views  # noqa: E402
from .admin_views import (  # noqa: E402
    FlaggedArticlesReportView,
    OwnerWorkPanel,
    ReviewsDueReportView,
    user_is_author,
)
from .models import SolutionArticlePage  # noqa: E402

CONFIRM_FIELD = "kb-duplicate-confirmed"
TRANSLATION_FIELD = "kb-translation-of"
GUARDED_ACTIONS = ("action-publish", "action-submit")


@hooks.register("register_admin_urls")
def register_authoring_urls():
    return [
        path("articles/similar/", views.similar_articles_api, name="articles_similar"),
        path(
            "articles/flags/<int:flag_id>/reject/",
            views.reject_flag_view,
            name="articles_reject_flag",
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


# -- duplicate check before publishing or submitting for review (server side)


def _guarded_post(request):
    return request.method == "POST" and any(request.POST.get(a) for a in GUARDED_ACTIONS)


def _duplicate_confirmation(request, page, locale):
    from embeddings.encoder import EncoderUnavailable

    from .similarity import likely_duplicates

    if not _guarded_post(request) or request.POST.get(CONFIRM_FIELD):
        return None
    try:
        duplicates = likely_duplicates(
            request.POST.get("title", ""), request.POST.get("issue", ""), page=page
        )
    except EncoderUnavailable:
        return None  # no model: the editor's own judgement, as before this check existed
    if not duplicates:
        return None
    fields = [
        (key, value)
        for key, values in request.POST.lists()
        if key != "csrfmiddlewaretoken" and not key.startswith("kb-")
        for value in values
    ]
    action = "publish" if request.POST.get("action-publish") else "submit"
    total = int(request.POST.get("related_links-TOTAL_FORMS") or 0)
    options = []
    for dup in duplicates:
        link_fields = [(k, v) for k, v in fields if k != "related_links-TOTAL_FORMS"] + [
            ("related_links-TOTAL_FORMS", str(total + 1)),
            (f"related_links-{total}-related_page", str(dup.page.pk)),
            (f"related_links-{total}-id", ""),
            (f"related_links-{total}-ORDER", str(total + 1)),
        ]
        can_translate = (
            dup.page.locale_id != locale.pk
            and not SolutionArticlePage.objects.filter(
                translation_key=dup.page.translation_key, locale=locale
            )
            .exclude(pk=getattr(page, "pk", None))
            .exists()
        )
        options.append(
            {
                "similar": dup,
                "percent": round(dup.score * 100),
                "link_fields": link_fields,
                "can_translate": can_translate,
            }
        )
    draft_fields = [(k, v) for k, v in fields if k not in GUARDED_ACTIONS]
    return render(
        request,
        "articles/admin/confirm_duplicate.html",
        {
            "action": action,
            "action_field": "action-publish" if action == "publish" else "action-submit",
            "fields": fields,
            "draft_fields": draft_fields,
            "options": options,
            "confirm_field": CONFIRM_FIELD,
            "translation_field": TRANSLATION_FIELD,
            "post_url": request.get_full_path(),
            "title": request.POST.get("title", ""),
        },
    )


@hooks.register("before_create_page")
def check_duplicates_before_create(request, parent_page, page_class):
    if page_class is SolutionArticlePage:
        return _duplicate_confirmation(request, None, parent_page.locale)
    return None


@hooks.register("before_edit_page")
def check_duplicates_before_edit(request, page):
    if isinstance(page.specific, SolutionArticlePage):
        return _duplicate_confirmation(request, page.specific, page.locale)
    return None


def _after_save(request, page):
    from .lifecycle import on_published, set_page_fields

    if not isinstance(page.specific, SolutionArticlePage) or request.method != "POST":
        return
    page = SolutionArticlePage.objects.get(pk=page.pk)
    other_id = request.POST.get(TRANSLATION_FIELD)
    if other_id and other_id.isdigit():
        other = SolutionArticlePage.objects.filter(pk=int(other_id)).first()
        taken = (
            other is None
            or other.locale_id == page.locale_id
            or SolutionArticlePage.objects.filter(
                translation_key=other.translation_key, locale_id=page.locale_id
            ).exists()
        )
        if not taken:
            set_page_fields(
                page, translation_key=other.translation_key, external_id=other.external_id
            )
    if request.POST.get("action-publish") and page.live and not page.has_unpublished_changes:
        # A reviewer published directly: that is an approval.
        on_published(page)


@hooks.register("after_create_page")
def after_create_article(request, page):
    _after_save(request, page)


@hooks.register("after_edit_page")
def after_edit_article(request, page):
    _after_save(request, page)


@hooks.register("register_log_actions")
def register_review_reminder_log_action(actions):
    actions.register_action(
        "kb.review_reminder", "Review reminder", "Review reminder sent to the article's owner"
    )
