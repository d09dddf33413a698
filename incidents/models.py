"""Known problems (outages, known errors), their status history, the calls and tickets linked
to them, and what the ticketing integration needs: API keys and signed webhooks.

A known problem is one row with its texts per language (``title_en``, ``title_nl``...), not a
TranslatableMixin snippet like `articles.Service`: it is one event with one status, one time
span and one set of affected services. Translatable rows would give each language its own
status and history to keep in sync, and links, webhooks and the APIs would have to agree on
which row's id is "the" problem. One row, one id, one status; the caller's language only picks
which text is shown.
"""

import hashlib
import re
import secrets

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalManyToManyField
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import (
    FieldPanel,
    FieldRowPanel,
    MultiFieldPanel,
    ObjectList,
    TabbedInterface,
)
from wagtail.search import index

from .panels import StatusHistoryPanel

LANGUAGES = ("en", "nl", "fr")
POSTCODE_RANGE = re.compile(r"^\d{4}(-\d{4})?$")


class KnownProblemQuerySet(models.QuerySet):
    def active(self):
        return self.exclude(status=KnownProblem.STATUS_RESOLVED)

    def public(self):
        return self.filter(is_public=True)

    def visible_to(self, channel):
        """What a channel may see: customers and the public API only public problems
        (the same rule as KnownProblem.is_visible_to, for a loaded problem)."""
        return self if channel == "operator" else self.public()


