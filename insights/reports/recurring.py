"""Recurring problems: volume per service over time, articles most used to solve calls,
escalations per team, and rising problems. Definitions: docs/reports.md."""

from collections import Counter, defaultdict

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.models import Page

from articles.models import Service
from incidents.admin_views import declare_url

from ..models import CallOutcome, DailySearchStats
from .attribution import NO_SERVICE, ServiceIndex, demand_events, oldest_raw_event
from .charts import bar_chart, line_chart
from .export import Column, Report, Table

# A problem is "rising" when (a) its recent half of the period has at least MIN_RECENT
# events and at least GROWTH times the daily rate of the earlier half, or (b) the whole
# period has at least MIN_RECENT events and GROWTH times the previous equally long period.
GROWTH = 1.5
MIN_RECENT = 5
TOP_ARTICLES = 20
CHART_SERIES = 6


def rising_reason(earlier, recent, earlier_days, recent_days, total, previous):
    """Why a volume counts as rising, or "" when it does not. `previous` None = unknown."""
    reasons = []
    if earlier_days and recent >= MIN_RECENT:
        # Compare daily rates: the halves differ by a day when the period has an odd length.
        if recent * earlier_days >= GROWTH * max(earlier, 1) * recent_days:
            reasons.append(f"recent half {recent} vs earlier half {earlier}")
    if previous is not None and total >= MIN_RECENT and total >= GROWTH * max(previous, 1):
        reasons.append(f"{total} vs {previous} in the previous period")
    return "; ".join(reasons)


def _pruned_in(filters):
    """True when raw events of this period were pruned (only daily counts are left)."""
    return DailySearchStats.objects.filter(
        day__gte=filters.start_date, day__lte=filters.end_date
    ).exists()


def _volumes(events, services, filters, earlier):
    """Per service key and per article: total, per bucket, earlier half, recent half."""
    buckets = len(filters.buckets())

    def empty():
        return {
            "total": 0,
            "calls": 0,
            "searches": 0,
            "earlier": 0,
            "recent": 0,
            "series": [0] * buckets,
        }

    by_service, by_article = defaultdict(empty), defaultdict(empty)
    for day, kind, page in events:
        keys = services.keys(page) if page else set()
        targets = [by_service[k] for k in (keys or {""})]
        if page:
            targets.append(by_article[page])
        for row in targets:
            row["total"] += 1
            row["calls" if kind == "call" else "searches"] += 1
            row["earlier" if day <= earlier.end_date else "recent"] += 1
            row["series"][filters.bucket_index(day)] += 1
    return by_service, by_article


def _previous_comparable(filters):
    """The previous period can be compared only when its raw events are all still stored:
    not pruned, and the log already existed when that period began."""
    previous = filters.previous()
    oldest = oldest_raw_event()
    return not _pruned_in(previous) and oldest is not None and oldest <= previous.start


def _previous_totals(filters, services):
    previous = filters.previous()
    if not _previous_comparable(filters):
        return None, None
    by_service, by_article = Counter(), Counter()
    for _day, _kind, page in demand_events(previous):
        for key in services.keys(page) if page else {""}:
            by_service[key] += 1
        if page:
            by_article[page] += 1
    return by_service, by_article


def _service_ids():
    """Service translation key -> the id of one language version (the English one if any):
    a known problem's services need one version of each."""
    ids = {}
    for pk, key, lang in Service.objects.values_list(
        "pk", "translation_key", "locale__language_code"
    ):
        if lang == "en" or str(key) not in ids:
            ids[str(key)] = pk
    return ids


def _pages(ids):
    return {p.pk: p for p in Page.objects.filter(pk__in=ids).select_related("locale")}


