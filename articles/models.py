"""Knowledge-base pages (one tree per locale) and the service catalogue snippets."""

from django import forms
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404
from django.utils.cache import patch_cache_control
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from modelcluster.models import ClusterableModel
from taggit.models import TaggedItemBase
from wagtail.admin.panels import (
    FieldPanel,
    FieldRowPanel,
    HelpPanel,
    InlinePanel,
    MultiFieldPanel,
    ObjectList,
    PageChooserPanel,
    TabbedInterface,
)
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Orderable, Page, PageManager, PageQuerySet, TranslatableMixin
from wagtail.search import index

from .blocks import RICH_TEXT_FEATURES, ResolutionStreamBlock, diagnosis_problems
from .branding import SiteBranding, SiteBrandingLanguage  # noqa: F401 (models of this app)
from .guide import OUTCOME_STEP, guide_for
from .panels import LearnedPhrasingsPanel, SimilarArticlesPanel, SolutionArticleForm
from .visibility import sync_audience_restriction, user_is_staff_reader

# --- Service catalogue ----------------------------------------------------------


class EscalationTeam(index.Indexed, models.Model):
    """A second-line team an operator hands a call to."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=80, unique=True)
    queue = models.CharField(max_length=120, blank=True, help_text=_("Ticket queue name"))
    contact = models.CharField(max_length=200, blank=True, help_text=_("E-mail or phone"))
    hours = models.CharField(max_length=120, blank=True, help_text=_("e.g. Mon–Fri 08:00–18:00"))

    search_fields = [index.SearchField("name"), index.AutocompleteField("name")]
    panels = [
        FieldPanel("name"),
        FieldPanel("slug"),
        FieldPanel("queue"),
        FieldPanel("contact"),
        FieldPanel("hours"),
    ]

    class Meta:
        ordering = ["name"]
        verbose_name = _("escalation team")

    def __str__(self):
        return self.name


class Service(TranslatableMixin, index.Indexed, models.Model):
    """A service the helpdesk supports (VPN, e-mail, invoicing...), translatable."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=80)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=80, blank=True)
    owning_team = models.ForeignKey(
        EscalationTeam,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="services",
        help_text=_("Second-line team that owns this service; default escalation target."),
    )

    search_fields = [
        index.SearchField("name"),
        index.AutocompleteField("name"),
        index.FilterField("locale"),
    ]
    panels = [
        FieldPanel("name"),
        FieldPanel("slug"),
        FieldPanel("category"),
        FieldPanel("description"),
        FieldPanel("owning_team"),
    ]

    class Meta(TranslatableMixin.Meta):
        ordering = ["name"]
        verbose_name = _("service")
        constraints = [
            models.UniqueConstraint(
                fields=["slug", "locale"], name="unique_service_slug_per_locale"
            )
        ]

    def __str__(self):
        return self.name


class ServiceLevel(ClusterableModel):
    """A contract level (Basic, Standard, Premium): covered services, hours, SLA targets."""

    name = models.CharField(max_length=80)
    code = models.SlugField(max_length=40, unique=True)
    rank = models.PositiveSmallIntegerField(default=0, help_text=_("Order in lists (low first)"))
    support_hours = models.CharField(max_length=160)
    covered_services = ParentalManyToManyField(
        Service,
        blank=True,
        related_name="service_levels",
        help_text=_("Covered in every language: pick one language version of each service."),
    )
    exclusions = models.TextField(blank=True, help_text=_("What this contract does not cover."))

    panels = [
        FieldRowPanel([FieldPanel("name"), FieldPanel("code"), FieldPanel("rank")]),
        FieldPanel("support_hours"),
        FieldPanel("covered_services", widget=forms.CheckboxSelectMultiple),
        FieldPanel("exclusions"),
        InlinePanel("targets", label=_("Targets per priority"), min_num=1, max_num=4),
    ]

    class Meta:
        ordering = ["rank", "name"]
        verbose_name = _("service level")

    def __str__(self):
        return self.name

    @cached_property
    def covered_translation_keys(self):
        return {s.translation_key for s in self.covered_services.all()}

    def covers(self, service):
        return service.translation_key in self.covered_translation_keys


