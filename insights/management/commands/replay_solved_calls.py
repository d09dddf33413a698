"""Replay customer wordings as solved calls, to measure (and demonstrate) search that learns.

Each line {"query", "article": external_id, "locale"} is recorded by one of a few demo
operators through events.record_outcome, the service POST /api/v1/outcomes/ calls; a share
--wrong-share of them is deliberately pointed at another article. Learning is applied
(phrasings confirmed, articles re-indexed) before the command returns.
"""

import json
import random
from collections import defaultdict

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from articles.roles import OPERATORS
from articles.selectors import visible_articles
from insights import events, learning
from insights.models import CallOutcome
from textutils.sanitize import sanitize_text

DEMO_OPERATOR = "replay-operator-{}"


def read_calls(path):
    calls = []
    try:
        with open(path, encoding="utf-8") as fh:
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    query, article = str(row["query"]), str(row["article"])
                except (json.JSONDecodeError, KeyError, TypeError) as exc:
                    raise CommandError(
                        f"{path} line {number}: expected {{query, article, locale}} ({exc})"
                    ) from exc
                calls.append((query, article, str(row.get("locale") or "en")))
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc}") from exc
    return calls


def demo_operators(count):
    """Operators the replay speaks for (created once, no usable password)."""
    group, _ = Group.objects.get_or_create(name=OPERATORS)
    users = []
    for number in range(1, count + 1):
        user, created = get_user_model().objects.get_or_create(
            username=DEMO_OPERATOR.format(number)
        )
        if created:
            user.set_unusable_password()
            user.save()
        user.groups.add(group)
        users.append(user)
    return users


class Command(BaseCommand):
    help = "Replay JSONL lines {query, article, locale} as solved calls; learning is applied."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--wrong-share",
            type=float,
            default=0.0,
            help="share of calls deliberately recorded against a wrong article (0-1)",
        )
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--operators", type=int, default=4, help="demo operators (default 4)")
        parser.add_argument(
            "--per-article", type=int, default=None, help="replay only the first N per article"
        )

    def handle(self, *args, **options):
        share = options["wrong_share"]
        if not 0.0 <= share <= 1.0:
            raise CommandError("--wrong-share must be between 0 and 1.")
        if options["operators"] < 1:
            raise CommandError("--operators must be at least 1.")
        calls = read_calls(options["file"])
        if options["per_article"] is not None:
            seen = defaultdict(int)
            kept = []
            for call in calls:
                seen[call[1]] += 1
                if seen[call[1]] <= options["per_article"]:
                    kept.append(call)
            calls = kept
        summary = replay(
            calls, wrong_share=share, seed=options["seed"], operators=options["operators"]
        )
        self.stdout.write(
            f"{summary['recorded']} solved calls replayed ({summary['wrong']} pointed at a wrong "
            f"article) by {options['operators']} operators; {summary['unknown']} skipped (no "
            f"such article). Learning: {summary['learning']['active']} phrasings searchable, "
            f"{len(summary['learning']['changed_articles'])} articles re-indexed."
        )


def replay(calls, *, wrong_share=0.0, seed=0, operators=4):
    rng = random.Random(seed)
    users = demo_operators(operators)
    pages = defaultdict(dict)  # external_id -> {locale: page}
    for page in visible_articles(users[0]).select_related("locale"):
        if page.external_id:
            pages[page.external_id][page.locale.language_code] = page
    external_ids = sorted(pages)
    recorded = wrong = unknown = 0
    with transaction.atomic():
        for query, external_id, locale in calls:
            user = rng.choice(users)
            if rng.random() < wrong_share and len(external_ids) > 1:
                external_id = rng.choice([e for e in external_ids if e != external_id])
                wrong += 1
            versions = pages.get(external_id)
            if not versions:
                unknown += 1
                continue
            page = versions.get(locale) or next(iter(versions.values()))
            events.record_outcome(
                user=user,
                outcome=CallOutcome.SOLVED,
                query=sanitize_text(query, 600),
                locale=locale,
                article=page,
            )
            recorded += 1
    return {
        "recorded": recorded,
        "wrong": wrong,
        "unknown": unknown,
        "learning": learning.apply_learning(),
    }
