"""Builds the demo site: locales, knowledge-base trees, catalogue, roles, users, articles."""

import datetime
import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from wagtail.models import Locale, Page, Site

from articles.importing import import_records, kb_home_for
from articles.models import (
    CategoryPage,
    EscalationTeam,
    KnowledgeBaseHomePage,
    Service,
    ServiceLevel,
    ServiceLevelTarget,
    SolutionArticlePage,
)
from articles.roles import SECOND_LINE, ensure_roles_and_workflow
from embeddings.tasks import deferred_indexing

from . import catalogue

DEMO_ARTICLES = Path(__file__).with_name("articles.jsonl")
LANGUAGES = ("en", "nl", "fr")
OVERDUE_REVIEW = {"demo-printer-offline", "demo-mailbox-full", "demo-roaming-abroad"}


def ensure_locales():
    return {code: Locale.objects.get_or_create(language_code=code)[0] for code in LANGUAGES}


def _publish(page):
    page.save_revision().publish()


def ensure_homes(locales):
    en_home = kb_home_for(locales["en"])
    if en_home is None:
        root = Page.get_first_root_node()
        # Wagtail's initial migration creates a generic welcome page; the KB home replaces it.
        for page in root.get_children().filter(content_type__model="page", slug="home"):
            page.delete()
        title, intro = catalogue.HOME["en"]
        en_home = KnowledgeBaseHomePage(title=title, intro=intro, slug="kb", locale=locales["en"])
        root.add_child(instance=en_home)
        _publish(en_home)
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        Site.objects.create(
            hostname="localhost",
            port=80,
            root_page=en_home,
            is_default_site=True,
            site_name="Helpdesk knowledge base",
        )
    elif site.root_page_id != en_home.id:
        site.root_page = en_home
        site.save()
    homes = {"en": en_home}
    for code in ("nl", "fr"):
        home = kb_home_for(locales[code])
        if home is None:
            home = en_home.copy_for_translation(locales[code])
            home.title, home.intro = catalogue.HOME[code]
            home.save()
            _publish(home)
        homes[code] = home
    return homes


def ensure_categories(homes, locales):
    for slug, titles in catalogue.CATEGORIES.items():
        en_cat = CategoryPage.objects.child_of(homes["en"]).filter(slug=slug).first()
        if en_cat is None:
            en_cat = CategoryPage(title=titles["en"], slug=slug)
            homes["en"].add_child(instance=en_cat)
            _publish(en_cat)
        for code in ("nl", "fr"):
            if not CategoryPage.objects.child_of(homes[code]).filter(slug=slug).exists():
                page = en_cat.copy_for_translation(locales[code])
                page.title = titles[code]
                page.save()
                _publish(page)


def ensure_catalogue(locales):
    teams = {}
    for data in catalogue.TEAMS:
        teams[data["slug"]], _ = EscalationTeam.objects.update_or_create(
            slug=data["slug"], defaults={k: v for k, v in data.items() if k != "slug"}
        )
    services = {}
    for slug, (team, category, names) in catalogue.SERVICES.items():
        base = None
        for code in LANGUAGES:
            name, description = names[code]
            defaults = {
                "name": name,
                "description": description,
                "category": category,
                "owning_team": teams[team],
            }
            service = Service.objects.filter(slug=slug, locale=locales[code]).first()
            if service is None:
                service = Service(slug=slug, locale=locales[code], **defaults)
                if base is not None:
                    service.translation_key = base.translation_key
                service.save()
            base = base or service
            services[(slug, code)] = service
    for code, (name, rank, hours, covered, exclusions, targets) in catalogue.SERVICE_LEVELS.items():
        level, _ = ServiceLevel.objects.update_or_create(
            code=code,
            defaults={"name": name, "rank": rank, "support_hours": hours, "exclusions": exclusions},
        )
        level.covered_services.set([services[(slug, "en")] for slug in covered])
        level.save()
        for priority, (response, resolution) in targets.items():
            ServiceLevelTarget.objects.update_or_create(
                service_level=level,
                priority=priority,
                defaults={"response_minutes": response, "resolution_minutes": resolution},
            )


def ensure_users():
    User = get_user_model()
    for username, (password, group, first_name) in catalogue.USERS.items():
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first_name, "email": f"{username}@example.be"},
        )
        if created:
            user.set_password(password)
            user.is_superuser = user.is_staff = group is None
            user.save()
        if group:
            user.groups.add(Group.objects.get(name=group))


def demo_records():
    today = timezone.localdate()
    with open(DEMO_ARTICLES, encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            record = json.loads(line)
            record.setdefault("owner_group", SECOND_LINE)
            overdue = record["external_id"] in OVERDUE_REVIEW
            record.setdefault(
                "next_review_date",
                str(
                    today - datetime.timedelta(days=10)
                    if overdue
                    else today + datetime.timedelta(days=180)
                ),
            )
            yield number, record


def load_initial_data(stdout=None):
    with transaction.atomic():
        locales = ensure_locales()
        homes = ensure_homes(locales)
        ensure_categories(homes, locales)
        ensure_catalogue(locales)
        ensure_roles_and_workflow(list(homes.values()))
        ensure_users()
    existing = set(SolutionArticlePage.objects.values_list("external_id", "locale__language_code"))
    records = [(n, r) for n, r in demo_records() if (r["external_id"], r["locale"]) not in existing]
    with deferred_indexing():
        report = import_records(records, publish=True)
    if stdout:
        stdout.write(f"Demo articles: {report.created} created, {len(existing)} already present")
        for position, message in report.errors:
            stdout.write(f"  articles.jsonl line {position}: {message}")
    return report
