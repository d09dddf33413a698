import os

from django.contrib.auth.models import Group
from django.core.management import call_command
from wagtail.models import Locale

from articles.models import (
    CategoryPage,
    EscalationTeam,
    KnowledgeBaseHomePage,
    Service,
    ServiceLevel,
    SolutionArticlePage,
)


def test_demo_site_has_the_promised_content(db):
    articles = SolutionArticlePage.objects.live()
    by_locale = {
        code: articles.filter(locale__language_code=code).count() for code in ("en", "nl", "fr")
    }
    assert articles.count() >= 40
    assert by_locale["en"] >= 20 and by_locale["nl"] >= 10 and by_locale["fr"] >= 10
    assert articles.filter(audience="internal").count() >= 8
    with_script = [a for a in articles.specific() if a.diagnosis_scripts]
    assert len(with_script) >= 3
    assert EscalationTeam.objects.count() >= 3
    assert ServiceLevel.objects.count() >= 3
    assert Service.objects.filter(locale__language_code="en").count() >= 6
    assert set(Locale.objects.values_list("language_code", flat=True)) >= {"en", "nl", "fr"}
    assert KnowledgeBaseHomePage.objects.live().count() == 3
    assert CategoryPage.objects.live().filter(locale__language_code="nl").count() >= 6
    assert {"Operators", "Second line", "Knowledge managers"} <= set(
        Group.objects.values_list("name", flat=True)
    )


def test_translations_share_a_translation_key(db, article):
    en, nl, fr = (article("demo-vpn-cannot-connect", code) for code in ("en", "nl", "fr"))
    assert en.translation_key == nl.translation_key == fr.translation_key


def test_load_initial_data_is_idempotent(db):
    counts = (
        SolutionArticlePage.objects.count(),
        Service.objects.count(),
        CategoryPage.objects.count(),
        Group.objects.count(),
        KnowledgeBaseHomePage.objects.count(),
    )
    call_command("load_initial_data", stdout=open(os.devnull, "w"))
    assert counts == (
        SolutionArticlePage.objects.count(),
        Service.objects.count(),
        CategoryPage.objects.count(),
        Group.objects.count(),
        KnowledgeBaseHomePage.objects.count(),
    )