class ServiceLevelTarget(Orderable):
    """Response and resolution targets of a service level for one priority."""

    PRIORITIES = [
        ("P1", _("P1 – critical")),
        ("P2", _("P2 – high")),
        ("P3", _("P3 – normal")),
        ("P4", _("P4 – low")),
    ]
    service_level = ParentalKey(ServiceLevel, on_delete=models.CASCADE, related_name="targets")
    priority = models.CharField(max_length=2, choices=PRIORITIES)
    response_minutes = models.PositiveIntegerField()
    resolution_minutes = models.PositiveIntegerField()

    panels = [
        FieldRowPanel(
            [
                FieldPanel("priority"),
                FieldPanel("response_minutes"),
                FieldPanel("resolution_minutes"),
            ]
        )
    ]

    class Meta(Orderable.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["service_level", "priority"], name="one_target_per_priority"
            )
        ]

    def clean(self):
        if self.resolution_minutes is not None and self.response_minutes is not None:
            if self.resolution_minutes < self.response_minutes:
                raise ValidationError(
                    {
                        "resolution_minutes": _(
                            "The resolution target cannot be shorter than the response target."
                        )
                    }
                )


# --- Pages ------------------------------------------------------------------------


class KnowledgeBaseHomePage(Page):
    """The root of one language's knowledge base: search box, categories, most-used articles."""

    intro = models.CharField(max_length=250, blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    subpage_types = ["articles.CategoryPage", "articles.SolutionArticlePage"]
    parent_page_types = ["wagtailcore.Page"]

    def get_context(self, request, *args, **kwargs):
        # "Most used articles" come from insights through {% most_used_articles %}: the
        # content layer does not read the event log.
        context = super().get_context(request, *args, **kwargs)
        context["categories"] = [
            (category, category.public_articles().count())
            for category in CategoryPage.objects.child_of(self).live().public().specific()
        ]
        return context


class CategoryPage(Page):
    """A group of solution articles (e.g. Network, VPN and Wi-Fi)."""

    intro = models.CharField(max_length=250, blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    subpage_types = ["articles.CategoryPage", "articles.SolutionArticlePage"]
    parent_page_types = ["articles.KnowledgeBaseHomePage", "articles.CategoryPage"]

    def public_articles(self):
        """The articles customers see anywhere below this category."""
        return SolutionArticlePage.objects.descendant_of(self).visible_to_public().searchable()

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["articles"] = (
            SolutionArticlePage.objects.child_of(self)
            .live()
            .public()
            .searchable()
            .order_by("title")
        )
        context["subcategories"] = [
            (sub, sub.public_articles().count())
            for sub in CategoryPage.objects.child_of(self).live().public().specific()
        ]
        context["article_count"] = self.public_articles().count()
        return context


class ArticleTag(TaggedItemBase):
    content_object = ParentalKey(
        "articles.SolutionArticlePage", on_delete=models.CASCADE, related_name="tagged_items"
    )


class SolutionArticleQuerySet(PageQuerySet):
    def searchable(self):
        """Live articles that search may return (archived ones keep history but leave search)."""
        return self.live().exclude(kcs_state=SolutionArticlePage.KCS_ARCHIVED)

    def for_audience(self, audience):
        return self.filter(audience=audience)

    def visible_to_public(self):
        """The one public-visibility rule: a public article with no view restriction on it or
        an ancestor (Wagtail's `.public()`). Search, the self-service pages and the vector
        index's public/internal split all use it."""
        return self.public().for_audience(SolutionArticlePage.AUDIENCE_PUBLIC)


class SolutionArticlePage(Page):
    """A KCS solution article: the issue in customers' words, environment, cause, resolution."""

    AUDIENCE_PUBLIC = "public"
    AUDIENCE_INTERNAL = "internal"
    AUDIENCE_CHOICES = [
        (AUDIENCE_PUBLIC, _("Public (self-service)")),
        (AUDIENCE_INTERNAL, _("Internal (operators and staff only)")),
    ]
    KCS_WIP = "wip"
    KCS_NOT_VALIDATED = "not_validated"
    KCS_VALIDATED = "validated"
    KCS_ARCHIVED = "archived"
    KCS_CHOICES = [
        (KCS_WIP, _("Work in progress")),
        (KCS_NOT_VALIDATED, _("Not validated")),
        (KCS_VALIDATED, _("Validated")),
        (KCS_ARCHIVED, _("Archived")),
    ]
    CHANNEL_CHOICES = [
        ("any", _("Any")),
        ("web", _("Website")),
        ("app", _("Mobile app")),
        ("phone", _("Phone")),
        ("email", _("E-mail")),
        ("shop", _("Shop")),
    ]

    external_id = models.CharField(
        max_length=255,
        blank=True,
        db_index=True,
        help_text=_(
            "Id in the source system; translations share it. Used by import and evaluation."
        ),
    )
    issue = models.TextField(
        help_text=_("The problem in the customer's own words. One phrasing per line."),
    )
    environment_product = models.CharField(
        _("product"),
        max_length=160,
        blank=True,
        help_text=_("Where it happens: the product or system, e.g. 'Fibre modem H368'."),
    )
    environment_version = models.CharField(_("version"), max_length=80, blank=True)
    environment_channel = models.CharField(
        _("channel"), max_length=10, choices=CHANNEL_CHOICES, default="any"
    )
    cause = RichTextField(
        features=RICH_TEXT_FEATURES,
        blank=True,
        help_text=_("Why it happens, if known. Leave empty rather than guess."),
    )
    resolution = StreamField(
        ResolutionStreamBlock(), help_text=_("Ordered steps; a diagnosis script for phone use.")
    )

    audience = models.CharField(max_length=10, choices=AUDIENCE_CHOICES, default=AUDIENCE_INTERNAL)
    kcs_state = models.CharField(
        _("KCS confidence"), max_length=16, choices=KCS_CHOICES, default=KCS_WIP
    )
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_articles",
    )
    owner_group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_articles"
    )
    next_review_date = models.DateField(null=True, blank=True)

    services = ParentalManyToManyField(Service, blank=True, related_name="articles")
    escalation_team = models.ForeignKey(
        EscalationTeam,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Leave empty to use the owning team of the article's first service."),
    )
    tags = ClusterTaggableManager(through=ArticleTag, blank=True)

    objects = PageManager.from_queryset(SolutionArticleQuerySet)()

    search_fields = Page.search_fields + [
        index.SearchField("issue", boost=3),
        index.SearchField("cause"),
        index.SearchField("resolution"),
        index.SearchField("environment_product"),
        index.AutocompleteField("issue"),
        index.FilterField("audience"),
        index.FilterField("kcs_state"),
        index.FilterField("external_id"),
    ]

    content_panels = Page.content_panels + [
        HelpPanel(
            content=_(
                "<p><strong>Write for the person on the phone.</strong> Issue: the customer's words, "
                "one phrasing per line. Environment: where it happens. Cause: why, if known. "
                "Resolution: one action per step with what the customer should then see.</p>"
            )
        ),
        FieldPanel("issue"),
        SimilarArticlesPanel(),
        LearnedPhrasingsPanel(),
        MultiFieldPanel(
            [
                FieldRowPanel(
                    [
                        FieldPanel("environment_product"),
                        FieldPanel("environment_version"),
                        FieldPanel("environment_channel"),
                    ]
                )
            ],
            heading=_("Environment"),
        ),
        FieldPanel("cause"),
        FieldPanel("resolution"),
    ]
    knowledge_panels = [
        FieldPanel("audience"),
        MultiFieldPanel(
            [
                FieldPanel("kcs_state"),
                FieldPanel("owner_user"),
                FieldPanel("owner_group"),
                FieldPanel("next_review_date"),
            ],
            heading=_("KCS lifecycle"),
        ),
        FieldPanel("services", widget=forms.CheckboxSelectMultiple),
        FieldPanel("escalation_team"),
        FieldPanel("tags"),
        InlinePanel("related_links", label=_("Related articles")),
        FieldPanel("external_id"),
    ]
    edit_handler = TabbedInterface(
        [
            ObjectList(content_panels, heading=_("Content")),
            ObjectList(knowledge_panels, heading=_("Knowledge")),
            ObjectList(Page.promote_panels, heading=_("Promote")),
        ]
    )
    parent_page_types = ["articles.KnowledgeBaseHomePage", "articles.CategoryPage"]
    subpage_types = []
    base_form_class = SolutionArticleForm

    class Meta:
        verbose_name = _("solution article")

    # -- derived content
    @property
    def issue_phrasings(self):
        return [line.strip() for line in self.issue.splitlines() if line.strip()]

    @property
    def steps(self):
        return [block for block in self.resolution if block.block_type == "step"]

    @property
    def diagnosis_scripts(self):
        return [block for block in self.resolution if block.block_type == "diagnosis"]

    @property
    def is_archived(self):
        return self.kcs_state == self.KCS_ARCHIVED

    @property
    def status_string(self):
        # The admin's status tag says "archived", not "live": an archived page is still a
        # published revision (its history stays) but it is public nowhere.
        if self.live and self.is_archived:
            return _("archived + draft") if self.has_unpublished_changes else _("archived")
        return super().status_string

    def is_visible_to_public(self):
        """This article under the public-visibility rule (one query)."""
        return type(self).objects.filter(pk=self.pk).visible_to_public().exists()

    def get_escalation_team(self):
        if self.escalation_team_id:
            return self.escalation_team
        for service in self.services.all():
            if service.owning_team_id:
                return service.owning_team
        return None

    def clean(self):
        super().clean()
        errors = {}
        if not self.issue_phrasings:
            errors["issue"] = _("Describe the issue in at least one phrasing.")
        step_count = len(self.steps)
        for block in self.diagnosis_scripts:
            problems = diagnosis_problems(block.value, step_count=step_count)
            if problems:
                errors["resolution"] = "; ".join(str(p) for p in problems)
        if self.external_id:
            clash = (
                SolutionArticlePage.objects.filter(
                    external_id=self.external_id, locale_id=self.locale_id
                )
                .exclude(pk=self.pk)
                .exists()
            )
            if clash:
                errors["external_id"] = _(
                    "Another article in this language already has this external id."
                )
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        result = super().save(*args, **kwargs)
        update_fields = kwargs.get("update_fields")
        # Draft saves only touch revision bookkeeping; the audience of the live
        # version is what the restriction must follow.
        if update_fields is None or "audience" in update_fields:
            sync_audience_restriction(self)
        return result

    # -- archive means public nowhere: URL, sitemap (search, category, switcher, related
    # links and the APIs go through SolutionArticleQuerySet.searchable()).
    def route(self, request, path_components):
        result = super().route(request, path_components)
        if not path_components and self.is_archived:
            if not user_is_staff_reader(getattr(request, "user", None)):
                # 404, not a login redirect: for the public the article no longer exists.
                raise Http404("No such article")
        return result

    def serve(self, request, *args, **kwargs):
        response = super().serve(request, *args, **kwargs)
        if self.is_archived:
            # Only staff get here; a shared cache must never hand their copy to the public.
            patch_cache_control(response, private=True, no_store=True)
            response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    def get_sitemap_urls(self, request=None):
        return [] if self.is_archived else super().get_sitemap_urls(request)

    def get_context(self, request, *args, **kwargs):
        # Related articles and language versions come from selectors through kb_tags
        # ({% related_articles %}, {% page_translations %}): models do not import selectors.
        context = super().get_context(request, *args, **kwargs)
        context["service_levels"] = ServiceLevel.objects.all()
        if self.audience == self.AUDIENCE_PUBLIC:
            guide, invalid = guide_for(self, request.GET.get("guide"), request.GET.get("answers"))
            context["guide"], context["guide_restarted"] = guide, invalid
            if guide and guide.outcome == OUTCOME_STEP and 0 < guide.step <= len(self.steps):
                context["guide_step"] = self.steps[guide.step - 1]
        if user_is_staff_reader(request.user):
            context["flag_reasons"] = ArticleFlag.REASONS
        return context


