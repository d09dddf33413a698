"""Site branding for the public pages, edited in Wagtail → Settings → Site branding: logo and
colours for the whole site; name, contact details and footer links per language.

Colours reach the pages as CSS custom properties in a same-origin stylesheet (`/brand.css`,
see articles/views.py), never as inline styles: the public pages' content-security policy
allows styles from this site's files only. A colour that would make buttons or links
unreadable (contrast below WCAG AA) is refused when the setting is saved.
"""

import hashlib
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail import blocks
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseGenericSetting, register_setting
from wagtail.fields import StreamField
from wagtail.models import Orderable

DEFAULT_PRIMARY = "#0b5cad"
DEFAULT_PRIMARY_INK = "#ffffff"
PAGE_BACKGROUND = "#ffffff"
MIN_CONTRAST = 4.5  # WCAG 2.1 AA for normal text

hex_colour = RegexValidator(
    r"^#[0-9a-fA-F]{6}$", _("Use a colour written as # and six hexadecimal digits, e.g. #0b5cad.")
)


def contrast_ratio(first, second):
    """WCAG contrast ratio of two #rrggbb colours (1 to 21)."""

    def luminance(colour):
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


class FooterLinkBlock(blocks.StructBlock):
    """A link in the footer (privacy policy, terms, main website)."""

    label = blocks.CharBlock(max_length=80, label=_("Label"))
    url = blocks.URLBlock(label=_("Address"))

    class Meta:
        icon = "link"
        label = _("Footer link")


@register_setting(icon="image")
class SiteBranding(ClusterableModel, BaseGenericSetting):
    """Logo and colours of the public site; name and contact details per language below."""

    logo = models.ForeignKey(
        "wagtailimages.Image",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("logo"),
        help_text=_("Shown in the header of every public page, about 40 pixels high."),
    )
    primary_colour = models.CharField(
        _("primary colour"),
        max_length=7,
        default=DEFAULT_PRIMARY,
        validators=[hex_colour],
        help_text=_("Buttons, links and highlights. Must be readable on white."),
    )
    primary_text_colour = models.CharField(
        _("text on the primary colour"),
        max_length=7,
        default=DEFAULT_PRIMARY_INK,
        validators=[hex_colour],
        help_text=_("The colour of text on buttons, usually white."),
    )

    panels = [
        FieldPanel("logo"),
        FieldRowPanel([FieldPanel("primary_colour"), FieldPanel("primary_text_colour")]),
        InlinePanel("languages", label=_("Per language"), heading=_("Name and contact details")),
    ]

    class Meta:
        verbose_name = _("site branding")

    def clean(self):
        super().clean()
        errors = {}
        primary, ink = self.primary_colour, self.primary_text_colour
        if re.fullmatch(r"#[0-9a-fA-F]{6}", primary or ""):
            if contrast_ratio(primary, PAGE_BACKGROUND) < MIN_CONTRAST:
                errors["primary_colour"] = _(
                    "Too light: links in this colour would be hard to read on white "
                    "(contrast %(ratio).1f:1, at least 4.5:1 needed)."
                ) % {"ratio": contrast_ratio(primary, PAGE_BACKGROUND)}
            elif re.fullmatch(r"#[0-9a-fA-F]{6}", ink or ""):
                if contrast_ratio(primary, ink) < MIN_CONTRAST:
                    errors["primary_text_colour"] = _(
                        "Button text in this colour would be hard to read on the primary "
                        "colour (contrast %(ratio).1f:1, at least 4.5:1 needed)."
                    ) % {"ratio": contrast_ratio(primary, ink)}
        if errors:
            raise ValidationError(errors)

    @property
    def css_version(self):
        """Changes whenever the colours change: the stylesheet's address busts caches."""
        text = f"{self.primary_colour}{self.primary_text_colour}".lower()
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def for_language(self, language_code):
        """The per-language row for this language, or None."""
        for row in self.languages.all():
            if row.language == language_code:
                return row
        return None


class SiteBrandingLanguage(Orderable):
    """The site's name, contact details and footer links in one language."""

    branding = ParentalKey(SiteBranding, on_delete=models.CASCADE, related_name="languages")
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    site_name = models.CharField(_("site name"), max_length=80, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    opening_hours = models.CharField(
        _("opening hours"), max_length=120, blank=True, help_text=_("e.g. Mon–Fri 08:00–18:00")
    )
    footer_links = StreamField(
        [("link", FooterLinkBlock())], blank=True, verbose_name=_("footer links")
    )

    panels = [
        FieldRowPanel([FieldPanel("language"), FieldPanel("site_name")]),
        MultiFieldPanel(
            [FieldPanel("phone"), FieldPanel("email"), FieldPanel("opening_hours")],
            heading=_("Contact details"),
        ),
        FieldPanel("footer_links"),
    ]

    class Meta(Orderable.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["branding", "language"], name="one_branding_row_per_language"
            )
        ]

    @property
    def phone_link(self):
        return re.sub(r"[^\d+]", "", self.phone)
