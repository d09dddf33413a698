"""A realistic month of search analytics over the demo knowledge base (development only).

Everything goes through the functions the real endpoints use (`service.search`,
`events.log_search`, `events.record_outcome`, the feedback and contact-request writers), so
queries are redacted and the rows are consistent with each other. Demo rows are marked by a
session key starting with ``demo-`` (and contact e-mails at example.invalid) and are replaced
on every run; real events are never touched.
"""

import datetime
import json
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from articles.models import EscalationTeam, SolutionArticlePage
from insights import events
from insights.models import ArticleFeedback, CallOutcome, ContactRequest, SearchClick, SearchEvent

from .. import service

DEMO_PREFIX = "demo-"
DEMO_EMAIL_DOMAIN = "example.invalid"
GOLD = Path(__file__).resolve().parent.parent / "eval" / "demo_gold.jsonl"

# Phrase tables (what callers and customers say) are data: phrases.json next to this file.
_PHRASES = json.loads((Path(__file__).resolve().parent / "phrases.json").read_text("utf-8"))
UNANSWERED = _PHRASES["unanswered"]
ONE_OFFS = [tuple(item) for item in _PHRASES["one_offs"]]
PERSONAL_SUFFIXES = _PHRASES["personal_suffixes"]
NOT_HELPFUL_COMMENTS = _PHRASES["not_helpful_comments"]
# Solved problems that get more frequent (a service quality signal for the recurring report).
RISING_ARTICLES = {"demo-vpn-disconnects": 3.0, "demo-mobile-no-signal": 2.5}
WEEKDAY_FACTOR = [1.0, 1.1, 1.0, 0.95, 0.85, 0.25, 0.15]


@dataclass
class Report:
    searches: int = 0
    no_good_match: int = 0
    outcomes: Counter = None
    clicks: int = 0
    feedback: int = 0
    contacts: int = 0

    def __str__(self):
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted((self.outcomes or {}).items()))
        return (
            f"{self.searches} searches ({self.no_good_match} without a good match), "
            f"outcomes: {outcomes or 'none'}, {self.clicks} clicks, {self.feedback} feedback, "
            f"{self.contacts} contact requests"
        )


def clear_demo_events():
    """Delete the rows an earlier run made; real events are left alone. Returns the count."""
    demo_searches = SearchEvent.objects.filter(session_key__startswith=DEMO_PREFIX)
    deleted = ContactRequest.objects.filter(email__endswith="@" + DEMO_EMAIL_DOMAIN).delete()[0]
    deleted += CallOutcome.objects.filter(search_event__in=demo_searches).delete()[0]
    deleted += ArticleFeedback.objects.filter(session_key__startswith=DEMO_PREFIX).delete()[0]
    deleted += demo_searches.delete()[0]
    return deleted


def _answered_queries():
    rows = []
    for line in GOLD.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        relevant = [r for r in record["relevant"] if r.startswith("demo-")]
        if relevant:
            rows.append((record["locale"], record["query"], relevant[0]))
    return rows


def _day_rate(trend, day_index, days):
    """Multiplier for day `day_index` (0 = oldest) of a `days`-long period."""
    x = day_index / max(1, days - 1)
    if trend == "rising":
        return 0.15 + 2.0 * x**2
    if trend == "falling":
        return 1.6 - 1.3 * x
    if trend == "burst":
        return 6.0 if 0.55 <= x <= 0.65 else 0.1
    return 1.0