class KnownProblem(index.Indexed, ClusterableModel):
    """An outage or known error many customers call about: one status, texts per language."""

    STATUS_INVESTIGATING = "investigating"
    STATUS_IDENTIFIED = "identified"
    STATUS_WORKAROUND = "workaround"
    STATUS_RESOLVED = "resolved"
    STATUSES = [
        (STATUS_INVESTIGATING, _("Investigating")),
        (STATUS_IDENTIFIED, _("Identified")),
        (STATUS_WORKAROUND, _("Workaround available")),
        (STATUS_RESOLVED, _("Resolved")),
    ]

    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    title_nl = models.CharField(_("title (Dutch)"), max_length=200, blank=True)
    title_fr = models.CharField(_("title (French)"), max_length=200, blank=True)
    customer_text_en = models.TextField(
        _("customer text (English)"),
        blank=True,
        help_text=_("What customers see: symptoms in their words and what we are doing."),
    )
    customer_text_nl = models.TextField(_("customer text (Dutch)"), blank=True)
    customer_text_fr = models.TextField(_("customer text (French)"), blank=True)
    workaround_en = models.TextField(_("workaround (English)"), blank=True)
    workaround_nl = models.TextField(_("workaround (Dutch)"), blank=True)
    workaround_fr = models.TextField(_("workaround (French)"), blank=True)

    status = models.CharField(
        max_length=16, choices=STATUSES, default=STATUS_INVESTIGATING, db_index=True
    )
    is_public = models.BooleanField(
        _("public"),
        default=False,
        help_text=_("Public problems are shown to customers (banner, status page, public search)."),
    )
    services = ParentalManyToManyField(
        "articles.Service",
        blank=True,
        related_name="known_problems",
        help_text=_("Affected services: one language version of each is enough."),
    )
    regions = models.CharField(
        max_length=200, blank=True, help_text=_("Optional, e.g. 'Antwerpen, Limburg'")
    )
    postcodes = models.CharField(
        max_length=200,
        blank=True,
        help_text=_("Optional, comma-separated postcodes or ranges, e.g. '2000-2999, 3500'"),
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    ended_at = models.DateTimeField(
        _("ended"), null=True, blank=True, help_text=_("Set when the problem is resolved.")
    )
    solution_articles = ParentalManyToManyField(
        "articles.SolutionArticlePage",
        blank=True,
        related_name="known_problems",
        help_text=_("Articles that help while the problem lasts (or explain the fix)."),
    )
    internal_notes = models.TextField(
        blank=True, help_text=_("Staff only; never shown to customers.")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = KnownProblemQuerySet.as_manager()

    search_fields = [
        index.SearchField("title_en"),
        index.SearchField("title_nl"),
        index.SearchField("title_fr"),
        index.AutocompleteField("title_en"),
        index.FilterField("status"),
    ]
    text_panels = [
        MultiFieldPanel(
            [
                FieldPanel(f"title_{code}"),
                FieldPanel(f"customer_text_{code}"),
                FieldPanel(f"workaround_{code}"),
            ],
            heading=name,
        )
        for code, name in (("en", _("English")), ("nl", _("Nederlands")), ("fr", _("Français")))
    ]
    status_panels = [
        FieldRowPanel([FieldPanel("status"), FieldPanel("is_public")]),
        FieldRowPanel([FieldPanel("started_at"), FieldPanel("ended_at")]),
        FieldPanel("services", widget=forms.CheckboxSelectMultiple),
        FieldRowPanel([FieldPanel("regions"), FieldPanel("postcodes")]),
        FieldPanel("solution_articles"),
        FieldPanel("internal_notes"),
    ]
    edit_handler = TabbedInterface(
        [
            ObjectList(status_panels, heading=_("Status")),
            ObjectList(text_panels, heading=_("Texts")),
            ObjectList([StatusHistoryPanel(heading=_("Status history"))], heading=_("History")),
        ]
    )

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("known problem")

    def __str__(self):
        return self.title_in("en")

    # -- texts in the caller's language, falling back to the others
    def _text(self, field, language):
        order = [language] + [code for code in LANGUAGES if code != language]
        for code in order:
            value = getattr(self, f"{field}_{code}", "")
            if value:
                return value
        return ""

    def title_in(self, language):
        return self._text("title", language)

    def customer_text_in(self, language):
        return self._text("customer_text", language)

    def workaround_in(self, language):
        return self._text("workaround", language)

    def is_visible_to(self, channel):
        """KnownProblemQuerySet.visible_to for one loaded problem (no query)."""
        return channel == "operator" or self.is_public

    @property
    def is_active(self):
        return self.status != self.STATUS_RESOLVED

    def postcode_ranges(self):
        ranges = []
        for part in filter(None, (p.strip() for p in self.postcodes.split(","))):
            low, _sep, high = part.partition("-")
            ranges.append((int(low), int(high or low)))
        return ranges

    def clean(self):
        super().clean()
        errors = {}
        if not any(getattr(self, f"title_{code}") for code in LANGUAGES):
            errors["title_en"] = _("Give the problem a title in at least one language.")
        for part in filter(None, (p.strip() for p in self.postcodes.split(","))):
            if not POSTCODE_RANGE.match(part):
                errors["postcodes"] = _(
                    "Postcodes are four digits or a range like 2000-2999, separated by commas."
                )
                break
        if self.ended_at and self.started_at and self.ended_at < self.started_at:
            errors["ended_at"] = _("The end cannot be before the start.")
        if self.status != self.STATUS_RESOLVED and self.ended_at:
            errors["ended_at"] = _("Only a resolved problem has an end time.")
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        # Each status step is recorded by the post_save receiver in signals.py.
        if self.status == self.STATUS_RESOLVED and self.ended_at is None:
            self.ended_at = timezone.now()
        super().save(*args, **kwargs)


class KnownProblemStatusChange(models.Model):
    """One step in a known problem's history (the first row is its declaration)."""

    known_problem = models.ForeignKey(
        KnownProblem, on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, choices=KnownProblem.STATUSES)
    changed_at = models.DateTimeField(default=timezone.now, db_index=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["changed_at", "pk"]
        verbose_name = _("status change")

    def __str__(self):
        return f"{self.from_status or '—'} → {self.to_status}"


class IncidentLink(models.Model):
    """A call or a ticket linked to a known problem (or, from the ticketing system, to an
    article), with the ticket reference when there is one."""

    SOURCE_CONSOLE = "console"
    SOURCE_INTEGRATION = "integration"
    SOURCES = [(SOURCE_CONSOLE, _("Operator console")), (SOURCE_INTEGRATION, _("Ticketing system"))]

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    known_problem = models.ForeignKey(
        KnownProblem, null=True, blank=True, on_delete=models.CASCADE, related_name="links"
    )
    article = models.ForeignKey(
        "wagtailcore.Page", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ticket_reference = models.CharField(max_length=64, blank=True, db_index=True)
    source = models.CharField(max_length=12, choices=SOURCES)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    api_key = models.ForeignKey(
        "incidents.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="links"
    )
    query = models.CharField(max_length=600, blank=True, help_text=_("After redaction"))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("linked call or ticket")
        verbose_name_plural = _("linked calls and tickets")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(known_problem__isnull=False) | models.Q(article__isnull=False),
                name="link_has_a_target",
            )
        ]

    def __str__(self):
        target = self.known_problem or self.article
        return f"{self.ticket_reference or self.get_source_display()} → {target}"


class Deflection(models.Model):
    """A customer who was about to contact the helpdesk saw a matching known problem and did
    not send (the 'still need help' form): a contact the known problem prevented."""

    SOURCE_CONTACT_FORM = "contact_form"
    SOURCE_BANNER = "banner"
    SOURCES = [
        (SOURCE_CONTACT_FORM, _("'Still need help' form")),
        # Not a prevented contact for sure: a customer who followed the banner to the status
        # page. Counted apart in the report.
        (SOURCE_BANNER, _("Banner, opened to the status page")),
    ]

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    known_problem = models.ForeignKey(
        KnownProblem, on_delete=models.CASCADE, related_name="deflections"
    )
    source = models.CharField(max_length=16, choices=SOURCES, default=SOURCE_CONTACT_FORM)
    locale = models.CharField(max_length=8, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.known_problem} ({self.created_at:%Y-%m-%d %H:%M})"


# --- Early warnings -------------------------------------------------------------------------


class EarlyWarningQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status=EarlyWarning.STATUS_OPEN)


class EarlyWarning(models.Model):
    """Unresolved searches and calls about one topic rose well above their usual rate for that
    hour (insights/early_warning.py raises it). Second line and knowledge managers declare a
    known problem from it, or dismiss it."""

    STATUS_OPEN = "open"
    STATUS_DECLARED = "declared"
    STATUS_DISMISSED = "dismissed"
    STATUSES = [
        (STATUS_OPEN, _("Open")),
        (STATUS_DECLARED, _("Known problem declared")),
        (STATUS_DISMISSED, _("Dismissed")),
    ]

    topic = models.CharField(_("topic"), max_length=200)
    locale = models.CharField(max_length=8, blank=True, help_text=_("Main language of the topic"))
    examples = models.JSONField(default=list, help_text=_("What people asked, redacted"))
    languages = models.JSONField(default=dict)
    observed = models.PositiveIntegerField(_("requests in the window"))
    expected = models.FloatField(_("expected in the window"))
    window_minutes = models.PositiveSmallIntegerField()
    p_value = models.FloatField(default=1.0)
    first_rise_at = models.DateTimeField(_("first rise"))
    raised_at = models.DateTimeField(_("raised"), default=timezone.now, db_index=True)
    last_seen_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=STATUSES, default=STATUS_OPEN, db_index=True)
    services = models.ManyToManyField("articles.Service", blank=True, related_name="+")
    known_problem = models.ForeignKey(
        KnownProblem,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="early_warnings",
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The topic's centre in the comparison model's space: a later rise of the same topic
    # updates this warning instead of raising another one.
    model_id = models.CharField(max_length=255, blank=True)
    centroid = models.BinaryField(null=True, editable=False)

    objects = EarlyWarningQuerySet.as_manager()

    class Meta:
        ordering = ["-raised_at"]
        verbose_name = _("early warning")
        verbose_name_plural = _("early warnings")

    def __str__(self):
        return self.topic

    @property
    def ratio(self):
        return self.observed / self.expected if self.expected else None

    @property
    def minutes_to_declare(self):
        """From the first rise to the declaration of a known problem (the report's figure)."""
        if self.status != self.STATUS_DECLARED or self.handled_at is None:
            return None
        return max(0, int((self.handled_at - self.first_rise_at).total_seconds() // 60))


# --- Integration with the ticketing system ---------------------------------------------


KEY_PREFIX = "kb_"


def new_raw_key():
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(raw_key):
    """Keys are long random strings: one SHA-256 is enough (no password stretching needed)."""
    return hashlib.sha256(raw_key.encode("utf-8")).hexdigest()


class ApiKeyQuerySet(models.QuerySet):
    def usable(self):
        return self.filter(revoked_at__isnull=True)


class ApiKey(models.Model):
    """A key for one integration (e.g. the ticketing system). Only its hash is stored; the key
    itself is shown once, when it is created (`manage.py create_api_key`)."""

    SCOPE_SUGGEST = "suggest"
    SCOPE_LINK = "link"
    SCOPES = [
        (SCOPE_SUGGEST, _("Suggested articles and known problems for a ticket's text")),
        (SCOPE_LINK, _("Link a ticket to an article or a known problem")),
    ]

    name = models.CharField(max_length=120, help_text=_("Which integration uses this key"))
    prefix = models.CharField(
        max_length=12, unique=True, help_text=_("First characters, to recognise it")
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("integration API key")

    def __str__(self):
        state = " (revoked)" if self.revoked_at else ""
        return f"{self.name} [{self.prefix}…]{state}"

    def save(self, *args, **kwargs):
        # Created from the admin form (name only): make the key here, with every scope. The
        # raw key lives on this instance only, for the one message that shows it.
        if not self.key_hash:
            self.raw_key = new_raw_key()
            self.prefix, self.key_hash = self.raw_key[:10], hash_key(self.raw_key)
            self.scopes = self.scopes or [code for code, _label in self.SCOPES]
        super().save(*args, **kwargs)


class WebhookEndpoint(models.Model):
    """Where known-problem status changes are POSTed, signed with this endpoint's secret."""

    name = models.CharField(max_length=120)
    url = models.URLField(max_length=500)
    secret = models.CharField(
        max_length=128, help_text=_("Shared secret for the X-KB-Signature HMAC-SHA256 header")
    )
    active = models.BooleanField(default=True)

    panels = [FieldPanel("name"), FieldPanel("url"), FieldPanel("secret"), FieldPanel("active")]

    class Meta:
        ordering = ["name"]
        verbose_name = _("webhook endpoint")

    def __str__(self):
        return self.name


class WebhookDelivery(models.Model):
    """One event for one endpoint: every attempt is counted; failures wait with back-off."""

    STATUS_PENDING = "pending"
    STATUS_DELIVERED = "delivered"
    STATUS_FAILED = "failed"
    STATUSES = [
        (STATUS_PENDING, _("Pending")),
        (STATUS_DELIVERED, _("Delivered")),
        (STATUS_FAILED, _("Failed (gave up)")),
    ]

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    known_problem = models.ForeignKey(
        KnownProblem, null=True, on_delete=models.SET_NULL, related_name="webhook_deliveries"
    )
    event = models.CharField(max_length=64)
    payload = models.JSONField()
    status = models.CharField(
        max_length=10, choices=STATUSES, default=STATUS_PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")

    def __str__(self):
        return f"{self.event} → {self.endpoint} ({self.status})"


class WebhookAttempt(models.Model):
    """The delivery log: one row per HTTP attempt, with what the receiver answered."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    attempted_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["attempted_at", "pk"]

    def __str__(self):
        return f"{self.attempted_at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error}"
