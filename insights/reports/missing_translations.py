"""Missing translations: articles that were needed in a language they have no live version in.

Per article (translation group) and missing language: calls solved with it, searches that
opened it and searches that ranked it first, in that language; the need (distinct requests)
orders the rows. Only raw events are used (the daily counts kept after pruning name no
article). Definitions: docs/reports.md, "Missing translations"."""

import dataclasses
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language, get_language_info, gettext_lazy
from django.utils.translation import gettext as _
from wagtail.models import Locale

from articles.models import SolutionArticlePage

from ..gaps import _refined as refined_searches
from ..gaps import normalise
from ..models import CALL_LANGUAGE, CallOutcome, SearchClick, demand_language_sql
from .attribution import ServiceIndex
from .export import Column, Report, Table
from .recurring import _pruned_in
from .views import BaseReportView

EXAMPLES = 3
TRANSLATE_PERMISSION = "simple_translation.submit_translation"
EDIT_PERMISSION = "wagtailadmin.access_admin"


def report_languages():
    """(code, name in the admin's language) of the content languages a version can be made
    in: settings.LANGUAGES that have a Wagtail Locale."""
    codes = set(Locale.objects.values_list("language_code", flat=True))
    return [
        (code, str(get_language_info(code)["name_translated"]))
        for code, _name in settings.LANGUAGES
        if code in codes
    ]


@dataclass
class Need:
    """One missing language of one article: what asked for it in that language."""

    language: str
    calls: set = field(default_factory=set)  # CallOutcome ids (solved with the article)
    opened: set = field(default_factory=set)  # SearchEvent ids with a click on it
    first: set = field(default_factory=set)  # SearchEvent ids that ranked it first
    call_searches: set = field(default_factory=set)  # the searches behind the counted calls
    texts: Counter = field(default_factory=Counter)
    shown: dict = field(default_factory=dict)  # normalised text -> the first stored wording
    action: dict | None = None

    @property
    def total(self):
        """Distinct requests: each call once, each search once unless a counted call came
        from it."""
        return len(self.calls) + len((self.opened | self.first) - self.call_searches)

    def add_text(self, text):
        key = normalise(text)
        if key:
            self.texts[key] += 1
            self.shown.setdefault(key, " ".join(str(text).split()))

    @property
    def examples(self):
        ordered = sorted(self.texts.items(), key=lambda kv: (-kv[1], kv[0]))
        return [self.shown[key] for key, _n in ordered[:EXAMPLES]]


@dataclass
class ArticleRow:
    key: str
    live: dict  # language -> live page
    drafts: dict  # language -> a page that is not live
    needs: dict = field(default_factory=dict)  # language -> Need

    @property
    def total(self):
        return sum(n.total for n in self.needs.values())

    def title(self, languages):
        return " · ".join(
            f"{self.live[code].title} [{code}]" for code, _name in languages if code in self.live
        )

    def source(self, languages):
        """The live version to translate from: the first in settings.LANGUAGES order."""
        return next(self.live[code] for code, _name in languages if code in self.live)


def _groups(service_ids):
    """Translation key -> ArticleRow, for articles live in at least one language."""
    groups = {}
    for page in SolutionArticlePage.objects.select_related("locale").order_by("pk"):
        row = groups.setdefault(str(page.translation_key), ArticleRow(page.translation_key, {}, {}))
        target = row.live if page.live else row.drafts
        target.setdefault(page.locale.language_code, page)
    rows = {}
    for key, row in groups.items():
        if not row.live:
            continue
        pages = {p.pk for p in [*row.live.values(), *row.drafts.values()]}
        if service_ids is not None and not pages & service_ids:
            continue
        rows[key] = row
    return rows


