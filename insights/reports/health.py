"""KCS and self-service health: link rate, reuse vs creation, search quality rates,
helpful rate per article, self-service success, articles past their review date.

Figures built from searches and call outcomes add the daily counts (DailySearchStats) of
days whose raw events were pruned, so they survive pruning; see docs/reports.md."""

from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db.models import Count, Min, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.models import Revision

from articles.models import SolutionArticlePage

from ..models import ArticleFeedback, CallOutcome, DailySearchStats, SearchEvent
from .attribution import ServiceIndex
from .charts import line_chart
from .export import Column, Report, Table

TOP_FEEDBACK_ARTICLES = 25
NO_GOOD_MATCH_SERIES = "Searches without a good match"


@dataclass
class Counts:
    """Raw-event counts plus the pruned days' daily counts."""

    searches: int = 0
    no_results: int = 0
    no_good_match: int = 0
    with_click: int = 0
    public_searches: int = 0
    public_followed_by_contact: int = 0
    calls: int = 0
    calls_with_article: int = 0
    solved: int = 0
    escalated: int = 0
    no_article: int = 0
    from_daily_stats: bool = False


def _ratio(part, whole):
    return part / whole if whole else None


def search_and_call_counts(filters):
    c = Counts()
    events = filters.search_events()
    agg = events.aggregate(
        n=Count("id", distinct=True),
        empty=Count("id", filter=Q(result_page_ids=[]), distinct=True),
        ngm=Count("id", filter=Q(no_good_match=True), distinct=True),
        clicked=Count("id", filter=Q(clicks__isnull=False), distinct=True),
    )
    c.searches, c.no_results, c.no_good_match, c.with_click = (
        agg["n"],
        agg["empty"],
        agg["ngm"],
        agg["clicked"],
    )
    public = events.filter(channel=SearchEvent.CHANNEL_PUBLIC)
    agg = public.aggregate(
        n=Count("id", distinct=True),
        contact=Count("id", filter=Q(contact_requests__isnull=False), distinct=True),
    )
    c.public_searches, c.public_followed_by_contact = agg["n"], agg["contact"]

    outcomes = filters.call_outcomes()
    agg = outcomes.aggregate(
        n=Count("id"),
        linked=Count("id", filter=Q(article__isnull=False)),
        solved=Count("id", filter=Q(outcome=CallOutcome.SOLVED)),
        escalated=Count("id", filter=Q(outcome=CallOutcome.ESCALATED)),
        no_article=Count("id", filter=Q(outcome=CallOutcome.NO_ARTICLE)),
    )
    c.calls, c.calls_with_article = agg["n"], agg["linked"]
    c.solved, c.escalated, c.no_article = agg["solved"], agg["escalated"], agg["no_article"]

    stats = filters.daily_stats()
    if stats.exists():
        c.from_daily_stats = True
        s = stats.aggregate(
            searches=Sum("searches"),
            no_results=Sum("no_results"),
            no_good_match=Sum("no_good_match"),
            with_click=Sum("with_click"),
            solved=Sum("outcomes_solved"),
            escalated=Sum("outcomes_escalated"),
            no_article=Sum("outcomes_no_article"),
        )
        p = stats.filter(channel=SearchEvent.CHANNEL_PUBLIC).aggregate(
            n=Sum("searches"), contact=Sum("followed_by_contact")
        )
        c.searches += s["searches"] or 0
        c.no_results += s["no_results"] or 0
        c.no_good_match += s["no_good_match"] or 0
        c.with_click += s["with_click"] or 0
        c.public_searches += p["n"] or 0
        c.public_followed_by_contact += p["contact"] or 0
        pruned_calls = (s["solved"] or 0) + (s["escalated"] or 0) + (s["no_article"] or 0)
        # Daily counts keep the outcome, not the article: a solved call always has one.
        c.calls += pruned_calls
        c.calls_with_article += s["solved"] or 0
        c.solved += s["solved"] or 0
        c.escalated += s["escalated"] or 0
        c.no_article += s["no_article"] or 0
    return c


def articles_created(filters):
    """Solution articles whose first revision was saved in the period (locale/service apply)."""
    pages = SolutionArticlePage.objects.all()
    if filters.locale:
        pages = pages.filter(locale__language_code=filters.locale)
    ids = filters.service_article_ids()
    if ids is not None:
        pages = pages.filter(pk__in=ids)
    page_ids = {str(pk) for pk in pages.values_list("pk", flat=True)}
    first = (
        Revision.page_revisions.filter(object_id__in=page_ids)
        .values("object_id")
        .annotate(first=Min("created_at"))
        .filter(first__gte=filters.start, first__lt=filters.end)
    )
    return first.count()


