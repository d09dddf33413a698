"""What one publish costs, stage by stage, and what grows as publishes accumulate.

    .venv/bin/python bench/publish_cost.py [--publishes 150] [--every 0] [--profile]

On a private copy of var/db.sqlite3 and var/vector_index (bench/_django.py), this process
is the load test's editor (bench/load_test.py's PUBLISHER): it cycles over the same five
English public articles, loads each one's latest revision, changes a step's expected
result, and runs `save_revision().publish()` in a transaction; the index update runs on
commit in this process (the immediate task backend, as in the load test). After each
publish it does what every web worker of the node then does: a replica catch-up
(embeddings/replica.py) and reloading the English indexes it serves.

Each stage is timed in CPU-seconds of this process (time.process_time: every thread) and
its SQL statements counted (a connection execute wrapper, as CaptureQueriesContext does);
stages nest (a publish includes its signal handlers), so the figures are inclusive. Prints
the mean of the first and the last 10 publishes per stage, the index files' state (size,
vectors against the chunk table's ids, files in the folder), the tables that grow, and with
--profile the functions whose cumulative CPU grew the most between the first and the last
10 publishes (cProfile).
"""

import argparse
import cProfile
import functools
import json
import os
import pstats
import shutil
import statistics
import sys
import time
from collections import defaultdict

from _django import ROOT, copy_database

WORKDIR = copy_database("kb-publish-cost-")
if (ROOT / "var" / "vector_index").exists():
    shutil.copytree(ROOT / "var" / "vector_index", WORKDIR / "vector_index")

from _django import publish_revision, setup  # noqa: E402

setup("kbsite.settings.bench")

from django.db import connection  # noqa: E402
from wagtail.models import Page, PageLogEntry, ReferenceIndex, Revision  # noqa: E402
from wagtail.signals import page_published  # noqa: E402

from articles import indexing as article_indexing  # noqa: E402
from articles.models import SolutionArticlePage  # noqa: E402
from embeddings import indexing, replica, store  # noqa: E402
from embeddings.encoder import encoders, get_encoder, model_ids  # noqa: E402
from embeddings.models import Chunk, IndexChange, IndexState  # noqa: E402
from embeddings.vectors import serving_index  # noqa: E402

SMALL_BATCH = indexing.SMALL_BATCH

# --- instrumentation --------------------------------------------------------------------

_current = {"row": None}  # stage -> [cpu seconds, statements] of the publish being measured
_statements = [0]
_texts = defaultdict(int)  # model -> texts encoded in the publish being measured


def _count_statements(execute, sql, params, many, context):
    _statements[0] += 1
    return execute(sql, params, many, context)


def _charge(label, started_cpu, started_statements):
    row = _current["row"]
    if row is not None:
        row[label][0] += time.process_time() - started_cpu
        row[label][1] += _statements[0] - started_statements
        row[label][2] += 1


def stage(label):
    """A decorator charging a call's CPU-seconds and statements to `label` (or
    label(args, kwargs) when label is callable)."""

    def wrap(func):
        @functools.wraps(func)
        def timed(*args, **kwargs):
            name = label(args, kwargs) if callable(label) else label
            cpu, statements = time.process_time(), _statements[0]
            try:
                return func(*args, **kwargs)
            finally:
                _charge(name, cpu, statements)

        return timed

    return wrap


def _counting_texts(short, func):
    @functools.wraps(func)
    def counted(texts):
        texts = list(texts)
        _texts[short] += len(texts)
        return func(texts)

    return counted


