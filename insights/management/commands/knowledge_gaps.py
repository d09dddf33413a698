"""Print the knowledge-gap topics: what people asked that no article answers, by volume."""

import json

from django.core.management.base import BaseCommand, CommandError

from embeddings.encoder import EncoderUnavailable
from insights.gaps import GapsError, knowledge_gaps


class Command(BaseCommand):
    help = (
        "Cluster unresolved demand (searches without a good match, 'no article found' calls, "
        "not-helpful feedback with a comment, searches before a contact request) into topics "
        "ranked by volume; each with example queries and the closest existing article."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=int, default=30, help="period: the last N days (default 30)"
        )
        parser.add_argument("--locale", help="only demand in this language (en, nl, fr)")
        parser.add_argument("--channel", help="only this channel (operator, public, api)")
        parser.add_argument(
            "--service", help="only topics whose closest article has this service (slug)"
        )
        parser.add_argument(
            "--min-volume", type=int, default=2, help="smallest topic shown (default 2)"
        )
        parser.add_argument(
            "--limit", type=int, default=20, help="at most this many topics (default 20)"
        )
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    def handle(self, *args, **options):
        if options["limit"] < 1:
            raise CommandError("--limit must be at least 1.")
        try:
            report = knowledge_gaps(
                options["days"],
                locale=options["locale"],
                channel=options["channel"],
                service=options["service"],
                min_volume=options["min_volume"],
                max_topics=options["limit"],
            )
        except (GapsError, EncoderUnavailable) as exc:
            raise CommandError(str(exc)) from exc
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
            return
        self.stdout.write(
            f"Knowledge gaps {report.since:%Y-%m-%d} to {report.until:%Y-%m-%d}: "
            f"{report.items} unresolved requests, {len(report.topics)} topics "
            f"({report.answered_since} answered since by a newer article)."
        )
        if not report.topics:
            self.stdout.write("No knowledge gaps in this period.")
        for number, topic in enumerate(report.topics, start=1):
            languages = ", ".join(f"{k} {v}" for k, v in topic.languages.items())
            channels = ", ".join(f"{k} {v}" for k, v in topic.channels.items())
            self.stdout.write(
                f"\n{number}. {topic.label}\n"
                f"   volume {topic.volume} ({topic.change:+.0%} vs first half) · {languages} · {channels}"
            )
            for example in topic.examples:
                self.stdout.write(f"   - {example}")
            if topic.closest_article:
                article = topic.closest_article
                self.stdout.write(
                    f"   closest article: {article['title']} [{article['locale']}, id {article['id']}] "
                    f"similarity {topic.similarity:.2f}"
                )
            else:
                self.stdout.write("   closest article: none")
