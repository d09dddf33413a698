"""Admin reports of the authoring loop (Wagtail admin -> Reports) and the owner's dashboard panel."""

import datetime

import django_filters
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.components import Component
from wagtail.admin.ui.tables import Column, DateColumn, TitleColumn
from wagtail.admin.views.reports import ReportView

from .lifecycle import reviews_due, reviews_due_for
from .models import ArticleFlag, SolutionArticlePage
from .roles import KNOWLEDGE_MANAGERS, SECOND_LINE
from .similarity import abandoned_draft_days, abandoned_drafts, unfinished_drafts


def user_is_author(user):
    """Second line, knowledge managers and superusers: the people who fix articles."""
    if not user or not user.is_authenticated:
        return False
    return (
        user.is_superuser or user.groups.filter(name__in=(SECOND_LINE, KNOWLEDGE_MANAGERS)).exists()
    )


class AuthorsOnlyMixin:
    permission_policy = None  # checked below: group membership, not a model permission

    def dispatch(self, request, *args, **kwargs):
        if not user_is_author(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class SafeSpreadsheetExportMixin:
    """Wagtail's CSV/XLSX export (list_export) for the authoring reports, with cells that a
    spreadsheet would run as a formula (a flag comment starting with '=') kept as text: the
    XLSX writer already does that, the CSV writer does not."""

    def preprocess_field_value(self, field, value, export_format):
        value = super().preprocess_field_value(field, value, export_format)
        if (
            export_format == self.FORMAT_CSV
            and isinstance(value, str)
            and value.startswith(FORMULA_STARTS)
        ):
            return "'" + value
        return value


def _edit_url(page):
    return reverse("wagtailadmin_pages:edit", args=[page.pk])


class FlagFilterSet(WagtailFilterSet):
    status = django_filters.ChoiceFilter(choices=ArticleFlag.STATUSES, empty_label=_("Any"))
    reason = django_filters.ChoiceFilter(choices=ArticleFlag.REASONS, empty_label=_("Any"))
    source = django_filters.ChoiceFilter(choices=ArticleFlag.SOURCES, empty_label=_("Any"))

    class Meta:
        model = ArticleFlag
        fields = ["status", "reason", "source"]


class FlaggedArticlesReportView(AuthorsOnlyMixin, SafeSpreadsheetExportMixin, ReportView):
    page_title = _("Flagged articles")
    header_icon = "warning"
    index_url_name = "articles_flagged_report"
    index_results_url_name = "articles_flagged_report_results"
    filterset_class = FlagFilterSet
    model = ArticleFlag
    columns = [
        TitleColumn("article", label=_("Article"), get_url=lambda flag: _edit_url(flag.article)),
        Column("reason", label=_("Reason"), accessor="get_reason_display"),
        Column("comment", label=_("Comment")),
        Column("source", label=_("Source"), accessor="get_source_display"),
        Column("owner", label=_("Owner"), accessor="owner_display"),
        Column("status", label=_("Status"), accessor="get_status_display"),
        DateColumn("created_at", label=_("Raised")),
        TitleColumn(
            "reject",
            label="",
            accessor=lambda flag: _("Reject…") if flag.status == ArticleFlag.STATUS_OPEN else "",
            get_url=lambda flag: reverse("articles_reject_flag", args=[flag.pk]),
        ),
    ]
    export_filename = "flagged-articles"
    # The labels the screen shows (not the stored codes), under the screen's headings.
    list_export = [
        "article.title",
        "article.locale.language_code",
        "get_reason_display",
        "comment",
        "get_source_display",
        "owner_display",
        "get_status_display",
        "created_at",
        "closed_at",
        "resolution_note",
    ]
    export_headings = {
        "article.title": _("Article"),
        "article.locale.language_code": _("Language"),
        "get_reason_display": _("Reason"),
        "comment": _("Comment"),
        "get_source_display": _("Source"),
        "owner_display": _("Owner"),
        "get_status_display": _("Status"),
        "created_at": _("Raised"),
        "closed_at": _("Closed"),
        "resolution_note": _("Resolution note"),
    }

    def get_queryset(self):
        return ArticleFlag.objects.select_related(
            "article", "article__locale", "article__owner_user", "article__owner_group"
        ).order_by("-created_at")

    def get_filterset_kwargs(self):
        kwargs = super().get_filterset_kwargs()
        if kwargs.get("data") is not None and "status" not in kwargs["data"]:
            data = kwargs["data"].copy()
            data["status"] = ArticleFlag.STATUS_OPEN  # open flags unless asked otherwise
            kwargs["data"] = data
        return kwargs


def _owner(page):
    if page.owner_user_id:
        return page.owner_user.get_full_name() or page.owner_user.get_username()
    return page.owner_group.name if page.owner_group_id else ""


class ReviewsDueReportView(AuthorsOnlyMixin, SafeSpreadsheetExportMixin, ReportView):
    page_title = _("Reviews due")
    header_icon = "time"
    index_url_name = "articles_reviews_due_report"
    index_results_url_name = "articles_reviews_due_report_results"
    model = SolutionArticlePage
    columns = [
        TitleColumn("title", label=_("Article"), get_url=_edit_url),
        Column("locale", label=_("Language"), accessor="locale.language_code"),
        DateColumn("next_review_date", label=_("Review due")),
        Column("owner", label=_("Owner"), accessor=_owner),
    ]
    export_filename = "reviews-due"
    list_export = ["title", "locale.language_code", "next_review_date", "owner_name", "admin_url"]
    export_headings = {
        "title": _("Article"),
        "locale.language_code": _("Language"),
        "next_review_date": _("Review due"),
        "owner_name": _("Owner"),
        "admin_url": _("Edit link"),
    }

    def get_queryset(self):
        return reviews_due().select_related("locale", "owner_user", "owner_group")

    def to_row_dict(self, item):
        item.owner_name = _owner(item)
        item.admin_url = self.request.build_absolute_uri(_edit_url(item))
        return super().to_row_dict(item)


def _started_by(page):
    return (page.owner.get_full_name() or page.owner.get_username()) if page.owner else ""


def _abandoned_label(page):
    cutoff = timezone.now() - datetime.timedelta(days=abandoned_draft_days())
    last = page.latest_revision_created_at
    return _("Yes") if last is None or last < cutoff else ""


class UnfinishedDraftFilterSet(WagtailFilterSet):
    abandoned = django_filters.BooleanFilter(
        label=_("Abandoned"), method="filter_abandoned", widget=django_filters.widgets.BooleanWidget
    )

    class Meta:
        model = SolutionArticlePage
        fields = []

    def filter_abandoned(self, queryset, name, value):
        ids = abandoned_drafts().values("pk")
        return queryset.filter(pk__in=ids) if value else queryset.exclude(pk__in=ids)


class UnfinishedDraftsReportView(AuthorsOnlyMixin, SafeSpreadsheetExportMixin, ReportView):
    """Articles never published and not in review, oldest change first: Wagtail's autosave
    keeps every article someone started, so abandoned starts are listed here to continue
    or delete (nothing deletes them automatically)."""

    page_title = _("Unfinished drafts")
    header_icon = "doc-empty"
    index_url_name = "articles_unfinished_drafts_report"
    index_results_url_name = "articles_unfinished_drafts_report_results"
    filterset_class = UnfinishedDraftFilterSet
    model = SolutionArticlePage
    columns = [
        TitleColumn("title", label=_("Article"), get_url=_edit_url),
        Column("locale", label=_("Language"), accessor="locale.language_code"),
        Column("owner", label=_("Started by"), accessor=_started_by),
        DateColumn("latest_revision_created_at", label=_("Last change")),
        Column("abandoned", label=_("Abandoned"), accessor=_abandoned_label),
    ]
    export_filename = "unfinished-drafts"
    list_export = ["title", "locale.language_code", "started_by", "latest_revision_created_at"]
    export_headings = {
        "title": _("Article"),
        "locale.language_code": _("Language"),
        "started_by": _("Started by"),
        "latest_revision_created_at": _("Last change"),
    }

    def get_queryset(self):
        return (
            unfinished_drafts()
            .select_related("locale", "owner")
            .order_by("latest_revision_created_at", "pk")
        )

    def to_row_dict(self, item):
        item.started_by = _started_by(item)
        return super().to_row_dict(item)


class OwnerWorkPanel(Component):
    """Dashboard: open flags and due reviews on the articles this user (or their group) owns."""

    name = "kb_owner_work"
    order = 90
    template_name = "articles/admin/owner_work_panel.html"

    def __init__(self, request):
        self.request = request

    def get_context_data(self, parent_context):
        user = self.request.user
        return {
            "flags": list(
                ArticleFlag.objects.open()
                .for_owner(user)
                .select_related("article", "article__locale")[:20]
            ),
            "reviews": list(reviews_due_for(user).select_related("locale")[:20]),
            "request": self.request,
        }
