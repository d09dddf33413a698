"""Branding from Wagtail settings: name, colours, contact details and footer links per
language reach the public pages; the colours through a same-origin stylesheet (strict CSP)."""

import pytest
from django.core.exceptions import ValidationError

from articles.branding import SiteBranding, SiteBrandingLanguage

pytestmark = [pytest.mark.model, pytest.mark.django_db]


@pytest.fixture
def branding(db):
    branding = SiteBranding.load()
    branding.primary_colour = "#7a1f5c"
    branding.primary_text_colour = "#ffffff"
    branding.full_clean()
    branding.save()
    SiteBrandingLanguage.objects.create(
        branding=branding,
        language="nl",
        site_name="Servicedesk Brussel",
        phone="+32 2 555 01 23",
        email="hulp@example.be",
        opening_hours="Ma–vr 08:00–18:00",
        footer_links=[("link", {"label": "Privacybeleid", "url": "https://example.be/privacy"})],
    )
    SiteBrandingLanguage.objects.create(
        branding=branding, language="fr", site_name="Service desk Bruxelles", phone="02 555 01 24"
    )
    return branding


def test_without_settings_the_pages_keep_the_default_name(client):
    html = client.get("/nl/").content.decode()
    assert '<span class="brand-name">Kennisbank van de helpdesk</span>' in html
    assert "Servicedesk Brussel" not in html


def test_name_contact_details_and_footer_links_come_from_the_settings_per_language(
    client, branding
):
    html = client.get("/nl/").content.decode()
    assert '<span class="brand-name">Servicedesk Brussel</span>' in html
    assert "<title>" in html and "Servicedesk Brussel</title>" in html
    assert 'href="tel:+3225550123"' in html and "hulp@example.be" in html
    assert "Ma–vr 08:00–18:00" in html
    assert '<a href="https://example.be/privacy">Privacybeleid</a>' in html
    french = client.get("/fr/search/").content.decode()
    assert "Service desk Bruxelles" in french and "Servicedesk Brussel" not in french
    assert 'href="tel:025550124"' in french and "Privacybeleid" not in french


def test_the_colours_reach_the_pages_through_a_same_origin_stylesheet(client, branding):
    response = client.get("/en/")
    html = response.content.decode()
    css_url = f"/brand.css?v={branding.css_version}"
    assert f'<link rel="stylesheet" href="{css_url}">' in html
    assert "style-src 'self';" in response["Content-Security-Policy"]  # no inline styles
    assert " style=" not in html
    css = client.get(css_url)
    assert css["Content-Type"].startswith("text/css")
    assert "--accent: #7a1f5c;" in css.content.decode()
    assert "immutable" in css["Cache-Control"]


def test_changing_the_colour_changes_the_stylesheet_address(client, branding):
    before = branding.css_version
    branding.primary_colour = "#1d5e20"
    branding.save()
    html = client.get("/en/").content.decode()
    assert f"/brand.css?v={before}" not in html
    assert f"/brand.css?v={SiteBranding.load().css_version}" in html


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("primary_colour", "#ffee00"),  # unreadable on white
        ("primary_colour", "red; } body { display: none"),  # not a colour: no CSS injection
        ("primary_text_colour", "#0b5cae"),  # button text the colour of the button
    ],
)
def test_unreadable_or_malformed_colours_are_refused(branding, field, value):
    setattr(branding, field, value)
    with pytest.raises(ValidationError) as error:
        branding.full_clean()
    assert field in error.value.message_dict


def test_the_settings_screen_offers_colours_and_per_language_details(admin):
    response = admin.get("/admin/settings/articles/sitebranding/", follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="primary_colour"' in html and "languages-FORMS" in html
