"""Which article and which service an event is about (events store no service of their own).

- a call outcome: its article, or else the first result of the search it came from;
- a search: its first result, unless the search was flagged no-good-match (then none);
- an article belongs to every service it lists (translation groups, so every language).
"""

from collections import defaultdict

from django.db.models import Min
from django.utils import timezone

from articles.models import SolutionArticlePage

from ..models import CallOutcome, SearchEvent
from .filters import service_names

NO_SERVICE = "(no service)"


class ServiceIndex:
    """Article page id -> service translation keys, and key -> readable label."""

    def __init__(self):
        through = SolutionArticlePage.services.through
        self.by_page = defaultdict(set)
        for page_id, key in through.objects.values_list(
            "solutionarticlepage_id", "service__translation_key"
        ):
            self.by_page[page_id].add(str(key))
        self.labels = service_names()

    def keys(self, page_id):
        return self.by_page.get(page_id) or set()

    def label(self, key):
        return self.labels.get(key, NO_SERVICE) if key else NO_SERVICE

    def labels_for(self, page_id):
        return ", ".join(sorted(self.label(k) for k in self.keys(page_id))) or NO_SERVICE


def demand_events(filters):
    """(local date, kind, article page id or None) for each unit of problem volume:
    every recorded call, and every matched public/API search. Operator-console searches are
    left out: the call they belong to is counted once, by its outcome."""
    events = []
    for created, article_id, results in filters.call_outcomes().values_list(
        "created_at", "article_id", "search_event__result_page_ids"
    ):
        page = article_id or (results[0] if results else None)
        events.append((timezone.localtime(created).date(), "call", page))
    searches = (
        filters.search_events()
        .exclude(channel=SearchEvent.CHANNEL_OPERATOR)
        .filter(no_good_match=False)
    )
    for created, results in searches.values_list("created_at", "result_page_ids"):
        events.append(
            (timezone.localtime(created).date(), "search", results[0] if results else None)
        )
    return events


def oldest_raw_event():
    """The oldest search or call still stored (older ones were pruned into daily counts)."""
    dates = [
        SearchEvent.objects.aggregate(m=Min("created_at"))["m"],
        CallOutcome.objects.aggregate(m=Min("created_at"))["m"],
    ]
    dates = [d for d in dates if d is not None]
    return min(dates) if dates else None