def instrument():
    """Wrap the publish path's functions where their callers look them up."""
    SolutionArticlePage.get_latest_revision_as_object = stage("editor: latest revision")(
        Page.get_latest_revision_as_object
    )
    SolutionArticlePage.save_revision = stage("wagtail save_revision")(
        SolutionArticlePage.save_revision
    )
    Revision.publish = stage("wagtail revision.publish (incl. handlers)")(Revision.publish)
    page_published.send = stage("  page_published handlers")(page_published.send)
    indexing.process_pending = stage("index task (on commit)")(indexing.process_pending)
    article_indexing.ArticlePageSource.page_chunks = stage("  chunking (page source)")(
        article_indexing.ArticlePageSource.page_chunks
    )
    for model_id in model_ids():
        encoder = get_encoder(model_id)
        short = model_id.rsplit("/", 1)[-1][:18]
        encoder.encode_chunks = stage(f"  encode {short}")(
            _counting_texts(short, encoder.encode_chunks)
        )
    indexing.replace_page_chunks = stage("  chunk rows (replace_page_chunks)")(
        indexing.replace_page_chunks
    )
    IndexState.bump = classmethod(
        stage("    IndexState/IndexChange bump")(IndexState.bump.__func__)
    )
    indexing.sync_locale = stage(
        lambda a, k: "  FAISS sync_locale" + (" (all models)" if len(a) < 2 else "")
    )(indexing.sync_locale)
    replica.sync_locale = indexing.sync_locale
    store.VectorStore.load_from_disk = stage("    FAISS read+verify")(
        store.VectorStore.load_from_disk
    )
    store.VectorStore.write = stage("    FAISS write")(store.VectorStore.write)
    store._checksum = stage("      sha256 of a file")(store._checksum)


# --- the editor is _django.publish_revision (bench/load_test.py's PUBLISHER); then -------


def worker_after_publish():
    """What each web worker of the node does after a publish: catch up, reload its indexes."""
    catch_up = stage("worker: replica catch_up")(replica.catch_up)
    catch_up(wait=True)
    reload = stage("worker: reload served en indexes")(
        lambda: [serving_index("en", m) for m in model_ids()]
    )
    reload()


def index_state():
    rows = []
    for model_id in model_ids():
        folder = store.store_for(model_id).locale_dir("en")
        manifest = store.store_for(model_id).read_manifest("en")
        size = (folder / manifest["file"]).stat().st_size
        db_ids = Chunk.objects.for_locale("en").for_model(model_id).count()
        files = len(list(folder.glob("index-*.faiss")))
        rows.append(
            f"{model_id.rsplit('/', 1)[-1][:24]}/en: file {size / 1024:.0f} KiB, "
            f"{manifest['count']} vectors, {db_ids} chunk rows, {files} index files, "
            f"file generation {manifest['generation']}"
        )
    return rows


