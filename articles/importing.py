"""Import solution articles from kb-jsonl or a Zendesk Help Center export (see DESIGN.md).

Each record is written in its own transaction: a bad record is reported and skipped,
everything before and after it stays. Re-importing an (external_id, locale) updates.
"""

import datetime
import json
import logging
from dataclasses import dataclass, field

from bs4 import BeautifulSoup
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.text import slugify
from wagtail.models import Locale, Page

from textutils.sanitize import html_to_text, sanitize_html, sanitize_text

from .blocks import StepBlock, diagnosis_problems
from .models import (
    ArticleRelatedLink,
    CategoryPage,
    EscalationTeam,
    KnowledgeBaseHomePage,
    Service,
    SolutionArticlePage,
)

logger = logging.getLogger("kb.import")

KCS_STATE_ALIASES = {
    "wip": SolutionArticlePage.KCS_WIP,
    "work_in_progress": SolutionArticlePage.KCS_WIP,
    "draft": SolutionArticlePage.KCS_WIP,
    "not_validated": SolutionArticlePage.KCS_NOT_VALIDATED,
    "validated": SolutionArticlePage.KCS_VALIDATED,
    "published": SolutionArticlePage.KCS_VALIDATED,
    "archived": SolutionArticlePage.KCS_ARCHIVED,
}
CHANNELS = {c for c, _ in SolutionArticlePage.CHANNEL_CHOICES}
# Imported HTML is cleaned to what the editor of the field it lands in can hold.
CAUSE_FEATURES = SolutionArticlePage._meta.get_field("cause").features
STEP_FEATURES = StepBlock.base_blocks["instruction"].features


class ImportRecordError(ValueError):
    """A record that cannot be imported; the message says why, for the person importing."""


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list = field(default_factory=list)  # (position, message)
    page_ids: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.errors


# --- reading the formats ---------------------------------------------------------


def read_kb_jsonl(path):
    """Yield (line number, record or ImportRecordError) for each non-blank line."""
    with open(path, encoding="utf-8-sig") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, ImportRecordError(f"not valid JSON ({exc.msg} at column {exc.colno})")
                continue
            if not isinstance(record, dict):
                yield number, ImportRecordError("expected a JSON object")
                continue
            yield number, record


def _zendesk_locale(value):
    return (value or "en").split("-")[0].lower()


def read_zendesk(path):
    """Yield (article position, record or ImportRecordError) from a Help Center export
    {"articles": [...]}: a bad article is reported with its position, the others go on."""
    try:
        with open(path, encoding="utf-8-sig") as fh:
            data = json.load(fh)
    except json.JSONDecodeError as exc:
        yield 0, ImportRecordError(f"the file is not valid JSON (line {exc.lineno}: {exc.msg})")
        return
    articles = data.get("articles") if isinstance(data, dict) else None
    if not isinstance(articles, list):
        yield (
            0,
            ImportRecordError(
                'expected an object with an "articles" list (Zendesk Help Center export)'
            ),
        )
        return
    for number, article in enumerate(articles, start=1):
        try:
            yield number, _zendesk_record(article)
        except ImportRecordError as exc:
            yield number, exc


def _zendesk_record(article):
    """One Help Center article as a kb record; ImportRecordError names the first bad field."""
    if not isinstance(article, dict):
        raise ImportRecordError(f"expected a JSON object, not {_type_name(article)}")
    article_id = article.get("id")
    if isinstance(article_id, bool) or not isinstance(article_id, int | str) or article_id == "":
        raise ImportRecordError(
            f'"id" must be a number or a text, not {_type_name(article_id)}'
            if "id" in article
            else "article without an id"
        )
    for key in ("title", "body", "locale"):
        _expect(article, key, str)
    _expect_list_of_text(article, "label_names")
    body = article.get("body") or ""
    return {
        "external_id": f"zendesk:{article_id}",
        "title": article.get("title") or "",
        "locale": _zendesk_locale(article.get("locale")),
        # Zendesk: no user segment = visible to everyone; any segment = restricted.
        "audience": "internal" if article.get("user_segment_id") else "public",
        "issue": article.get("title") or "",
        "resolution_html": body,
        "tags": article.get("label_names") or [],
        "state": "draft" if article.get("draft") else "validated",
        "_publish_allowed": not article.get("draft"),
    }


JSON_TYPE_NAMES = {
    str: "a text",
    int: "a number",
    float: "a number",
    bool: "true/false",
    list: "a list",
    dict: "an object",
    type(None): "null",
}