def _per_bucket(filters):
    """Searches, searches without results, searches with a click, calls, calls with an
    article: per bucket of the period, raw events plus pruned days' daily counts."""
    n = len(filters.buckets())
    series = defaultdict(lambda: [0] * n)
    for created, no_good, clicked in (
        filters.search_events()
        .annotate(clicked=Count("clicks"))
        .values_list("created_at", "no_good_match", "clicked")
    ):
        i = filters.bucket_index(created)
        series["Searches"][i] += 1
        series[NO_GOOD_MATCH_SERIES][i] += no_good
        series["Searches with a click"][i] += bool(clicked)
    for created, article_id in filters.call_outcomes().values_list("created_at", "article_id"):
        i = filters.bucket_index(created)
        series["Recorded calls"][i] += 1
        series["Calls with an article"][i] += article_id is not None
    for row in filters.daily_stats():
        i = filters.bucket_index(row.day)
        calls = row.outcomes_solved + row.outcomes_escalated + row.outcomes_no_article
        series["Searches"][i] += row.searches
        series[NO_GOOD_MATCH_SERIES][i] += row.no_good_match
        series["Searches with a click"][i] += row.with_click
        series["Recorded calls"][i] += calls
        series["Calls with an article"][i] += row.outcomes_solved
    order = [
        "Searches",
        NO_GOOD_MATCH_SERIES,
        "Searches with a click",
        "Recorded calls",
        "Calls with an article",
    ]
    return [(name, series[name]) for name in order]