def _poisson(rng, mean):
    # Knuth's method is fine for the small means used here.
    limit, k, p = pow(2.718281828, -mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


class _Generator:
    def __init__(self, days, seed, stdout=None):
        self.rng = random.Random(seed)
        self.days = days
        self.report = Report(outcomes=Counter())
        self.responses = {}
        self.created = []  # (model, pk, timestamp) to backdate at the end
        self.now = timezone.now().replace(minute=0, second=0, microsecond=0)
        User = get_user_model()
        self.operators = list(User.objects.filter(groups__name="Operators"))
        if not self.operators:
            raise ValueError("No operators: run `python manage.py load_initial_data` first.")
        self.teams = {t.slug: t for t in EscalationTeam.objects.all()}
        self.articles = {}
        for page in SolutionArticlePage.objects.live().select_related("locale", "escalation_team"):
            self.articles[(page.external_id, page.locale.language_code)] = page
        if not self.articles:
            raise ValueError("No live articles: run `python manage.py load_initial_data` first.")
        self.answered = _answered_queries()
        self.session_counter = 0

    # --- helpers ---------------------------------------------------------------------

    def _moment(self, day_index, public):
        day = self.now - datetime.timedelta(days=self.days - 1 - day_index)
        hour = self.rng.randint(7, 22) if public else self.rng.randint(8, 17)
        moment = day.replace(
            hour=hour, minute=self.rng.randint(0, 59), second=self.rng.randint(0, 59)
        )
        return min(moment, self.now - datetime.timedelta(minutes=5))

    def _session(self):
        self.session_counter += 1
        return f"{DEMO_PREFIX}{self.session_counter:06d}"

    def _search(self, query, locale, channel, user, session_key, at):
        key = (query, locale, channel)
        response = self.responses.get(key)
        if response is None:
            response = service.search(
                query,
                user=user if channel != SearchEvent.CHANNEL_PUBLIC else None,
                channel="operator" if channel != SearchEvent.CHANNEL_PUBLIC else "public",
                locale=locale,
                limit=10,
            )
            self.responses[key] = response
        request = SimpleNamespace(user=user, session=SimpleNamespace(session_key=session_key))
        event_id = events.log_search(
            response,
            channel=channel,
            request=request,
            query_vector=service.cached_query_vector(response.query),
        )
        self.created.append((SearchEvent, event_id, at))
        self.report.searches += 1
        self.report.no_good_match += response.no_good_match
        return response, event_id

    def _noisy(self, text, locale="en"):
        roll = self.rng.random()
        if roll < 0.04:
            return text + self.rng.choice(PERSONAL_SUFFIXES.get(locale, PERSONAL_SUFFIXES["en"]))
        if roll < 0.25:
            return text.lower()
        if roll < 0.32 and len(text) > 12:
            i = self.rng.randrange(3, len(text) - 3)
            return text[:i] + text[i + 1 :]  # a typo: one dropped letter
        return text

    # --- one operator call / one customer visit ---------------------------------------

    def call(self, at, locale, query, article_ext=None, team_slug=None, answered=True):
        operator = self.rng.choice(self.operators)
        session_key = self._session()
        typed = self._noisy(query, locale)
        # The console searches while the operator types: an earlier, shorter prefix first.
        if self.rng.random() < 0.4 and len(typed) > 20:
            prefix = typed[: self.rng.randint(8, len(typed) - 6)].rstrip()
            self._search(
                prefix,
                locale,
                SearchEvent.CHANNEL_OPERATOR,
                operator,
                session_key,
                at - datetime.timedelta(seconds=4),
            )
        response, event_id = self._search(
            typed, locale, SearchEvent.CHANNEL_OPERATOR, operator, session_key, at
        )
        roll = self.rng.random()
        outcome_at = at + datetime.timedelta(minutes=self.rng.randint(2, 9))
        top = response.hits[0].page if response.hits else None
        if answered and not response.no_good_match and top is not None and roll < 0.8:
            record = events.record_outcome(
                user=operator,
                outcome=CallOutcome.SOLVED,
                query=typed,
                locale=locale,
                article=top,
                search_event_id=event_id,
            )
        elif roll < (0.93 if answered else 0.45):
            page = self.articles.get((article_ext, locale)) if article_ext else None
            slug = team_slug or (
                page.escalation_team.slug if page and page.escalation_team else None
            )
            team = self.teams.get(slug) or self.rng.choice(list(self.teams.values()))
            record = events.record_outcome(
                user=operator,
                outcome=CallOutcome.ESCALATED,
                query=typed,
                locale=locale,
                team=team,
                search_event_id=event_id,
            )
        elif not answered and roll < 0.95:
            note = self.rng.choice(["", "customer: ", "caller asks: "]) + self._noisy(query, locale)
            record = events.record_outcome(
                user=operator,
                outcome=CallOutcome.NO_ARTICLE,
                query=typed,
                locale=locale,
                note=note,
                search_event_id=event_id,
            )
        else:
            return
        self.created.append((CallOutcome, record.pk, outcome_at))
        self.report.outcomes[record.outcome] += 1

    def visit(self, at, locale, query, answered=True):
        session_key = self._session()
        typed = self._noisy(query, locale)
        response, event_id = self._search(
            typed, locale, SearchEvent.CHANNEL_PUBLIC, None, session_key, at
        )
        later = at + datetime.timedelta(minutes=self.rng.randint(1, 6))
        if response.hits and not response.no_good_match and self.rng.random() < 0.7:
            position = min(len(response.hits), self.rng.choice([1, 1, 1, 1, 2, 2, 3]))
            page = response.hits[position - 1].page
            click = SearchClick.objects.create(
                search_event_id=event_id, article=page, position=position
            )
            self.created.append((SearchClick, click.pk, later))
            self.report.clicks += 1
            if self.rng.random() < 0.35:
                helpful = self.rng.random() < (0.75 if answered else 0.3)
                record = events.record_feedback(
                    article=page, locale=locale, helpful=helpful, session_key=session_key
                )
                if not helpful:
                    reason = self.rng.choice([r for r, _ in ArticleFeedback.REASONS])
                    comment = ""
                    if self.rng.random() < 0.6:
                        comment = self.rng.choice(NOT_HELPFUL_COMMENTS[locale])
                    events.add_feedback_details(record, reason=reason, comment=comment)
                self.created.append((ArticleFeedback, record.pk, later))
                self.report.feedback += 1
            return
        if self.rng.random() < (0.08 if answered else 0.3):
            contact_at = later + datetime.timedelta(minutes=2)
            self._backdate()  # the trail is read by time
            record = events.record_contact_request(
                locale=locale,
                name=self.rng.choice(["An Peeters", "Luc Dubois", "Sam Janssens", "Marie Lambert"]),
                email=f"customer{self.session_counter}@{DEMO_EMAIL_DOMAIN}",
                phone="",
                message=query,
                article=None,
                session_key=session_key,
                now=contact_at,
            )
            self.created.append((ContactRequest, record.pk, contact_at))
            self.report.contacts += 1

    def _backdate(self):
        for model, pk, at in self.created:
            if pk is not None:
                model.objects.filter(pk=pk).update(created_at=at)
        self.created = []

    # --- the month --------------------------------------------------------------------

    def run(self, calls_per_day, visits_per_day):
        for day_index in range(self.days):
            date = self.now - datetime.timedelta(days=self.days - 1 - day_index)
            factor = WEEKDAY_FACTOR[date.weekday()]
            self._answered_day(day_index, factor, calls_per_day, visits_per_day)
            self._unanswered_day(day_index, factor)
        self._backdate()
        return self.report

    def _answered_day(self, day_index, factor, calls_per_day, visits_per_day):
        for _ in range(_poisson(self.rng, calls_per_day * factor)):
            locale, query, ext = self.rng.choice(self.answered)
            self.call(self._moment(day_index, False), locale, query, article_ext=ext)
        for ext, growth in RISING_ARTICLES.items():
            mean = growth * _day_rate("rising", day_index, self.days) * factor
            candidates = [row for row in self.answered if row[2] == ext]
            if not candidates:
                continue
            for _ in range(_poisson(self.rng, mean)):
                locale, query, _ext = self.rng.choice(candidates)
                self.call(self._moment(day_index, False), locale, query, article_ext=ext)
        for _ in range(_poisson(self.rng, visits_per_day * factor)):
            locale, query, _ext = self.rng.choice(self.answered)
            self.visit(self._moment(day_index, True), locale, query)

    def _unanswered_day(self, day_index, factor):
        for topic in UNANSWERED.values():
            mean = topic["rate"] * _day_rate(topic["trend"], day_index, self.days) * factor
            for _ in range(_poisson(self.rng, mean)):
                locale = self.rng.choices(["en", "nl", "fr"], weights=[0.45, 0.35, 0.2])[0]
                query = self.rng.choice(topic.get(locale) or topic["en"])
                public = self.rng.random() < topic.get("public", 0.35)
                if public:
                    self.visit(self._moment(day_index, True), locale, query, answered=False)
                else:
                    self.call(
                        self._moment(day_index, False),
                        locale,
                        query,
                        team_slug=topic["team"],
                        answered=False,
                    )
        if self.rng.random() < 0.3:
            locale, query = self.rng.choice(ONE_OFFS)
            self.visit(self._moment(day_index, True), locale, query, answered=False)


def load_demo_events(days=30, seed=1, calls_per_day=40, visits_per_day=30):
    """Replace the demo events with a fresh, deterministic month. Returns a Report."""
    if days < 1 or days > 366:
        raise ValueError("--days must be between 1 and 366.")
    with transaction.atomic():
        clear_demo_events()
        return _Generator(days, seed).run(calls_per_day, visits_per_day)