def _type_name(value):
    return JSON_TYPE_NAMES.get(type(value), type(value).__name__)


def _expect(record, key, types):
    """Raise ImportRecordError unless record[key] is absent, null or of the given JSON type(s)."""
    value = record.get(key)
    types = types if isinstance(types, tuple) else (types,)
    if value is None or (isinstance(value, types) and not isinstance(value, bool)):
        return value
    wanted = " or ".join(dict.fromkeys(JSON_TYPE_NAMES[t] for t in types))
    raise ImportRecordError(f'"{key}" must be {wanted}, not {_type_name(value)} ({value!r:.40})')


def _expect_list_of_text(record, key):
    value = _expect(record, key, list)
    for i, item in enumerate(value or []):
        if not isinstance(item, str):
            raise ImportRecordError(
                f'"{key}" must be a list of texts; item {i + 1} is {_type_name(item)} ({item!r:.40})'
            )
    return value


READERS = {"kb-jsonl": read_kb_jsonl, "zendesk": read_zendesk}


# --- turning a record into page fields -------------------------------------------


def _steps_from_html(html):
    """An ordered list becomes one step per item; anything else becomes a single step."""
    clean = sanitize_html(html, STEP_FEATURES)
    soup = BeautifulSoup(clean, "html.parser")
    top = [el for el in soup.contents if getattr(el, "name", None) or str(el).strip()]
    if len(top) == 1 and top[0].name == "ol":
        items = top[0].find_all("li", recursive=False)
        if items:
            return [
                {
                    "instruction": sanitize_html(f"<p>{item.decode_contents()}</p>", STEP_FEATURES),
                    "expected_result": "",
                }
                for item in items
            ]
    if not html_to_text(clean):
        return []
    return [{"instruction": clean, "expected_result": ""}]


def _action_value(raw, step_count, teams):
    if not isinstance(raw, dict) or raw.get("action") not in {
        "step",
        "question",
        "escalate",
        "solved",
    }:
        raise ImportRecordError(
            f"diagnosis answer {raw!r} needs an action: step, question, escalate or solved"
        )
    action = raw["action"]
    value = {"action": action, "step": None, "question": "", "team": None}
    if action == "step":
        step = raw.get("step")
        if not isinstance(step, int) or not 1 <= step <= step_count:
            raise ImportRecordError(
                f"diagnosis leads to step {step!r}, the article has {step_count} steps"
            )
        value["step"] = step
    elif action == "question":
        value["question"] = str(raw.get("question") or "")
    elif action == "escalate":
        team = teams.get(raw.get("team"))
        if team is None:
            raise ImportRecordError(f"unknown escalation team {raw.get('team')!r}")
        value["team"] = team
    return value


def _diagnosis_block(raw, step_count, teams):
    if (
        not isinstance(raw, dict)
        or not isinstance(raw.get("questions"), list)
        or not raw["questions"]
    ):
        raise ImportRecordError("diagnosis needs a title and a non-empty questions list")
    questions = []
    for q in raw["questions"]:
        questions.append(
            {
                "key": sanitize_text(str(q.get("key", "")), 20),
                "question": sanitize_text(str(q.get("question", "")), 300),
                "customer_question": sanitize_text(str(q.get("customer_question") or ""), 300),
                "yes": _action_value(q.get("yes"), step_count, teams),
                "no": _action_value(q.get("no"), step_count, teams),
            }
        )
    script = {"title": sanitize_text(str(raw.get("title") or ""), 200), "questions": questions}
    problems = diagnosis_problems(script, step_count=step_count)
    if problems:
        raise ImportRecordError("diagnosis script: " + "; ".join(str(p) for p in problems))
    return script


TEXT_FIELDS = (
    "title",
    "locale",
    "audience",
    "issue",
    "cause",
    "resolution_html",
    "state",
    "category",
    "escalation_team",
    "owner_group",
    "next_review_date",
)
LIST_OF_TEXT_FIELDS = ("services", "tags", "related")


