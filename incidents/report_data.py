"""Figures per known problem for the reports: calls and tickets linked over time, how long it
took to declare the problem after it started and after the early warning's first rise, and
the contacts the form prevented and the banner clicks to the status page."""

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, Min
from django.db.models.functions import TruncDate
from django.utils import timezone

from .models import Deflection, EarlyWarning, IncidentLink, KnownProblem


@dataclass
class ProblemFigures:
    problem: KnownProblem
    declared_at: datetime.datetime | None
    minutes_to_declare: int | None
    links_console: int = 0
    links_integration: int = 0
    per_day: dict = field(default_factory=dict)  # date -> links
    deflections: int = 0  # 'still need help' form: the customer did not send
    banner_clicks: int = 0  # followed the banner to the status page
    first_rise_at: datetime.datetime | None = None  # of the early warning it was declared from
    minutes_rise_to_declare: int | None = None

    @property
    def links(self):
        return self.links_console + self.links_integration


def known_problem_figures(start, end):
    """One row per known problem active at some point in [start, end) (dates), newest first.

    `minutes_to_declare`: from the problem's start (when customers were first affected, as
    entered) to its declaration (first status step)."""
    end_dt = timezone.make_aware(datetime.datetime.combine(end, datetime.time.min))
    start_dt = timezone.make_aware(datetime.datetime.combine(start, datetime.time.min))
    problems = (
        KnownProblem.objects.filter(started_at__lt=end_dt)
        .exclude(ended_at__lt=start_dt)
        .annotate(declared_at=Min("status_changes__changed_at"))
    )
    rows = {}
    for problem in problems.order_by("-started_at"):
        declared = problem.declared_at
        minutes = None
        if declared is not None:
            minutes = max(0, int((declared - problem.started_at).total_seconds() // 60))
        rows[problem.pk] = ProblemFigures(problem, declared, minutes)
    links = (
        IncidentLink.objects.filter(
            known_problem_id__in=list(rows), created_at__gte=start_dt, created_at__lt=end_dt
        )
        .annotate(day=TruncDate("created_at"))
        .values("known_problem_id", "source", "day")
        .annotate(n=Count("pk"))
    )
    for row in links:
        figures = rows[row["known_problem_id"]]
        if row["source"] == IncidentLink.SOURCE_CONSOLE:
            figures.links_console += row["n"]
        else:
            figures.links_integration += row["n"]
        figures.per_day[row["day"]] = figures.per_day.get(row["day"], 0) + row["n"]
    deflected = (
        Deflection.objects.filter(
            known_problem_id__in=list(rows), created_at__gte=start_dt, created_at__lt=end_dt
        )
        .values("known_problem_id", "source")
        .annotate(n=Count("pk"))
    )
    for row in deflected:
        figures = rows[row["known_problem_id"]]
        if row["source"] == Deflection.SOURCE_BANNER:
            figures.banner_clicks += row["n"]
        else:
            figures.deflections += row["n"]
    warnings = EarlyWarning.objects.filter(
        known_problem_id__in=list(rows), status=EarlyWarning.STATUS_DECLARED
    ).order_by("first_rise_at")
    for warning in warnings:
        figures = rows[warning.known_problem_id]
        if figures.first_rise_at is None:  # the earliest warning is the first rise
            figures.first_rise_at = warning.first_rise_at
            figures.minutes_rise_to_declare = warning.minutes_to_declare
    return list(rows.values())
