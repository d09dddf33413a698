"""Known problems: calls and tickets linked per problem over time, time from the start and
from the early warning's first rise to the declaration, contacts the 'still need help' form
prevented and banner clicks to the status page. Figures from incidents.report_data; the
period filter applies, channel/language/service filters do not (a known problem spans them)."""

import datetime

from django.utils.translation import gettext as _

from incidents.report_data import known_problem_figures

from .charts import line_chart
from .export import Column, Report, Table

CHART_SERIES = 6


def build_known_problems_report(filters):
    end = filters.end_date + datetime.timedelta(days=1)
    figures = known_problem_figures(filters.start_date, end)
    days = [filters.start_date + datetime.timedelta(days=i) for i in range(filters.days)]
    table = Table(
        _("Known problems in the period"),
        [
            _("Known problem"),
            _("Status"),
            Column(_("Public"), "text"),
            Column(_("Started"), "date"),
            Column(_("Declared"), "date"),
            Column(_("Minutes to declare"), "int"),
            Column(_("Calls linked (console)"), "int"),
            Column(_("Tickets linked (integration)"), "int"),
            Column(_("Contacts prevented (form)"), "int"),
            Column(_("Early warning: first rise"), "date"),
            Column(_("Minutes from first rise to declaration"), "int"),
            Column(_("Banner clicks to the status page"), "int"),
        ],
        note=_(
            "Minutes to declare: from the problem's start (as entered) to its first status "
            "step. First rise: when the unresolved requests of the early warning it was "
            "declared from began to rise. Contacts prevented: customers who answered 'that is "
            "my problem' on the 'still need help' form and did not send it. Banner clicks: "
            "customers who followed the banner to the status page (whether they then "
            "contacted us is not known)."
        ),
        empty_message=_("No known problem was active in this period."),
    )
    for f in figures:
        table.rows.append(
            [
                str(f.problem),
                f.problem.get_status_display(),
                _("yes") if f.problem.is_public else _("no"),
                f.problem.started_at,
                f.declared_at,
                f.minutes_to_declare,
                f.links_console,
                f.links_integration,
                f.deflections,
                f.first_rise_at,
                f.minutes_rise_to_declare,
                f.banner_clicks,
            ]
        )
    top = sorted(figures, key=lambda f: f.links, reverse=True)[:CHART_SERIES]
    chart = line_chart(
        _("Calls and tickets linked per day"),
        [d.isoformat() for d in days],
        [(str(f.problem)[:60], [f.per_day.get(d, 0) for d in days]) for f in top],
    )
    return Report(_("Known problems"), "known-problems", filters, blocks=[chart, table])
