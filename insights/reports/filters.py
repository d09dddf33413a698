"""The one filter every report uses: period, channel, locale and service.

    form, filters = parse_report_filters(request.GET)
    if filters is None:      # bad input: form.errors says why (shown on the page)
        ...
    filters.search_events()  # SearchEvent rows in the period/channel/locale/service
    filters.call_outcomes()  # CallOutcome rows (calls are channel "operator")

A service is chosen by its translation group, so "VPN" means the VPN service in every
language. Events have no service of their own; an event belongs to a service through
its article (see `service_article_ids` and docs/reports.md).
"""

import datetime
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from articles.models import Service, SolutionArticlePage

from ..models import (
    CALL_LANGUAGE,
    ArticleFeedback,
    CallOutcome,
    ContactRequest,
    DailySearchStats,
    SearchEvent,
    demand_language_sql,
)

PERIOD_DAYS = {"7": 7, "30": 30, "90": 90}
PERIOD_CHOICES = [
    ("7", _("Last 7 days")),
    ("30", _("Last 30 days")),
    ("90", _("Last 90 days")),
    ("custom", _("Custom range")),
]
DEFAULT_PERIOD = "30"
MAX_RANGE_DAYS = 731
EARLIEST_DATE = datetime.date(2000, 1, 1)


def service_names():
    """Translation key -> the service's English name (or its name in another language)."""
    names = {}
    for key, name, lang in Service.objects.values_list(
        "translation_key", "name", "locale__language_code"
    ):
        if lang == "en" or str(key) not in names:
            names[str(key)] = name
    return names


def service_choices():
    """One choice per translation group: the English name, then the other languages' names."""
    groups = {}
    for service in Service.objects.select_related("locale").order_by("name"):
        names = groups.setdefault(str(service.translation_key), {})
        names[service.locale.language_code] = service.name
    choices = []
    for key, names in groups.items():
        label = names.get("en") or next(iter(names.values()))
        others = sorted({n for lang, n in names.items() if n != label})
        if others:
            label = f"{label} ({', '.join(others)})"
        choices.append((key, label))
    return sorted(choices, key=lambda c: c[1].lower())


class ReportFilterForm(forms.Form):
    period = forms.ChoiceField(
        label=_("Period"), choices=PERIOD_CHOICES, required=False, initial=DEFAULT_PERIOD
    )
    date_from = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("'From' is not a date; use YYYY-MM-DD.")},
    )
    date_to = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("'To' is not a date; use YYYY-MM-DD.")},
    )
    channel = forms.ChoiceField(
        label=_("Channel"),
        required=False,
        choices=[("", _("All channels"))] + SearchEvent.CHANNELS,
    )
    locale = forms.ChoiceField(label=_("Language"), required=False, choices=())
    service = forms.ChoiceField(label=_("Service"), required=False, choices=())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["locale"].choices = [("", _("All languages"))] + list(settings.LANGUAGES)
        self.fields["service"].choices = [("", _("All services"))] + service_choices()

    def clean(self):
        data = super().clean()
        period = data.get("period") or ""
        start, end = data.get("date_from"), data.get("date_to")
        if self.errors:
            return data
        if period != "custom" and (start or end) and not period:
            period = "custom"  # only dates given: that is a custom range
        if period == "custom":
            today = timezone.localdate()
            if not start or not end:
                raise forms.ValidationError(
                    _("A custom range needs both a 'From' and a 'To' date."), code="incomplete"
                )
            if start > end:
                raise forms.ValidationError(
                    _("'From' (%(start)s) is after 'To' (%(end)s)."),
                    code="reversed",
                    params={"start": start.isoformat(), "end": end.isoformat()},
                )
            if start < EARLIEST_DATE or end > today + datetime.timedelta(days=366):
                raise forms.ValidationError(
                    _("Choose dates between %(first)s and next year."),
                    code="out_of_range",
                    params={"first": EARLIEST_DATE.isoformat()},
                )
            if (end - start).days + 1 > MAX_RANGE_DAYS:
                raise forms.ValidationError(
                    _("A range can be at most %(days)s days long."),
                    code="too_long",
                    params={"days": MAX_RANGE_DAYS},
                )
        data["period"] = period or DEFAULT_PERIOD
        return data