class ArticleRelatedLink(Orderable):
    page = ParentalKey(SolutionArticlePage, on_delete=models.CASCADE, related_name="related_links")
    related_page = models.ForeignKey("wagtailcore.Page", on_delete=models.CASCADE, related_name="+")

    panels = [PageChooserPanel("related_page", page_type="articles.SolutionArticlePage")]


# --- Authoring loop: flags ----------------------------------------------------------


class ArticleFlagQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status=ArticleFlag.STATUS_OPEN)

    def for_owner(self, user):
        """Flags on articles this user owns: as owner_user, or via owner_group when the
        article has no owner_user."""
        if not user or not user.is_authenticated:
            return self.none()
        return self.filter(
            models.Q(article__owner_user=user)
            | models.Q(article__owner_user__isnull=True, article__owner_group__in=user.groups.all())
        )


class ArticleFlag(models.Model):
    """Someone says an article needs work: a task for the article's owner until the article
    is republished or the flag is rejected."""

    REASON_OUTDATED = "outdated"
    REASON_INCORRECT = "incorrect"
    REASON_MISSING_STEP = "missing_step"
    REASON_UNCLEAR = "unclear"
    REASONS = [
        (REASON_OUTDATED, _("Outdated")),
        (REASON_INCORRECT, _("Incorrect")),
        (REASON_MISSING_STEP, _("Missing step")),
        (REASON_UNCLEAR, _("Unclear")),
    ]
    SOURCE_CONSOLE = "console"
    SOURCE_ARTICLE_PAGE = "article_page"
    SOURCE_CUSTOMER_FEEDBACK = "customer_feedback"
    SOURCES = [
        (SOURCE_CONSOLE, _("Operator console")),
        (SOURCE_ARTICLE_PAGE, _("Article page")),
        (SOURCE_CUSTOMER_FEEDBACK, _("Customer feedback")),
    ]
    STATUS_OPEN = "open"
    STATUS_CLOSED = "closed"
    STATUS_REJECTED = "rejected"
    STATUSES = [
        (STATUS_OPEN, _("Open")),
        (STATUS_CLOSED, _("Closed")),
        (STATUS_REJECTED, _("Rejected")),
    ]

    article = models.ForeignKey(SolutionArticlePage, on_delete=models.CASCADE, related_name="flags")
    reason = models.CharField(max_length=16, choices=REASONS)
    comment = models.TextField(blank=True, help_text=_("Plain text, personal data redacted"))
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=20, choices=SOURCES)
    feedback = models.OneToOneField(
        "insights.ArticleFeedback",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="flag",
        help_text=_("The customer feedback this flag came from"),
    )
    status = models.CharField(max_length=10, choices=STATUSES, default=STATUS_OPEN, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(blank=True)

    objects = ArticleFlagQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("article flag")

    def __str__(self):
        return f"{self.get_reason_display()}: {self.article.title}"

    @property
    def owner_display(self):
        article = self.article
        if article.owner_user_id:
            return article.owner_user.get_full_name() or article.owner_user.get_username()
        return article.owner_group.name if article.owner_group_id else ""
