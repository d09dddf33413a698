"""Known problems: calls and tickets linked per problem over time, time from the start to the
declaration, and contacts the 'still need help' form prevented. Figures from
incidents.report_data; the period filter applies, channel/language/service filters do not
(a known problem spans them)."""

import datetime

from incidents.report_data import known_problem_figures

from .charts import line_chart
from .export import Column, Report, Table

CHART_SERIES = 6


def build_known_problems_report(filters):
    end = filters.end_date + datetime.timedelta(days=1)
    figures = known_problem_figures(filters.start_date, end)
    days = [filters.start_date + datetime.timedelta(days=i) for i in range(filters.days)]
    table = Table(
        "Known problems in the period",
        [
            "Known problem",
            "Status",
            Column("Public", "text"),
            Column("Started", "date"),
            Column("Declared", "date"),
            Column("Minutes to declare", "int"),
            Column("Calls linked (console)", "int"),
            Column("Tickets linked (integration)", "int"),
            Column("Contacts prevented (form)", "int"),
        ],
        note="Minutes to declare: from the problem's start (as entered) to its first status step.",
        empty_message="No known problem was active in this period.",
    )
    for f in figures:
        table.rows.append(
            [
                str(f.problem),
                f.problem.get_status_display(),
                "yes" if f.problem.is_public else "no",
                f.problem.started_at,
                f.declared_at,
                f.minutes_to_declare,
                f.links_console,
                f.links_integration,
                f.deflections,
            ]
        )
    top = sorted(figures, key=lambda f: f.links, reverse=True)[:CHART_SERIES]
    chart = line_chart(
        "Calls and tickets linked per day",
        [d.isoformat() for d in days],
        [(str(f.problem)[:60], [f.per_day.get(d, 0) for d in days]) for f in top],
    )
    return Report("Known problems", "known-problems", filters, blocks=[chart, table])