@dataclass(frozen=True)
class Bucket:
    """A slice of the period for charts: [start, end] dates, both included."""

    start: datetime.date
    end: datetime.date

    @property
    def label(self):
        if self.start == self.end:
            return self.start.strftime("%d %b")
        return f"{self.start:%d %b}–{self.end:%d %b}"


@dataclass(frozen=True)
class ReportFilters:
    """Validated filters. Dates are local calendar days; `end_date` is included."""

    start_date: datetime.date
    end_date: datetime.date
    period: str = DEFAULT_PERIOD
    channel: str = ""
    locale: str = ""
    service_key: str = ""
    service_label: str = ""
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    # -- the period
    @property
    def days(self):
        return (self.end_date - self.start_date).days + 1

    @property
    def start(self):
        """Aware datetime: the first instant of the period."""
        return _local_midnight(self.start_date)

    @property
    def end(self):
        """Aware datetime: the first instant after the period (exclusive)."""
        return _local_midnight(self.end_date + datetime.timedelta(days=1))

    def previous(self):
        """The same filters over the equally long period just before this one."""
        return self.with_dates(
            self.start_date - datetime.timedelta(days=self.days),
            self.start_date - datetime.timedelta(days=1),
        )

    def halves(self):
        """(earlier half, recent half) of the period; the recent half gets the odd day."""
        first_len = self.days // 2
        split = self.start_date + datetime.timedelta(days=first_len)
        return (
            self.with_dates(self.start_date, split - datetime.timedelta(days=1)),
            self.with_dates(split, self.end_date),
        )

    def with_dates(self, start, end):
        """The same channel/locale/service filters over other dates."""
        return ReportFilters(
            start_date=start,
            end_date=end,
            period="custom",
            channel=self.channel,
            locale=self.locale,
            service_key=self.service_key,
            service_label=self.service_label,
        )

    def bucket_days(self):
        if self.days <= 31:
            return 1
        if self.days <= 26 * 7:
            return 7
        return 30

    def buckets(self):
        """Equal slices of the period for charts: days up to a month, weeks up to half a year."""
        size = self.bucket_days()
        out, day = [], self.start_date
        while day <= self.end_date:
            last = min(day + datetime.timedelta(days=size - 1), self.end_date)
            out.append(Bucket(day, last))
            day = last + datetime.timedelta(days=1)
        return out

    def bucket_index(self, date):
        """Index in buckets() of a local date (or aware datetime) inside the period."""
        if isinstance(date, datetime.datetime):
            date = timezone.localtime(date).date()
        return (date - self.start_date).days // self.bucket_days()

    # -- description and links
    def describe(self):
        parts = [f"{self.start_date:%d %b %Y} – {self.end_date:%d %b %Y} ({self.days} days)"]
        parts.append(
            str(_("channel: %(c)s") % {"c": self.channel or _("all")}),
        )
        parts.append(str(_("language: %(l)s") % {"l": self.locale or _("all")}))
        parts.append(str(_("service: %(s)s") % {"s": self.service_label or _("all")}))
        return " · ".join(parts)

    def query_dict(self):
        data = {"period": self.period}
        if self.period == "custom":
            data.update(date_from=self.start_date.isoformat(), date_to=self.end_date.isoformat())
        for name in ("channel", "locale"):
            if getattr(self, name):
                data[name] = getattr(self, name)
        if self.service_key:
            data["service"] = self.service_key
        return data

    def querystring(self, **extra):
        return urlencode({**self.query_dict(), **extra})

    # -- service membership
    def service_article_ids(self):
        """Ids of the article pages (every language) of the chosen service; None = no filter."""
        if not self.service_key:
            return None
        if "articles" not in self._cache:
            self._cache["articles"] = set(
                SolutionArticlePage.objects.filter(
                    services__translation_key=self.service_key
                ).values_list("pk", flat=True)
            )
        return self._cache["articles"]

    def channel_allows(self, channel):
        return not self.channel or self.channel == channel

    # -- the filtered querysets
    def _in_period_and_language(self, qs):
        qs = qs.filter(created_at__gte=self.start, created_at__lt=self.end)
        return qs.filter(locale=self.locale) if self.locale else qs

    def search_events(self, qs=None):
        """Searches in the period; with a service: those whose first result is one of its articles."""
        qs = SearchEvent.objects.all() if qs is None else qs
        qs = qs.filter(created_at__gte=self.start, created_at__lt=self.end)
        if self.channel:
            qs = qs.filter(channel=self.channel)
        if self.locale:
            # The language the question was asked in (the content locale when the site has
            # no content in it, or for searches logged before it was stored).
            qs = qs.alias(demand_language=demand_language_sql()).filter(demand_language=self.locale)
        ids = self.service_article_ids()
        if ids is not None:
            qs = qs.filter(result_page_ids__0__in=list(ids))
        return qs

    def call_outcomes(self, qs=None):
        """Recorded calls (channel operator). With a service: the outcome's article is one of
        its articles or, when the outcome names no article, the first result of its search."""
        qs = CallOutcome.objects.all() if qs is None else qs
        if not self.channel_allows(SearchEvent.CHANNEL_OPERATOR):
            return qs.none()
        qs = qs.filter(created_at__gte=self.start, created_at__lt=self.end)
        if self.locale:
            # A call counts in the language of its search's question, as that search does;
            # without one (or a search logged before it was stored), the call's own locale.
            qs = qs.alias(demand_language=demand_language_sql(**CALL_LANGUAGE)).filter(
                demand_language=self.locale
            )
        ids = self.service_article_ids()
        if ids is not None:
            ids = list(ids)
            qs = qs.filter(
                Q(article_id__in=ids)
                | Q(article__isnull=True, search_event__result_page_ids__0__in=ids)
            )
        return qs

    def feedback(self, qs=None):
        """Customer feedback (channel public) on articles."""
        qs = ArticleFeedback.objects.all() if qs is None else qs
        if not self.channel_allows(SearchEvent.CHANNEL_PUBLIC):
            return qs.none()
        qs = self._in_period_and_language(qs)
        ids = self.service_article_ids()
        if ids is not None:
            qs = qs.filter(article_id__in=list(ids))
        return qs

    def contact_requests(self, qs=None):
        """Contact requests (channel public). With a service: the article the customer came
        from, or the first result of one of the searches before it, is one of its articles."""
        qs = ContactRequest.objects.all() if qs is None else qs
        if not self.channel_allows(SearchEvent.CHANNEL_PUBLIC):
            return qs.none()
        qs = self._in_period_and_language(qs)
        ids = self.service_article_ids()
        if ids is not None:
            ids = list(ids)
            qs = qs.filter(
                Q(article_id__in=ids) | Q(searches__result_page_ids__0__in=ids)
            ).distinct()
        return qs

    def daily_stats(self, qs=None):
        """Daily counts kept after pruning. They have no service: with a service filter this
        is empty (figures for pruned days cannot be split by service)."""
        qs = DailySearchStats.objects.all() if qs is None else qs
        if self.service_key:
            return qs.none()
        qs = qs.filter(day__gte=self.start_date, day__lte=self.end_date)
        if self.channel:
            qs = qs.filter(channel=self.channel)
        if self.locale:
            qs = qs.filter(locale=self.locale)
        return qs


def _local_midnight(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def default_filters(days=int(DEFAULT_PERIOD)):
    today = timezone.localdate()
    return ReportFilters(
        start_date=today - datetime.timedelta(days=days - 1), end_date=today, period=str(days)
    )


def parse_report_filters(data):
    """(bound form, ReportFilters) from GET data; filters is None when the input is bad."""
    form = ReportFilterForm(data or {"period": DEFAULT_PERIOD})
    if not form.is_valid():
        return form, None
    cd = form.cleaned_data
    today = timezone.localdate()
    if cd["period"] == "custom":
        start, end = cd["date_from"], cd["date_to"]
    else:
        days = PERIOD_DAYS[cd["period"]]
        start, end = today - datetime.timedelta(days=days - 1), today
    service_label = (
        dict(form.fields["service"].choices).get(cd["service"], "") if cd["service"] else ""
    )
    return form, ReportFilters(
        start_date=start,
        end_date=end,
        period=cd["period"],
        channel=cd["channel"] or "",
        locale=cd["locale"] or "",
        service_key=cd["service"] or "",
        service_label=str(service_label),
    )


__all__ = [
    "Bucket",
    "ReportFilterForm",
    "ReportFilters",
    "default_filters",
    "parse_report_filters",
    "service_choices",
]