def check_types(record):
    """Wrong JSON types are rejected with the field named, never coerced into page text."""
    _expect(record, "external_id", (str, int))
    for key in TEXT_FIELDS:
        _expect(record, key, str)
    for key in LIST_OF_TEXT_FIELDS:
        _expect_list_of_text(record, key)
    environment = _expect(record, "environment", (str, dict))
    if isinstance(environment, dict):
        for key in ("product", "version", "channel"):
            _expect(environment, key, str)
    for i, step in enumerate(_expect(record, "steps", list) or []):
        if not isinstance(step, dict):
            raise ImportRecordError(
                f'"steps" must be a list of objects with an "instruction"; '
                f"step {i + 1} is {_type_name(step)} ({step!r:.40})"
            )
        if not isinstance(step.get("instruction"), str) or not step["instruction"].strip():
            raise ImportRecordError(f'step {i + 1} needs an "instruction" text')
        _expect(step, "expected_result", str)
    diagnosis = _expect(record, "diagnosis", dict)
    if diagnosis:
        for i, question in enumerate(_expect(diagnosis, "questions", list) or []):
            if not isinstance(question, dict):
                raise ImportRecordError(
                    f"diagnosis question {i + 1} must be an object, not {_type_name(question)}"
                )


def build_fields(record, teams):
    """Validate a record and return the page field values; raise ImportRecordError if it cannot be used."""
    check_types(record)
    title = sanitize_text(str(record.get("title") or ""), 255)
    if not title:
        raise ImportRecordError("missing title")
    external_id = sanitize_text(str(record.get("external_id") or ""), 255)
    if not external_id:
        raise ImportRecordError("missing external_id")
    audience = record.get("audience", "internal")
    if audience not in ("public", "internal"):
        raise ImportRecordError(f"audience must be 'public' or 'internal', not {audience!r}")
    state = str(record.get("state") or "validated").lower()
    if state not in KCS_STATE_ALIASES:
        raise ImportRecordError(
            f"unknown state {state!r} (use {', '.join(sorted(KCS_STATE_ALIASES))})"
        )

    issue = sanitize_text(str(record.get("issue") or ""), 4000) or title
    environment = record.get("environment") or {}
    if isinstance(environment, str):
        environment = {"product": environment}
    channel = environment.get("channel") or "any"
    if channel not in CHANNELS:
        raise ImportRecordError(f"unknown channel {channel!r}")

    if record.get("steps") is not None:
        if not isinstance(record["steps"], list):
            raise ImportRecordError("steps must be a list")
        steps = [
            {
                "instruction": sanitize_html(s["instruction"], STEP_FEATURES),
                "expected_result": sanitize_text(s.get("expected_result") or "", 400),
            }
            for s in record["steps"]
        ]
    else:
        steps = _steps_from_html(str(record.get("resolution_html") or ""))
    if not steps:
        steps = [{"instruction": f"<p>{title}</p>", "expected_result": ""}]
    stream = [
        (
            "step",
            {
                "instruction": s["instruction"],
                "expected_result": s["expected_result"],
                "image": None,
                "document": None,
            },
        )
        for s in steps
    ]
    if record.get("diagnosis"):
        stream.append(("diagnosis", _diagnosis_block(record["diagnosis"], len(steps), teams)))

    team_slug = record.get("escalation_team")
    if team_slug and team_slug not in teams:
        raise ImportRecordError(f"unknown escalation team {team_slug!r}")
    tags = record.get("tags") or []
    if not isinstance(tags, list):
        raise ImportRecordError("tags must be a list")
    owner_group = None
    if record.get("owner_group"):
        owner_group = Group.objects.filter(name=str(record["owner_group"])).first()
        if owner_group is None:
            raise ImportRecordError(f"unknown owner group {record['owner_group']!r}")
    review = record.get("next_review_date")
    if review:
        try:
            review = datetime.date.fromisoformat(str(review))
        except ValueError as exc:
            raise ImportRecordError(f"next_review_date must be YYYY-MM-DD, not {review!r}") from exc
    return {
        "owner_group": owner_group,
        "next_review_date": review or None,
        "title": title,
        "external_id": external_id,
        "issue": issue,
        "environment_product": sanitize_text(str(environment.get("product") or ""), 160),
        "environment_version": sanitize_text(str(environment.get("version") or ""), 80),
        "environment_channel": channel,
        "cause": sanitize_html(str(record.get("cause") or ""), CAUSE_FEATURES),
        "resolution": stream,
        "audience": audience,
        "kcs_state": KCS_STATE_ALIASES[state],
        "escalation_team": teams.get(team_slug) if team_slug else None,
        "_tags": [sanitize_text(str(t), 100) for t in tags if str(t).strip()],
        "_services": [str(s) for s in record.get("services") or []],
        "_category": record.get("category"),
        "_related": [str(r) for r in record.get("related") or []],
    }


# --- writing ---------------------------------------------------------------------


def kb_home_for(locale):
    return KnowledgeBaseHomePage.objects.filter(locale=locale).first()


