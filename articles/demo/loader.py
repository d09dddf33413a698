"""Builds the demo site on top of `setup_site`: categories, catalogue, users, articles."""

import datetime
import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from articles.importing import import_records
from articles.models import (
    CategoryPage,
    EscalationTeam,
    Service,
    ServiceLevel,
    ServiceLevelTarget,
    SolutionArticlePage,
)
from articles.roles import SECOND_LINE
from articles.site_setup import ensure_homes, ensure_locales, setup_site
from embeddings import indexing
from embeddings.tasks import deferred_indexing

from . import catalogue

DEMO_ARTICLES = Path(__file__).with_name("articles.jsonl")
LANGUAGES = ("en", "nl", "fr")
# Sent after the demo articles exist, so apps above this one add their own demo content
# (incidents: known problems) without articles importing them.
demo_data_loaded = Signal()
OVERDUE_REVIEW = {"demo-printer-offline", "demo-mailbox-full", "demo-roaming-abroad"}


def _publish(page):
    page.save_revision().publish()


def ensure_categories(homes, locales):
    for slug, titles in catalogue.CATEGORIES.items():
        intros = catalogue.CATEGORY_INTROS.get(slug, {})
        en_cat = CategoryPage.objects.child_of(homes["en"]).filter(slug=slug).first()
        if en_cat is None:
            en_cat = CategoryPage(title=titles["en"], slug=slug, intro=intros.get("en", ""))
            homes["en"].add_child(instance=en_cat)
            _publish(en_cat)
        for code in ("nl", "fr"):
            if not CategoryPage.objects.child_of(homes[code]).filter(slug=slug).exists():
                page = en_cat.copy_for_translation(locales[code])
                page.title = titles[code]
                page.intro = intros.get(code, "")
                page.save()
                _publish(page)
        # Sites loaded before categories had summaries get them once (never overwritten).
        for code, intro in intros.items():
            page = CategoryPage.objects.child_of(homes[code]).filter(slug=slug, intro="").first()
            if page is not None and intro:
                page.intro = intro
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


def load_initial_data(stdout=None, progress=None):
    """`setup_site` (locales, homes, roles, workflow, site address), then the demo content.

    progress(description, total) may return a tqdm-like bar for the two long steps.
    """
    setup_site()
    with transaction.atomic():
        locales = ensure_locales()
        homes = ensure_homes(locales)
        ensure_categories(homes, locales)
        ensure_catalogue(locales)
        ensure_users()
    existing = set(SolutionArticlePage.objects.values_list("external_id", "locale__language_code"))
    records = [(n, r) for n, r in demo_records() if (r["external_id"], r["locale"]) not in existing]
    bar = progress("Demo articles", len(records)) if progress and records else None
    with deferred_indexing():
        report = import_records(records, publish=True, progress=bar)
        if bar is not None:
            bar.close()
        if report.page_ids:
            # Embed every new chunk in large batches, visibly; the index task queued when this
            # block ends then finds all chunks present and only checks the files.
            total = SolutionArticlePage.objects.count()
            bar = progress("Indexing", total) if progress else None
            indexing.rebuild(progress=bar)
            if bar is not None:
                bar.close()
    if stdout:
        stdout.write(f"Demo articles: {report.created} created, {len(existing)} already present")
        for position, message in report.errors:
            stdout.write(f"  articles.jsonl line {position}: {message}")
    demo_data_loaded.send(sender=load_initial_data, stdout=stdout)
    return report