def build_health_report(filters):
    services = ServiceIndex()
    c = search_and_call_counts(filters)
    created = articles_created(filters)
    calls_apply = filters.channel_allows(SearchEvent.CHANNEL_OPERATOR)
    public_applies = filters.channel_allows(SearchEvent.CHANNEL_PUBLIC)
    with_results = c.searches - c.no_results
    feedback = filters.feedback()
    helpful = feedback.filter(helpful=True).count()
    feedback_total = feedback.count()

    def rate(label, part, whole, definition, survives="yes", applies=True):
        if not applies:
            return [label, None, None, None, definition + " (not for this channel)", survives]
        return [label, _ratio(part, whole), part, whole, definition, survives]

    rates = Table(
        "KCS and self-service rates",
        [
            Column("Metric"),
            Column("Rate", "pct"),
            Column("Count", "int"),
            Column("Out of", "int"),
            Column("Definition"),
            Column("Kept after pruning"),
        ],
        [
            rate(
                "Link rate",
                c.calls_with_article,
                c.calls,
                "recorded calls that name an article / all recorded calls",
                applies=calls_apply,
            ),
            rate(
                "Reuse share",
                c.solved,
                c.solved + created,
                "calls solved with an existing article / (those + articles created)",
                applies=calls_apply,
            ),
            # Semantic search nearly always returns something, so "no result" is ~0 % and
            # says nothing; what customers and operators notice is no *good* match.
            rate(
                _("No-good-match rate"),
                c.no_good_match,
                c.searches,
                _(
                    "searches whose best result was below the language's confidence "
                    "threshold (flagged 'no good match') / all searches"
                ),
            ),
            rate(
                "No-click rate",
                with_results - c.with_click,
                with_results,
                "searches with results where no result was opened / searches with results",
            ),
            rate(
                "Click-through rate",
                c.with_click,
                c.searches,
                "searches where at least one result was opened / all searches",
            ),
            rate(
                "Self-service success",
                c.public_searches - c.public_followed_by_contact,
                c.public_searches,
                "public searches not followed by a contact request (same visitor, within "
                "2 hours) / all public searches",
                applies=public_applies,
            ),
            rate(
                "Helpful rate",
                helpful,
                feedback_total,
                "'Yes, this helped' / all feedback on articles",
                survives="yes (feedback is not pruned)",
                applies=public_applies,
            ),
        ],
    )
    volumes = Table(
        "Volumes",
        [Column("What"), Column("Count", "int")],
        [
            ["Recorded calls", c.calls if calls_apply else None],
            ["Solved with an article (reuse)", c.solved if calls_apply else None],
            ["Escalated", c.escalated if calls_apply else None],
            ["No article found", c.no_article if calls_apply else None],
            ["Articles created (first saved in the period)", created],
            ["Searches", c.searches],
            ["Public searches", c.public_searches if public_applies else None],
            [
                "Public searches followed by a contact request",
                c.public_followed_by_contact if public_applies else None,
            ],
            ["Feedback given", feedback_total if public_applies else None],
        ],
    )
    trend = line_chart(
        "Searches and calls over time",
        [b.label for b in filters.buckets()],
        _per_bucket(filters),
        description="Per "
        + ("day" if filters.bucket_days() == 1 else f"{filters.bucket_days()} days")
        + ": searches, searches without a good match, searches with a click, recorded calls and "
        "calls with an article.",
    )

    per_article = defaultdict(Counter)
    for article_id, is_helpful, reason in feedback.values_list("article_id", "helpful", "reason"):
        per_article[article_id]["yes" if is_helpful else "no"] += 1
        if not is_helpful and reason:
            per_article[article_id][f"reason:{reason}"] += 1
    pages = {
        p.pk: p
        for p in SolutionArticlePage.objects.filter(pk__in=per_article).select_related("locale")
    }
    reasons = dict(ArticleFeedback.REASONS)

    def top_reason(counter):
        found = [(n, key[7:]) for key, n in counter.items() if key.startswith("reason:")]
        return str(reasons.get(max(found)[1], "")) if found else ""

    ordered = sorted(
        per_article.items(),
        key=lambda kv: (-(kv[1]["yes"] + kv[1]["no"]), kv[0]),
    )[:TOP_FEEDBACK_ARTICLES]
    helpful_table = Table(
        "Helpful rate per article",
        [
            Column("Article"),
            Column("Language"),
            Column("Services"),
            Column("Helpful", "int"),
            Column("Not helpful", "int"),
            Column("Helpful rate", "pct"),
            Column("Most given reason"),
        ],
        [
            [
                pages[pk].title if pk in pages else f"#{pk}",
                pages[pk].locale.language_code if pk in pages else "",
                services.labels_for(pk),
                v["yes"],
                v["no"],
                v["yes"] / (v["yes"] + v["no"]),
                top_reason(v),
            ]
            for pk, v in ordered
        ],
        empty_message="No feedback for these filters.",
        note=f"The {TOP_FEEDBACK_ARTICLES} articles with the most feedback in the period.",
    )

    today = timezone.localdate()
    overdue = SolutionArticlePage.objects.live().filter(
        kcs_state=SolutionArticlePage.KCS_VALIDATED, next_review_date__lt=today
    )
    if filters.locale:
        overdue = overdue.filter(locale__language_code=filters.locale)
    ids = filters.service_article_ids()
    if ids is not None:
        overdue = overdue.filter(pk__in=ids)
    overdue_table = Table(
        "Articles past their review date",
        [
            Column("Article"),
            Column("Language"),
            Column("Owner"),
            Column("Review date", "date"),
            Column("Days overdue", "int"),
        ],
        [
            [
                p.title,
                p.locale.language_code,
                (p.owner_user.get_username() if p.owner_user else "")
                or (p.owner_group.name if p.owner_group else ""),
                p.next_review_date,
                (today - p.next_review_date).days,
            ]
            for p in overdue.select_related("locale", "owner_user", "owner_group").order_by(
                "next_review_date", "title"
            )
        ],
        empty_message="No validated article is past its review date.",
        note="Live, validated articles whose next review date has passed, as of today "
        "(the period does not apply).",
    )

    notes = []
    if c.from_daily_stats:
        notes.append(
            "Part of this period has been pruned: search and call figures include the daily "
            "counts kept after pruning (for those days a call counts as linked only when it "
            "was solved with an article)."
        )
    elif (
        filters.service_key
        and DailySearchStats.objects.filter(
            day__gte=filters.start_date, day__lte=filters.end_date
        ).exists()
    ):
        notes.append(
            "Part of this period has been pruned and the daily counts have no service: with "
            "a service chosen, only the events still stored are counted."
        )
    return Report(
        title="KCS and self-service health",
        slug="kcs-health",
        filters=filters,
        blocks=[rates, volumes, trend, helpful_table, overdue_table],
        notes=notes,
    )