def _parent_for(locale, parent_slug, category_slug):
    home = kb_home_for(locale)
    if home is None:
        raise ImportRecordError(
            f"there is no knowledge base for language {locale.language_code!r}; "
            "run `manage.py setup_site` first"
        )
    for slug in (parent_slug, category_slug):
        if slug:
            parent = (
                Page.objects.descendant_of(home, inclusive=True)
                .filter(slug=slug)
                .type(KnowledgeBaseHomePage, CategoryPage)
                .first()
            )
            if parent is None and slug == parent_slug:
                raise ImportRecordError(f"no category with slug {slug!r} in {locale.language_code}")
            if parent is not None:
                return parent.specific
    return home


def _unique_slug(parent, title, exclude_id=None):
    base = slugify(title)[:70] or "article"
    slug, n = base, 2
    siblings = parent.get_children()
    if exclude_id:
        siblings = siblings.exclude(id=exclude_id)
    while siblings.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def import_record(record, *, publish, parent_slug=None, user=None, teams=None):
    """Create or update one article; return (page, created). Raises ImportRecordError."""
    teams = teams if teams is not None else {t.slug: t for t in EscalationTeam.objects.all()}
    language = record.get("locale") or ""
    if not isinstance(language, str):
        raise ImportRecordError(f'"locale" must be a text such as "nl", not {language!r:.40}')
    if language not in dict(settings.WAGTAIL_CONTENT_LANGUAGES):
        raise ImportRecordError(f"unsupported locale {language!r}")
    locale = Locale.objects.filter(language_code=language).first()
    if locale is None:
        raise ImportRecordError(
            f"locale {language!r} is not set up; run `manage.py setup_site` first"
        )
    values = build_fields(record, teams)
    tags, service_slugs = values.pop("_tags"), values.pop("_services")
    category, related = values.pop("_category"), values.pop("_related")
    services = list(Service.objects.filter(locale=locale, slug__in=service_slugs))
    missing = set(service_slugs) - {s.slug for s in services}
    if missing:
        raise ImportRecordError(f"unknown services for {language}: {', '.join(sorted(missing))}")

    existing = SolutionArticlePage.objects.filter(
        external_id=values["external_id"], locale=locale
    ).first()
    created = existing is None
    if created:
        parent = _parent_for(locale, parent_slug, category)
        page = SolutionArticlePage(locale=locale, live=False, owner=user, **values)
        page.slug = _unique_slug(parent, values["title"])
        sibling = SolutionArticlePage.objects.filter(external_id=values["external_id"]).first()
        if sibling is not None:
            page.translation_key = sibling.translation_key  # same external id = a translation
        parent.add_child(instance=page)
    else:
        page = existing.get_latest_revision_as_object()
        for name, value in values.items():
            setattr(page, name, value)
    page.services.set(services)
    page.tags.set(tags)
    related_pages = SolutionArticlePage.objects.filter(locale=locale, external_id__in=related)
    page.related_links = [
        ArticleRelatedLink(related_page=r) for r in related_pages if r.pk != page.pk
    ]
    revision = page.save_revision(user=user, log_action=True, clean=True)
    if publish and record.get("_publish_allowed", True):
        revision.publish(user=user)
    return page, created


def import_records(records, *, publish, parent_slug=None, user=None, progress=None):
    """Import (position, record) pairs, each in its own transaction. Returns an ImportReport."""
    report = ImportReport()
    teams = {t.slug: t for t in EscalationTeam.objects.all()}
    pending_related = []
    for position, record in records:
        if progress is not None:
            progress.update(1)
        if isinstance(record, ImportRecordError):
            report.errors.append((position, str(record)))
            continue
        try:
            with transaction.atomic():
                page, created = import_record(
                    record, publish=publish, parent_slug=parent_slug, user=user, teams=teams
                )
        except ImportRecordError as exc:
            report.errors.append((position, str(exc)))
            continue
        except Exception as exc:  # a record must never abort the whole import
            logger.exception("import of record %s failed", position)
            report.errors.append((position, f"could not be saved: {exc}"))
            continue
        report.page_ids.append(page.pk)
        if created:
            report.created += 1
            if record.get("related"):
                pending_related.append((position, record))
        else:
            report.updated += 1
    # Related articles that appeared later in the file: link them in a second pass.
    for position, record in pending_related:
        try:
            with transaction.atomic():
                import_record(
                    record, publish=publish, parent_slug=parent_slug, user=user, teams=teams
                )
        except Exception as exc:
            report.errors.append((position, f"related articles not linked: {exc}"))
    return report
