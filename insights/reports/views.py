"""Report screens in the Wagtail admin (Reports menu), for users with insights.view_reports.

`BaseReportView` is the shared plumbing: filter form, permission check, screen, CSV/XLSX
export. A report subclasses it and implements `build_report(filters) -> Report`; what
the screen shows and what the export writes are the same `Report` object.
"""

from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from .export import export_response
from .filters import parse_report_filters
from .health import build_health_report
from .recurring import build_recurring_report

REPORTS_PERMISSION = "insights.view_reports"


def can_view_reports(user):
    return user.is_authenticated and user.has_perm(REPORTS_PERMISSION)


class BaseReportView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "insights/reports/report.html"
    page_title = ""
    header_icon = "table"
    url_name = ""
    intro = ""

    def dispatch(self, request, *args, **kwargs):
        if not can_view_reports(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def build_report(self, filters):
        raise NotImplementedError

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": "", "label": _("Reports")},
            {"url": "", "label": self.get_page_title()},
        ]

    def get(self, request, *args, **kwargs):
        form, filters = parse_report_filters(request.GET)
        if filters is None:
            context = self.get_context_data(form=form, report=None)
            return self.render_to_response(context, status=400)
        report = self.build_report(filters)
        export = request.GET.get("export")
        if export in ("csv", "xlsx"):
            return export_response(report, export)
        context = self.get_context_data(form=form, report=report, filters=filters)
        return self.render_to_response(context)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filters = kwargs.get("filters")
        base = reverse(self.url_name) if self.url_name else self.request.path
        if filters is not None:
            context["export_links"] = [
                ("CSV", f"{base}?{filters.querystring(export='csv')}"),
                ("XLSX", f"{base}?{filters.querystring(export='xlsx')}"),
            ]
        context["intro"] = self.intro
        context["report_url"] = base
        return context


class RecurringProblemsView(BaseReportView):
    page_title = _("Recurring problems")
    header_icon = "history"
    url_name = "kb_reports:recurring_problems"
    intro = _(
        "Which problems keep coming back: volume per service over time, the articles that "
        "solve most calls, escalations per team, and problems that are rising."
    )

    def build_report(self, filters):
        return build_recurring_report(filters)


class KcsHealthView(BaseReportView):
    page_title = _("KCS and self-service health")
    header_icon = "success"
    url_name = "kb_reports:kcs_health"
    intro = _(
        "Is knowledge being used and kept up to date, and does self-service work? Rates are "
        "shown with their counts; each is defined in the table and in docs/reports.md."
    )

    def build_report(self, filters):
        return build_health_report(filters)
