"""What happened around searches: every search, opens, operator outcomes. Queries are redacted."""

from django.conf import settings
from django.db import models
from django.db.models import Case, F, When
from django.utils.translation import gettext_lazy as _


class SearchEvent(models.Model):
    CHANNEL_OPERATOR = "operator"
    CHANNEL_PUBLIC = "public"
    CHANNEL_API = "api"
    CHANNELS = [
        (CHANNEL_OPERATOR, _("Operator console")),
        (CHANNEL_PUBLIC, _("Public search")),
        (CHANNEL_API, _("API")),
    ]

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    channel = models.CharField(max_length=10, choices=CHANNELS)
    locale = models.CharField(max_length=8)
    # The language the question is written in, as the search detected it (it chose the model
    # and the no-good-match bar with it); blank for searches logged before it was stored.
    # db_default too: during an upgrade, workers still running the previous release write
    # rows without this column (between `migrate` and their reload), and must not fail.
    question_language = models.CharField(
        max_length=16,
        blank=True,
        default="",
        db_default="",
        help_text=_("The language the question is written in, as the search detected it"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    session_key = models.CharField(max_length=64, blank=True)
    query = models.CharField(max_length=600, help_text=_("After redaction of personal data"))
    result_page_ids = models.JSONField(default=list)
    result_scores = models.JSONField(default=list)
    confidence = models.FloatField(default=0.0)
    no_good_match = models.BooleanField(default=False, db_index=True)
    latency_ms = models.FloatField(default=0.0)

    class Meta:
        db_table = "kbsearch_searchevent"  # kept when the model moved from search
        indexes = [models.Index(fields=["channel", "created_at"])]

    def __str__(self):
        return f"{self.channel}:{self.query[:40]}"


def _content_languages():
    return [code for code, _name in settings.WAGTAIL_CONTENT_LANGUAGES]


def demand_language(question_language, locale):
    """The language a search's demand counts in (the reports' "language"): the language the
    question is written in when the site has content in it, else the locale the caller chose
    (a German question on the English page, a search logged before the question's language
    was stored)."""
    return question_language if question_language in _content_languages() else locale


def demand_language_sql(question="question_language", fallback="locale"):
    """`demand_language` as an SQL expression, for filtering and grouping in the database:
    over SearchEvent by default; over CallOutcome with question="search_event__question_language"
    (a call counts in its search's question language, else in the language recorded with it)."""
    return Case(
        When(**{f"{question}__in": _content_languages()}, then=F(question)),
        default=F(fallback),
        output_field=models.CharField(),
    )


CALL_LANGUAGE = {"question": "search_event__question_language", "fallback": "locale"}


class CallOutcome(models.Model):
    """How an operator's call ended: solved with an article, escalated, or no article found."""

    SOLVED = "solved"
    ESCALATED = "escalated"
    NO_ARTICLE = "no_article"
    KNOWN_PROBLEM = "known_problem"
    OUTCOMES = [
        (SOLVED, _("Solved with this article")),
        (ESCALATED, _("Escalated")),
        (NO_ARTICLE, _("No article found")),
        (KNOWN_PROBLEM, _("Linked to a known problem")),
    ]

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    search_event = models.ForeignKey(
        SearchEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="outcomes"
    )
    query = models.CharField(max_length=600, blank=True, help_text=_("After redaction"))
    locale = models.CharField(max_length=8, blank=True)
    outcome = models.CharField(max_length=16, choices=OUTCOMES)
    article = models.ForeignKey(
        "wagtailcore.Page", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    team = models.ForeignKey(
        "articles.EscalationTeam",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.TextField(blank=True, help_text=_("After redaction"))
    ticket_reference = models.CharField(
        max_length=64,
        blank=True,
        db_index=True,
        help_text=_("The helpdesk ticket, checked against KB_TICKET_REFERENCE_PATTERN"),
    )
    known_problem = models.ForeignKey(
        "incidents.KnownProblem",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="call_outcomes",
    )

    class Meta:
        db_table = "kbsearch_calloutcome"  # kept when the model moved from search

    def __str__(self):
        return f"{self.outcome} {self.created_at:%Y-%m-%d}"


class ArticleFeedback(models.Model):
    """'Was this helpful?' from a customer on an article page."""

    REASONS = [
        ("outdated", _("It is outdated")),
        ("did_not_work", _("It did not work")),
        ("hard_to_follow", _("It is hard to follow")),
        ("not_my_problem", _("It is not my problem")),
    ]

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    article = models.ForeignKey("wagtailcore.Page", on_delete=models.CASCADE, related_name="+")
    locale = models.CharField(max_length=8)
    helpful = models.BooleanField()
    reason = models.CharField(max_length=20, choices=REASONS, blank=True)
    comment = models.TextField(
        blank=True, help_text=_("Plain text, personal data redacted; shown to staff only")
    )
    session_key = models.CharField(max_length=64, blank=True)

    class Meta:
        db_table = "kbsearch_articlefeedback"  # kept when the model moved from search
        verbose_name = _("article feedback")
        verbose_name_plural = _("article feedback")

    def __str__(self):
        return f"{'helpful' if self.helpful else 'not helpful'}: {self.article_id}"


class ContactRequest(models.Model):
    """'Still need help?': a customer asks to be contacted after self-service did not work."""

    STATUS = [("new", _("New")), ("handled", _("Handled"))]

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    locale = models.CharField(max_length=8)
    name = models.CharField(max_length=120)
    email = models.EmailField()
    phone = models.CharField(max_length=40, blank=True)
    message = models.TextField()
    article = models.ForeignKey(
        "wagtailcore.Page",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The article the customer came from"),
    )
    searches = models.ManyToManyField(
        SearchEvent,
        blank=True,
        related_name="contact_requests",
        db_table="kbsearch_contactrequest_searches",
        help_text=_("The searches that came before (failed self-service)"),
    )
    troubleshooting = models.JSONField(
        default=dict,
        blank=True,
        help_text=_(
            "The guided-troubleshooting questions the customer already answered on the "
            "article, and where they led"
        ),
    )
    status = models.CharField(max_length=10, choices=STATUS, default="new")

    class Meta:
        db_table = "kbsearch_contactrequest"  # kept when the model moved from search
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.created_at:%Y-%m-%d %H:%M})"


class SearchClick(models.Model):
    """A result opened from a search, with its position (1 = first)."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    search_event = models.ForeignKey(SearchEvent, on_delete=models.CASCADE, related_name="clicks")
    article = models.ForeignKey("wagtailcore.Page", on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        db_table = "kbsearch_searchclick"  # kept when the model moved from search


class DailySearchStats(models.Model):
    """Per day, channel and locale: counts that survive the pruning of the raw events."""

    day = models.DateField()
    channel = models.CharField(max_length=10)
    locale = models.CharField(max_length=8)
    searches = models.PositiveIntegerField(default=0)
    no_good_match = models.PositiveIntegerField(default=0)
    no_results = models.PositiveIntegerField(default=0)
    with_click = models.PositiveIntegerField(default=0)
    followed_by_contact = models.PositiveIntegerField(default=0)
    outcomes_solved = models.PositiveIntegerField(default=0)
    outcomes_escalated = models.PositiveIntegerField(default=0)
    outcomes_no_article = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "kbsearch_dailysearchstats"  # kept when the model moved from search
        constraints = [
            models.UniqueConstraint(
                fields=["day", "channel", "locale"], name="one_stats_row_per_day"
            )
        ]
        # The reports (Wagtail admin -> Reports) are read over all search data at once.
        permissions = [("view_reports", "Can view the search and knowledge reports")]


class QueryVector(models.Model):
    """Cache of embedded (redacted) query texts for the knowledge-gap clustering.

    Keyed by model id and a hash of the normalised text, so a text is encoded once per model
    however often it is searched; rows for another model are simply never read."""

    model_id = models.CharField(max_length=255)
    text_hash = models.CharField(max_length=64)
    vector = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "kbsearch_queryvector"  # kept when the model moved from search
        constraints = [
            models.UniqueConstraint(fields=["model_id", "text_hash"], name="one_vector_per_text")
        ]

    def __str__(self):
        return f"{self.model_id}:{self.text_hash[:12]}"


# --- Learned phrasings: what solved calls teach the search (insights/learning.py) --------


class LearnedPhrasing(models.Model):
    """A customer wording that calls solved with an article: a candidate phrasing of it.

    Near-duplicate wordings are merged into one row. Once confirmed by independent evidence it
    becomes searchable as a match-only chunk (kind "learned"); its text is never shown to a
    customer. Knowledge managers promote it into the issue field or reject it for good."""

    CANDIDATE = "candidate"
    ACTIVE = "active"
    PROMOTED = "promoted"
    REJECTED = "rejected"
    RETIRED = "retired"
    STATUSES = [
        (CANDIDATE, _("Candidate (not confirmed yet)")),
        (ACTIVE, _("Searchable")),
        (PROMOTED, _("Promoted into the issue")),
        (REJECTED, _("Rejected")),
        (RETIRED, _("Retired with the article")),
    ]

    article = models.ForeignKey(
        "wagtailcore.Page", on_delete=models.CASCADE, related_name="learned_phrasings"
    )
    text = models.CharField(max_length=600, help_text=_("After redaction of personal data"))
    text_hash = models.CharField(max_length=64)
    locale = models.CharField(max_length=8, blank=True)
    status = models.CharField(max_length=10, choices=STATUSES, default=CANDIDATE, db_index=True)
    vector = models.BinaryField(null=True)
    model_id = models.CharField(max_length=255, blank=True)
    calls = models.PositiveIntegerField(default=0)
    sources = models.PositiveIntegerField(
        default=0, help_text=_("Independent operators or sessions behind this wording")
    )
    competing_calls = models.PositiveIntegerField(
        default=0, help_text=_("Most calls that linked wordings like this to one other article")
    )
    languages = models.JSONField(default=list)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["article", "status"])]

    def __str__(self):
        return f"{self.article_id}: {self.text[:40]} ({self.status})"


class PhrasingEvidence(models.Model):
    """One piece of evidence that a wording describes an article: a solved call, an operator's
    click followed by 'solved', or a public search followed by 'helpful: yes'."""

    SOLVED = "solved"
    CLICK_SOLVED = "click_solved"
    HELPFUL = "helpful"
    KINDS = [
        (SOLVED, _("Call solved with the article")),
        (CLICK_SOLVED, _("Result opened, then the call solved with it")),
        (HELPFUL, _("Public search, then 'helpful: yes' on the article")),
    ]

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    article = models.ForeignKey("wagtailcore.Page", on_delete=models.CASCADE, related_name="+")
    phrasing = models.ForeignKey(
        LearnedPhrasing, null=True, blank=True, on_delete=models.CASCADE, related_name="evidence"
    )
    kind = models.CharField(max_length=12, choices=KINDS)
    text = models.CharField(max_length=600, help_text=_("After redaction of personal data"))
    text_hash = models.CharField(max_length=64)
    locale = models.CharField(max_length=8, blank=True)
    source = models.CharField(
        max_length=80, help_text=_("Who: an operator id or a hashed session, never a raw key")
    )
    vector = models.BinaryField(null=True)
    model_id = models.CharField(max_length=255, blank=True)

    def __str__(self):
        return f"{self.kind} {self.article_id}: {self.text[:40]}"
