"""The knowledge-gaps report: unresolved demand clustered into topics, with 'create draft article'."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from articles.authoring import DraftError, create_wip_article, likely_category
from embeddings.encoder import EncoderUnavailable
from incidents.admin_views import declare_url

from ..gaps import KIND_LABELS, GapsError, knowledge_gaps
from .charts import small_multiples_chart
from .export import Column, Report, Table
from .views import BaseReportView, can_view_reports

TREND_TOPICS = 5
CHANNEL_NAMES = {"operator": "operator", "public": "public", "api": "API"}


def _counts(counter, names=None):
    return ", ".join(f"{(names or {}).get(k, k)} {v}" for k, v in counter.items())


def build_gaps_report(filters):
    """(Report for screen and export, the GapReport behind it)."""
    gaps = knowledge_gaps(
        since=filters.start,
        until=filters.end,
        channel=filters.channel or None,
        locale=filters.locale or None,
        service_key=filters.service_key or None,
    )
    buckets = filters.buckets()
    series = []
    for topic in gaps.topics[:TREND_TOPICS]:
        values = [0] * len(buckets)
        for day, count in topic.daily:
            index = filters.bucket_index(day)
            if index is not None and 0 <= index < len(values):
                values[index] += count
        label = topic.label if len(topic.label) <= 40 else topic.label[:39] + "…"
        series.append((label, values))
    trend = small_multiples_chart(
        _("Largest gap topics over time"),
        [b.label for b in buckets],
        series,
        description=_(
            "Requests per period for the %(n)s largest topics, one small chart each on the "
            "same scale (the numbers are in the data table)."
        )
        % {"n": len(series)},
    )
    rows = []
    for number, topic in enumerate(gaps.topics, start=1):
        article = topic.closest_article
        rows.append(
            [
                number,
                topic.label,
                topic.volume,
                topic.change,
                _counts(topic.languages),
                _counts(topic.channels, CHANNEL_NAMES),
                _counts(topic.kinds, KIND_LABELS),
                " | ".join(topic.examples),
                f"{article['title']} ({article['locale']})" if article else "",
                topic.similarity if article else None,
            ]
        )
    table = Table(
        _("Gap topics"),
        [
            Column("#", "int"),
            Column(_("Topic"), "text"),
            Column(_("Volume"), "int"),
            Column(_("Change vs first half"), "pct"),
            Column(_("Languages"), "text"),
            Column(_("Channels"), "text"),
            Column(_("Sources"), "text"),
            Column(_("Example queries"), "text"),
            Column(_("Closest article"), "text"),
            Column(_("Similarity"), "float"),
        ],
        rows,
        empty_message=_("No knowledge gaps for these filters."),
        note=_(
            "Similarity is the cosine between the topic's label and the closest article's best "
            "passage (0–1); a search counts as answered from about 0.5–0.6 depending on language."
        ),
        key="gap-topics",
    )
    notes = [
        _(
            "%(items)s unresolved requests in this period; %(answered)s more were answered "
            "since by an article published after them and are left out. Topics of one request "
            "are not listed (%(single)s requests)."
        )
        % {"items": gaps.items, "answered": gaps.answered_since, "single": gaps.unclustered},
        _(
            "The embedding model (%(model)s) is trained on English: Dutch and French wording "
            "of the same problem often ends up in separate topics."
        )
        % {"model": gaps.model_id},
    ]
    report = Report(
        title=str(_("Knowledge gaps")),
        slug="knowledge-gaps",
        filters=filters,
        blocks=[trend, table],
        notes=notes,
    )
    return report, gaps


def sparkline_points(daily, width=120, height=24):
    """SVG polyline points for a topic's requests per day (a glance at its trend)."""
    counts = [n for _day, n in daily]
    if not counts:
        return ""
    top = max(counts) or 1
    step = width / max(1, len(counts) - 1)
    return " ".join(
        f"{i * step:.1f},{height - 2 - (n / top) * (height - 4):.1f}" for i, n in enumerate(counts)
    )


def screen_row(cells, topic):
    """One topic as the screen shows it: six columns that fit a 1280 px admin window, the
    rest of the exported columns (examples, channels, sources, similarity) behind 'Details'."""
    text = [cell for cell, _kind in cells]
    return {
        "topic": topic,
        "number": text[0],
        "label": text[1],
        "volume": text[2],
        "change": text[3],
        "languages": text[4],
        "channels": text[5],
        "sources": text[6],
        "examples": topic.draft_phrasings,  # in the topic's main language
        "other_languages": {
            language: examples
            for language, examples in topic.examples_by_language.items()
            if language != topic.main_locale
        },
        "closest": text[8],
        "similarity": text[9],
        "sparkline": sparkline_points(topic.daily),
        "declare": declare_url(
            title=topic.label, locale=topic.main_locale, examples=topic.examples
        ),
    }


class KnowledgeGapsView(BaseReportView):
    template_name = "insights/reports/knowledge_gaps.html"
    page_title = gettext_lazy("Knowledge gaps")
    header_icon = "help"
    url_name = "kb_reports:knowledge_gaps"
    intro = gettext_lazy(
        "What people asked that no article answers: searches without a good match, calls "
        "closed with 'no article found', not-helpful feedback with a comment and searches "
        "before a contact request, grouped into topics by meaning and ranked by volume."
    )

    def build_report(self, filters):
        try:
            report, gaps = build_gaps_report(filters)
        except (GapsError, EncoderUnavailable) as exc:
            messages.error(self.request, str(exc))
            return Report(str(_("Knowledge gaps")), "knowledge-gaps", filters, blocks=[])
        self.gap_topics = gaps.topics
        return report

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        report = kwargs.get("report")
        topics = getattr(self, "gap_topics", [])
        if report is not None and report.blocks:
            table = report.blocks[1]
            context["trend_chart"] = report.blocks[0]
            context["topics_table"] = table
            context["topic_rows"] = [
                screen_row(cells, topic) for cells, topic in zip(table.cells(), topics, strict=True)
            ]
        return context


@require_POST
def create_draft_from_topic(request):
    """'Create draft article' on a gap topic: a WIP draft with the topic's phrasings as issue."""
    if not can_view_reports(request.user) or not request.user.has_perm("wagtailadmin.access_admin"):
        raise PermissionDenied
    back = request.POST.get("next") or reverse("kb_reports:knowledge_gaps")
    if not back.startswith(reverse("kb_reports:knowledge_gaps")):
        back = reverse("kb_reports:knowledge_gaps")
    phrasings = request.POST.getlist("phrasing")
    locale = request.POST.get("locale", "")
    near = request.POST.get("near_article", "")
    try:
        parent = likely_category(
            locale, phrasings, near_article_id=int(near) if near.isdigit() else None
        )
        page = create_wip_article(
            phrasings=phrasings,
            locale=locale,
            title=request.POST.get("title", ""),
            user=request.user,
            parent=parent,
        )
    except DraftError as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(back)
    messages.success(
        request,
        _("Draft article “%(title)s” created: complete it and submit it for review.")
        % {"title": page.title},
    )
    return HttpResponseRedirect(reverse("wagtailadmin_pages:edit", args=[page.pk]))