def _action(row, language, language_names, languages):
    name = language_names[language]
    if (get_language() or "").startswith("fr"):
        name = name[:1].lower() + name[1:]  # "Traduire en néerlandais": no capital in French
    draft = row.drafts.get(language)
    if draft is not None:
        return {
            "url": reverse("wagtailadmin_pages:edit", args=[draft.pk]),
            "label": _("Edit the %(language)s draft") % {"language": name},
            "permission": EDIT_PERMISSION,
            "kind": "edit-draft",
        }
    # Wagtail's translation form with this language ticked (articles.translation_views).
    url = reverse("articles_translate", args=[row.source(languages).pk])
    return {
        "url": f"{url}?{urlencode({'locale': language})}",
        "label": _("Translate into %(language)s") % {"language": name},
        "permission": TRANSLATE_PERMISSION,
        "kind": "translate",
    }


def collect_needs(filters, languages):
    """ArticleRows with at least one need, most needed first."""
    codes = [code for code, _name in languages]
    rows = _groups(filters.service_article_ids())
    page_row = {}
    for row in rows.values():
        for page in [*row.live.values(), *row.drafts.values()]:
            page_row[page.pk] = row
    # Events are tied to the service through the row's article, not through their first
    # result: the service filter applied above, the event filters here without it. A request
    # counts in the language the question was asked in (insights.models.demand_language: a
    # Dutch question on the English page is Dutch demand); the language filter keeps the
    # requests in that language, applied per request below (refinement is judged across
    # languages: a prefix in the console's language, the whole question in another).
    events = dataclasses.replace(filters, locale="", service_key="", service_label="", _cache={})
    searches = events.search_events()
    refined = refined_searches(
        searches.values_list("pk", "user_id", "session_key", "created_at", "query").iterator(
            chunk_size=5000
        )
    )

    def need(row, language):
        if language not in codes or language in row.live:
            return None
        if filters.locale and language != filters.locale:
            return None
        if language not in row.needs:
            row.needs[language] = Need(language)
        return row.needs[language]

    solved = (
        events.call_outcomes()
        .filter(outcome=CallOutcome.SOLVED, article_id__in=list(page_row))
        .annotate(demand_language=demand_language_sql(**CALL_LANGUAGE))
    )
    for pk, language, article_id, search_id, query, search_query in solved.values_list(
        "pk", "demand_language", "article_id", "search_event_id", "query", "search_event__query"
    ):
        n = need(page_row[article_id], language)
        if n is not None:
            n.calls.add(pk)
            if search_id:
                n.call_searches.add(search_id)
            n.add_text(query or search_query or "")
    clicks = (
        SearchClick.objects.filter(article_id__in=list(page_row), search_event__in=searches)
        .annotate(
            demand_language=demand_language_sql(
                question="search_event__question_language", fallback="search_event__locale"
            )
        )
        .values_list("search_event_id", "article_id", "demand_language", "search_event__query")
    )
    for search_id, article_id, language, query in clicks:
        if search_id in refined:
            continue
        n = need(page_row[article_id], language)
        if n is not None and search_id not in n.opened:
            n.opened.add(search_id)
            if search_id not in n.call_searches:
                n.add_text(query)
    first = searches.filter(no_good_match=False, result_page_ids__0__in=list(page_row)).annotate(
        demand_language=demand_language_sql()
    )
    for search_id, language, results, query in first.values_list(
        "pk", "demand_language", "result_page_ids", "query"
    ):
        if search_id in refined or not results or results[0] not in page_row:
            continue
        n = need(page_row[results[0]], language)
        if n is not None:
            n.first.add(search_id)
            if search_id not in n.opened and search_id not in n.call_searches:
                n.add_text(query)
    names = dict(languages)
    needed = [row for row in rows.values() if row.needs]
    for row in needed:
        for language, n in row.needs.items():
            n.action = _action(row, language, names, languages)
    return sorted(needed, key=lambda r: (-r.total, r.title(languages).lower()))