def table_counts(pages):
    ids = [p.pk for p in pages]
    return {
        "revisions (all pages)": Revision.objects.count(),
        "revisions of the 5 pages": Revision.objects.filter(
            object_id__in=[str(i) for i in ids]
        ).count(),
        "page log entries": PageLogEntry.objects.count(),
        "reference index rows": ReferenceIndex.objects.count(),
        "IndexChange rows": IndexChange.objects.count(),
        "chunk rows": Chunk.objects.count(),
        "latest revisions' JSON chars (5 pages)": sum(
            len(json.dumps(p.get_latest_revision().content))
            for p in Page.objects.filter(pk__in=ids)
        ),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--publishes", type=int, default=150)
    parser.add_argument("--every", type=float, default=0.0, help="seconds between publishes")
    parser.add_argument("--profile", action="store_true", help="cProfile first/last 10")
    parser.add_argument(
        "--alternate-threads",
        action="store_true",
        help="even publishes encode on the library's default threads (before the fix), odd "
        "ones on one thread (embeddings.indexing.SMALL_BATCH): both in the same run",
    )
    args = parser.parse_args()
    pages = list(
        SolutionArticlePage.objects.live().filter(locale__language_code="en", audience="public")[:5]
    )
    encoders()
    replica.catch_up(wait=True)
    for model_id in model_ids():
        serving_index("en", model_id)
    instrument()
    counting = connection.execute_wrapper(_count_statements)
    counting.__enter__()  # kept referenced: a collected generator would pop the wrapper
    print(f"copy in {WORKDIR}; {len(pages)} articles; models {', '.join(model_ids())}")
    before = table_counts(pages)
    print("before: " + "; ".join(index_state()))
    rows, totals, texts = [], [], []
    profiles = {"first": cProfile.Profile(), "last": cProfile.Profile()}
    for n in range(args.publishes):
        row = defaultdict(lambda: [0.0, 0, 0])
        _current["row"] = row
        profile = None
        if args.profile and n < 10:
            profile = profiles["first"]
        elif args.profile and n >= args.publishes - 10:
            profile = profiles["last"]
        if args.alternate_threads:
            indexing.SMALL_BATCH = SMALL_BATCH if n % 2 else 0
        cpu, statements = time.process_time(), _statements[0]
        _texts.clear()
        if profile:
            profile.enable()
        publish_revision(pages, n)
        editor = (time.process_time() - cpu, _statements[0] - statements)
        worker_after_publish()
        if profile:
            profile.disable()
        _current["row"] = None
        row["EDITOR TOTAL (publish + index task)"] = [*editor, 1]
        rows.append(row)
        totals.append(editor[0])
        texts.append(dict(_texts))
        if args.every:
            time.sleep(args.every)
    first, last = rows[:10], rows[-10:]
    labels = list(dict.fromkeys(label for row in rows for label in row))
    labels.sort(key=lambda s: s.startswith("EDITOR"))
    print(
        f"\n{args.publishes} publishes; mean per publish, first 10 against last 10 "
        "(CPU ms of this process, SQL statements; stages nest, figures are inclusive)"
    )
    print(f"{'stage':44} {'CPU ms':>8} {'->':>2} {'CPU ms':>8} {'stmts':>6} {'->':>2} {'stmts':>6}")
    for label in labels:

        def mean(part, i, label=label):
            return statistics.mean(r[label][i] if label in r else 0 for r in part)

        print(
            f"{label[:44]:44} {mean(first, 0) * 1000:8.1f} -> {mean(last, 0) * 1000:8.1f} "
            f"{mean(first, 1):6.1f} -> {mean(last, 1):6.1f}"
        )
    for short in sorted({k for t in texts for k in t}):
        print(
            f"texts encoded per publish by {short}: first 10 "
            f"{statistics.mean(t.get(short, 0) for t in texts[:10]):.1f}, last 10 "
            f"{statistics.mean(t.get(short, 0) for t in texts[-10:]):.1f}"
        )
    tenth = max(1, args.publishes // 10)
    print(
        "editor CPU ms per publish, mean of each tenth of the run: "
        + " ".join(
            f"{statistics.mean(totals[i : i + tenth]) * 1000:.0f}"
            for i in range(0, len(totals), tenth)
        )
    )
    if args.alternate_threads:
        print("same run, alternating: mean CPU ms per publish (encoding threads)")
        for name, part in (
            ("library default (before)", rows[0::2]),
            ("one thread below SMALL_BATCH texts", rows[1::2]),
        ):
            shown = [
                label
                for label in labels
                if label.strip().startswith(("encode", "index task", "EDITOR"))
            ]
            print(
                f"  {name:36} "
                + ", ".join(
                    f"{label.strip()} {statistics.mean(r[label][0] for r in part) * 1000:.0f}"
                    for label in shown
                )
                + f" ({len(part)} publishes)"
            )
    after = table_counts(pages)
    print("tables: " + "; ".join(f"{k} {before[k]} -> {after[k]}" for k in before))
    print("after: " + "; ".join(index_state()))
    print(f"replica.json generation {replica.local_generation()}, database {IndexState.current()}")
    if args.profile:
        stats = {k: pstats.Stats(p).stats for k, p in profiles.items()}
        grown = []
        for key, value in stats["last"].items():
            before_cum = stats["first"].get(key, (0, 0, 0, 0, {}))[3]
            grown.append((value[3] - before_cum, key, before_cum, value[3]))
        grown.sort(reverse=True)
        print("\ncProfile: cumulative seconds over 10 publishes, first 10 -> last 10 (top growth)")
        for delta, (filename, line, func), b, a in grown[:25]:
            where = os.path.relpath(filename, ROOT) if filename.startswith("/") else filename
            print(f"  {b:7.3f} -> {a:7.3f} (+{delta:6.3f})  {func} {where[-60:]}:{line}")
    shutil.rmtree(WORKDIR, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