def build_recurring_report(filters):
    services = ServiceIndex()
    buckets = filters.buckets()
    notes = []
    # Halves are compared over the logged part of the period: days before the first stored
    # event are not quiet days, they are days nobody recorded.
    logged = filters
    oldest = oldest_raw_event()
    if oldest is not None and timezone.localtime(oldest).date() > filters.start_date:
        first_day = min(timezone.localtime(oldest).date(), filters.end_date)
        logged = filters.with_dates(first_day, filters.end_date)
        notes.append(
            f"The log starts on {first_day:%d %b %Y}: the earlier and recent halves are "
            f"those of {first_day:%d %b}–{filters.end_date:%d %b}."
        )
    earlier, recent = logged.halves()
    earlier_days = earlier.days if earlier.start_date <= earlier.end_date else 0
    by_service, by_article = _volumes(demand_events(filters), services, filters, earlier)
    prev_service, prev_article = _previous_totals(filters, services)
    if _pruned_in(filters):
        notes.append(
            "Part of this period has been pruned (KB_LOG_RETENTION_DAYS): the daily counts "
            "that remain have no service or article, so this report only counts the events "
            "still stored."
        )
    if prev_service is None:
        notes.append(
            "The previous period is not fully in the log (pruned, or before logging "
            "started): rising problems are judged within this period only (recent half "
            "against earlier half)."
        )

    def label(key):
        return services.label(key) if key else NO_SERVICE

    service_order = sorted(by_service, key=lambda k: (-by_service[k]["total"], label(k)))
    chart_keys = [k for k in service_order if k][:CHART_SERIES]
    volume_chart = line_chart(
        "Problem volume per service over time",
        [b.label for b in buckets],
        [(label(k), by_service[k]["series"]) for k in chart_keys],
        description=(
            "Recorded calls plus matched public and API searches per "
            f"{'day' if filters.bucket_days() == 1 else f'{filters.bucket_days()} days'}, "
            f"for the {len(chart_keys)} services with the most volume."
        ),
    )

    def prev(counter, key):
        return None if counter is None else counter.get(key, 0)

    def change(total, previous):
        if previous is None or previous == 0:
            return None
        return (total - previous) / previous

    service_table = Table(
        "Volume per service",
        [
            Column("Service"),
            Column("Calls", "int"),
            Column("Searches", "int"),
            Column("Total", "int"),
            Column("Earlier half", "int"),
            Column("Recent half", "int"),
            Column("Previous period", "int"),
            Column("Change vs previous", "pct"),
        ],
        [
            [
                label(k),
                v["calls"],
                v["searches"],
                v["total"],
                v["earlier"],
                v["recent"],
                prev(prev_service, k),
                change(v["total"], prev(prev_service, k)),
            ]
            for k in service_order
            for v in [by_service[k]]
        ],
        note="Calls: recorded call outcomes. Searches: public and API searches whose first "
        "result was a good match. An article with several services counts for each.",
    )

    rising_rows, rising_actions = [], []
    service_ids = _service_ids()

    def declare(title, locale, keys):
        return {
            "url": declare_url(
                title=title,
                locale=locale,
                services=[service_ids[k] for k in keys if k in service_ids],
            ),
            "label": _("Declare known problem"),
            "permission": "incidents.add_knownproblem",
        }

    for k in service_order:
        v = by_service[k]
        if not k:
            continue
        reason = rising_reason(
            v["earlier"], v["recent"], earlier_days, recent.days, v["total"], prev(prev_service, k)
        )
        if reason:
            rising_rows.append(
                ["Service", label(k), "", v["earlier"], v["recent"], prev(prev_service, k), reason]
            )
            rising_actions.append(
                declare(_("Problem with %(service)s") % {"service": label(k)}, "en", [k])
            )
    pages = _pages(by_article)
    for page_id, v in sorted(by_article.items(), key=lambda kv: -kv[1]["recent"]):
        reason = rising_reason(
            v["earlier"],
            v["recent"],
            earlier_days,
            recent.days,
            v["total"],
            prev(prev_article, page_id),
        )
        if reason and page_id in pages:
            page = pages[page_id]
            rising_rows.append(
                [
                    "Article",
                    f"{page.title} [{page.locale.language_code}]",
                    services.labels_for(page_id),
                    v["earlier"],
                    v["recent"],
                    prev(prev_article, page_id),
                    reason,
                ]
            )
            rising_actions.append(
                declare(page.title, page.locale.language_code, services.keys(page_id))
            )
    rising_table = Table(
        "Rising problems",
        [
            Column("Kind"),
            Column("Service or article"),
            Column("Services"),
            Column("Earlier half", "int"),
            Column("Recent half", "int"),
            Column("Previous period", "int"),
            Column("Why rising"),
        ],
        rising_rows,
        actions=rising_actions,
        empty_message="No service or article is rising in this period.",
        note=(
            f"Rising: the recent half ({recent.start_date:%d %b}–{recent.end_date:%d %b}) has "
            f"at least {MIN_RECENT} events and {GROWTH:g}× the daily rate of the earlier half, "
            f"or the period has at least {MIN_RECENT} and {GROWTH:g}× the previous "
            f"{filters.days} days."
        ),
    )

    solved = (
        filters.call_outcomes()
        .filter(outcome=CallOutcome.SOLVED, article__isnull=False)
        .values("article_id", "created_at")
    )
    solved_counts, solved_recent = Counter(), Counter()
    for row in solved:
        solved_counts[row["article_id"]] += 1
        if row["created_at"] >= recent.start:
            solved_recent[row["article_id"]] += 1
    total_solved = sum(solved_counts.values())
    top = solved_counts.most_common(TOP_ARTICLES)
    article_pages = _pages([pk for pk, _ in top])
    articles_table = Table(
        "Articles most used to solve calls",
        [
            Column("Article"),
            Column("Language"),
            Column("Services"),
            Column("Solved calls", "int"),
            Column("Share of solved calls", "pct"),
            Column("Earlier half", "int"),
            Column("Recent half", "int"),
        ],
        [
            [
                article_pages[pk].title if pk in article_pages else f"#{pk}",
                article_pages[pk].locale.language_code if pk in article_pages else "",
                services.labels_for(pk),
                n,
                n / total_solved,
                n - solved_recent[pk],
                solved_recent[pk],
            ]
            for pk, n in top
        ],
        empty_message="No call was recorded as solved with an article for these filters.",
        note=f"The {TOP_ARTICLES} articles most often recorded as 'solved with this article'.",
    )

    escalations = filters.call_outcomes().filter(outcome=CallOutcome.ESCALATED)
    by_team = Counter()
    team_recent = Counter()
    for name, created in escalations.values_list("team__name", "created_at"):
        by_team[name or "(no team)"] += 1
        if created >= recent.start:
            team_recent[name or "(no team)"] += 1
    prev_team = Counter(
        {
            (r["team__name"] or "(no team)"): r["n"]
            for r in filters.previous()
            .call_outcomes()
            .filter(outcome=CallOutcome.ESCALATED)
            .values("team__name")
            .annotate(n=Count("id"))
        }
    )
    team_order = sorted(by_team, key=lambda t: (-by_team[t], t))
    total_escalated = sum(by_team.values())
    team_table = Table(
        "Escalations per team and period",
        [
            Column("Team"),
            Column("Escalations", "int"),
            Column("Share of escalations", "pct"),
            Column("Earlier half", "int"),
            Column("Recent half", "int"),
            Column("Previous period", "int"),
        ],
        [
            [
                t,
                by_team[t],
                by_team[t] / total_escalated,
                by_team[t] - team_recent[t],
                team_recent[t],
                None if prev_service is None else prev_team.get(t, 0),
            ]
            for t in team_order
        ],
        empty_message="No escalated call for these filters.",
    )
    team_chart = bar_chart(
        "Escalations per team",
        team_order,
        [by_team[t] for t in team_order],
        value_name="Escalations",
        category_label="Team",
    )
    return Report(
        title="Recurring problems",
        slug="recurring-problems",
        filters=filters,
        blocks=[volume_chart, rising_table, service_table, articles_table, team_chart, team_table],
        notes=notes,
    )