def build_missing_translations_report(filters):
    """(Report for screen and export, the ArticleRows behind its table)."""
    languages = report_languages()
    if filters.locale:
        languages_shown = [(c, n) for c, n in languages if c == filters.locale]
    else:
        languages_shown = languages
    rows = collect_needs(filters, languages)
    services = ServiceIndex()
    columns = [
        Column(_("Article")),
        Column(_("Services")),
        Column(_("Published in")),
        Column(_("Needed in, not published")),
        Column(_("Need"), "int"),
    ]
    for code, _name in languages_shown:
        label = code.upper()
        columns += [
            Column(_("%(language)s: calls solved") % {"language": label}, "int"),
            Column(_("%(language)s: opens") % {"language": label}, "int"),
            Column(_("%(language)s: first result") % {"language": label}, "int"),
            Column(_("%(language)s: need") % {"language": label}, "int"),
            Column(_("%(language)s: example queries") % {"language": label}),
        ]
    table_rows = []
    for row in rows:
        cells = [
            row.title(languages),
            services.labels_for(row.source(languages).pk),
            ", ".join(code for code, _name in languages if code in row.live),
            ", ".join(code for code, _name in languages if code in row.needs),
            row.total,
        ]
        for code, _name in languages_shown:
            n = row.needs.get(code)
            if n is None:
                cells += [None, None, None, None, ""]
            else:
                cells += [
                    len(n.calls),
                    len(n.opened),
                    len(n.first),
                    n.total,
                    " | ".join(n.examples),
                ]
        table_rows.append(cells)
    table = Table(
        _("Articles needed in a language they are not published in"),
        columns,
        table_rows,
        key="missing-translations",
        empty_message=_(
            "For these filters, no article was needed in a language it is not published in."
        ),
        note=_(
            "Per missing language: calls solved with the article, searches that opened it and "
            "searches that ranked it first, in that language. Need counts each call and each "
            "search once (a call's own search is not counted again); rows are sorted by need."
        ),
    )
    notes = [
        _(
            "Built from the stored searches, clicks and call outcomes only: the daily counts "
            "kept after pruning name no article, so pruned days count nothing here."
        ),
        _(
            "Published in: the languages the article is live in today. Once a version in a "
            "language is published, that language leaves the report, requests made before "
            "included."
        ),
    ]
    if _pruned_in(filters):
        notes.append(
            _(
                "Part of this period has been pruned (KB_LOG_RETENTION_DAYS): only the events "
                "still stored are counted."
            )
        )
    report = Report(
        title=str(_("Missing translations")),
        slug="missing-translations",
        filters=filters,
        blocks=[table],
        notes=notes,
    )
    return report, rows, languages


def screen_rows(report, rows, languages):
    """Per article what the screen shows: its cells and, per missing language, the figures,
    examples and the action (Translate, or Edit the draft when an unpublished version exists)."""
    if not report.blocks:
        return []
    names = dict(languages)
    out = []
    for cells, row in zip(report.blocks[0].cells(), rows, strict=True):
        text = [cell for cell, _kind in cells]
        out.append(
            {
                "key": row.key,
                "title": text[0],
                "services": text[1],
                "published": text[2],
                "need": text[4],
                "languages": [
                    {
                        "code": code,
                        "name": names[code],
                        "calls": len(n.calls),
                        "opened": len(n.opened),
                        "first": len(n.first),
                        "total": n.total,
                        "examples": n.examples,
                        "action": n.action,
                    }
                    for code, _name in languages
                    for n in [row.needs.get(code)]
                    if n is not None
                ],
            }
        )
    return out


class MissingTranslationsView(BaseReportView):
    template_name = "insights/reports/missing_translations.html"
    page_title = gettext_lazy("Missing translations")
    header_icon = "globe"
    url_name = "kb_reports:missing_translations"
    intro = gettext_lazy(
        "Articles that callers and customers needed in a language they are not published "
        "in: calls solved with them, results opened and first results in that language. "
        "Translate the ones at the top first."
    )

    def build_report(self, filters):
        report, rows, languages = build_missing_translations_report(filters)
        self.article_rows = screen_rows(report, rows, languages)
        return report

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        report = kwargs.get("report")
        if report is not None:
            context["needs_table"] = report.blocks[0]
            context["article_rows"] = getattr(self, "article_rows", [])
        return context
