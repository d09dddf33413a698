"""`runserver` that warms the search before it reports ready (see search/warmup.py), so the
first operator search after `make run` is as fast as the next one."""

import os

from django.contrib.staticfiles.management.commands.runserver import Command as RunserverCommand

from search.warmup import warm_up


class Command(RunserverCommand):
    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--no-warm-up",
            action="store_true",
            help="Do not load the embedding model and vector indexes before serving",
        )

    def inner_run(self, *args, **options):
        # inner_run runs in the process that serves (the autoreloader's child), once per reload.
        if not options.get("no_warm_up") and os.environ.get("KB_WARM_UP", "1") != "0":
            self.stdout.write("Warming the search (embedding model, vector indexes) ...")
            try:
                seconds = warm_up()
            except Exception as exc:  # e.g. not migrated yet: serve anyway, say why
                self.stderr.write(f"Search warm-up failed ({exc}); the first search will be slow.")
            else:
                self.stdout.write(f"Search warm ({seconds:.1f} s).")
        super().inner_run(*args, **options)
