"""Write side of search analytics. Never slows or breaks a search: failures are logged."""

import atexit
import logging
import threading
import time
from collections import deque
from datetime import timedelta

from django.core.signals import request_finished, request_started
from django.db import connections, router, transaction
from django.utils import timezone

from embeddings.encoder import comparison_model_id, get_encoder
from incidents import services as incident_services
from incidents.models import IncidentLink
from textutils.redaction import redact
from textutils.sanitize import sanitize_text

from . import gaps, learning
from .models import ArticleFeedback, CallOutcome, ContactRequest, SearchEvent

logger = logging.getLogger("kb.events")

MAX_COMMENT_CHARS = 1000
CONTACT_TRAIL_WINDOW = timedelta(hours=2)


def log_search(response, *, channel, request=None, query_vector=None, defer=False):
    """Store a search with its redacted query; return the event id, or None if logging failed.

    `query_vector` is the query's embedding when the search already computed it (the caller
    in `search` passes it, so logging never encodes).

    With `defer`, the id is handed out at once (reserved without writing, see _SearchIds) and
    the row is written later by `write_pending_searches`: the view calls it when its response
    has been sent (search.views.SearchJsonResponse), so the caller does not wait for the
    insert. A click or outcome that comes for the id before its row is there waits for it
    briefly (`find_search`). If the row cannot be written, the id leads nowhere: a click on
    it is refused and an outcome is kept without its search, as when logging fails now."""
    try:
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        # Anonymous visitors are followed by their trail cookie (search/trail.py), not a session.
        trail = getattr(request, "kb_trail", None)
        entry = _PendingSearch(
            channel=channel,
            response=response,
            user=user if user is not None and user.is_authenticated else None,
            session_key=trail or ((session.session_key or "") if session is not None else ""),
            query_vector=query_vector,
        )
        if defer:
            entry.pk = _search_ids.take()
            if entry.pk is not None:
                with _pending_lock:
                    _pending.append(entry)
                return entry.pk
        return _write_search(entry)
    except Exception:
        logger.exception("could not log a %s search; the search itself was answered", channel)
        return None


class _PendingSearch:
    __slots__ = ("pk", "channel", "response", "user", "session_key", "query_vector")

    def __init__(self, *, channel, response, user, session_key, query_vector, pk=None):
        self.pk, self.channel, self.response = pk, channel, response
        self.user, self.session_key, self.query_vector = user, session_key, query_vector


def _write_search(entry):
    response = entry.response
    with transaction.atomic():
        event = SearchEvent.objects.create(
            pk=entry.pk,
            channel=entry.channel,
            locale=response.locale,
            # Detected once by the search (it chose the model with it), never again here;
            # blank for a caller's stand-in response without one.
            question_language=(getattr(response, "question_language", "") or "")[:16],
            user=entry.user,
            session_key=entry.session_key,
            query=redact(response.query)[:600],
            result_page_ids=[h.page.pk for h in response.hits],
            result_scores=[h.score for h in response.hits],
            confidence=response.confidence,
            no_good_match=response.no_good_match,
            latency_ms=response.took_ms,
        )
    if response.no_good_match and entry.query_vector is not None:
        _remember_vector(response.query, event.query, entry.query_vector)
    return event.pk


# Rows of deferred searches (log_search(defer=True)) not written yet, in this process.
_pending = deque()
_pending_lock = threading.Lock()


def write_pending_searches(**_signal_kwargs):
    """Write the search-log rows this process still owes; never raises (failures are logged).

    Called when a search's response has been sent, and as a safety net when any request
    starts or finishes and when the process exits. Takes the database connection of the
    thread that calls it."""
    wrote = False
    while True:
        with _pending_lock:
            if not _pending:
                break
            entry = _pending.popleft()
        wrote = True
        try:
            _write_search(entry)
        except Exception:
            logger.exception(
                "could not log a %s search (id %s) after its answer", entry.channel, entry.pk
            )
    if wrote:
        try:
            _search_ids.top_up()
        except Exception:
            logger.exception("could not reserve search-log ids ahead")


request_started.connect(write_pending_searches, dispatch_uid="kb-pending-searches-started")
request_finished.connect(write_pending_searches, dispatch_uid="kb-pending-searches-finished")
atexit.register(write_pending_searches)


class _SearchIds:
    """Search-log ids handed out before their row is written, unique across processes.

    Reserved from the table's own id sequence, so rows created the ordinary way
    (`SearchEvent.objects.create()`) never take one: on SQLite by moving the AUTOINCREMENT
    counter (sqlite_sequence) on by BLOCK in one short write transaction; on PostgreSQL with
    nextval() on the id column's sequence. The next block is reserved after an answer, when
    fewer than a quarter of the ids are left (top_up), so searches seldom wait for it. An id
    is handed out at most BLOCK_SECONDS after its reservation (find_search relies on it);
    ids left unused are gaps, as after a rolled-back insert. Inside a transaction (where a
    rollback would give SQLite's reserved ids out again) and on other databases: None, and
    log_search writes at once, as it always did."""

    BLOCK = 32
    BLOCK_SECONDS = 30.0

    def __init__(self):
        self.lock = threading.Lock()
        self.blocks = {}  # (alias, database name) -> deque of (reserved at, id)

    def take(self):
        alias = router.db_for_write(SearchEvent)
        connection = connections[alias]
        if connection.vendor not in ("sqlite", "postgresql"):
            return None
        if connection.in_atomic_block:
            return None  # the row joins the caller's transaction (and goes with a rollback)
        with self.lock:
            ids = self._fresh(alias)
            if not ids:
                self._reserve(alias, ids)
            return ids.popleft()[1]

    def top_up(self):
        """Reserve the next block before this one runs out, after an answer has been sent
        (write_pending_searches), so a search seldom waits for the reservation's write."""
        alias = router.db_for_write(SearchEvent)
        connection = connections[alias]
        if connection.vendor not in ("sqlite", "postgresql") or connection.in_atomic_block:
            return
        with self.lock:
            ids = self._fresh(alias)
            if len(ids) < self.BLOCK // 4:
                self._reserve(alias, ids)

    def _fresh(self, alias):
        """This process's unused ids (reserved at, id), those too old to hand out dropped."""
        key = (alias, str(connections[alias].settings_dict["NAME"]))
        ids = self.blocks.setdefault(key, deque())
        now = time.monotonic()
        while ids and now - ids[0][0] > self.BLOCK_SECONDS:
            ids.popleft()
        return ids

    def _reserve(self, alias, ids):
        reserved_at = time.monotonic()
        ids.extend((reserved_at, pk) for pk in reserve_search_ids(alias, self.BLOCK))


_search_ids = _SearchIds()


def _table():
    meta = SearchEvent._meta
    return meta.db_table, meta.pk.column


def reserve_search_ids(alias, count):
    """`count` new SearchEvent ids no other process or ordinary insert will use."""
    connection = connections[alias]
    table, column = _table()
    qn = connection.ops.quote_name
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [qn(table), column, count],
            )
            return sorted(row[0] for row in cursor.fetchall())
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        cursor.execute(f"SELECT MAX({qn(column)}) FROM {qn(table)}")
        top = max(row[0] if row else 0, cursor.fetchone()[0] or 0)
        if row:
            cursor.execute(
                "UPDATE sqlite_sequence SET seq = %s WHERE name = %s", [top + count, table]
            )
        else:
            cursor.execute(
                "INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, top + count]
            )
    return list(range(top + 1, top + count + 1))


def _highest_reserved_id(alias):
    connection = connections[alias]
    table, column = _table()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT pg_get_serial_sequence(%s, %s)", [connection.ops.quote_name(table), column]
            )
            sequence = cursor.fetchone()[0]  # the sequence's own quoted, qualified name
            cursor.execute(f"SELECT last_value FROM {sequence}")
        else:
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
    return row[0] if row else 0


# A deferred row is written milliseconds after its answer; SQLite may make it wait for the
# write lock (the connection's timeout, 20 s). An id handed out later than this before now
# cannot be owed any more: a missing row for it is not waited for.
PENDING_WINDOW = timedelta(minutes=2)
PENDING_WAIT_SECONDS = 1.5
PENDING_POLL_SECONDS = 0.02


def find_search(search_id, *, wait=PENDING_WAIT_SECONDS):
    """The SearchEvent with this id, or None. When its row may still be on its way (a
    deferred write in another worker), wait up to `wait` seconds for it.

    "May be on its way": reserved (not above the sequence's highest id) and newer than every
    row written more than PENDING_WINDOW ago. An id handed out now comes from a block
    reserved at most _SearchIds.BLOCK_SECONDS ago, after those rows' ids, so it is larger;
    anything older or unknown is answered at once (no waiting on made-up or pruned ids)."""
    if search_id is None:
        return None
    write_pending_searches()  # this process's own first
    event = SearchEvent.objects.filter(pk=search_id).first()
    if event is not None or wait <= 0 or not _may_be_pending(search_id):
        return event
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        time.sleep(PENDING_POLL_SECONDS)
        event = SearchEvent.objects.filter(pk=search_id).first()
        if event is not None:
            return event
    return None


def _may_be_pending(search_id):
    alias = router.db_for_write(SearchEvent)
    if connections[alias].vendor not in ("sqlite", "postgresql"):
        return False
    if not 0 < search_id <= _highest_reserved_id(alias):
        return False
    older = (
        SearchEvent.objects.filter(created_at__lt=timezone.now() - PENDING_WINDOW)
        .order_by("-created_at")
        .values_list("pk", flat=True)
        .first()
    )
    return older is None or search_id > older


def _remember_vector(query, redacted, vector):
    """Unresolved demand feeds the knowledge-gap report: keep the query's vector (no encoding).
    `vector` is the comparison model's (search.service.cached_query_vector), the space the
    report clusters in."""
    gaps.remember_search_vector(query, redacted, vector, get_encoder(comparison_model_id()))


def record_outcome(
    *,
    user,
    outcome,
    query="",
    locale="",
    article=None,
    team=None,
    note="",
    search_event_id=None,
    ticket_reference="",
    known_problem=None,
):
    """`ticket_reference` must already be checked (incidents.services.clean_ticket_reference).
    A call linked to a known problem is also counted on the problem (incidents.IncidentLink)."""
    event = find_search(search_event_id) if search_event_id else None
    redacted = redact(query)[:600]
    with transaction.atomic():
        record = CallOutcome.objects.create(
            user=user,
            outcome=outcome,
            query=redacted,
            locale=locale[:8],
            article=article,
            team=team,
            note=redact(note)[:2000],
            search_event=event,
            ticket_reference=ticket_reference,
            known_problem=known_problem,
        )
        if known_problem is not None:
            incident_services.link(
                known_problem=known_problem,
                ticket_reference=ticket_reference,
                source=IncidentLink.SOURCE_CONSOLE,
                user=user,
                query=redacted,
            )
    # A solved call's wording is stored as evidence; run_worker's "learning" job turns it into
    # learned phrasings off the request (insights/learning.py).
    learning.note_solved_call(record)
    return record


def record_feedback(*, article, locale, helpful, session_key=""):
    """'Was this helpful?' yes/no on an article page."""
    record = ArticleFeedback.objects.create(
        article=article, locale=locale[:8], helpful=bool(helpful), session_key=session_key
    )
    learning.note_helpful_feedback(record)  # 'yes' after a public search teaches too
    return record


def add_feedback_details(record, *, reason, comment=""):
    """The reason and optional comment after a 'no': plain text, personal data redacted."""
    record.reason = reason
    record.comment = redact(sanitize_text(comment or "", MAX_COMMENT_CHARS))
    record.save(update_fields=["reason", "comment"])
    return record


def record_contact_request(
    *, locale, name, email, phone, message, article, session_key, troubleshooting=None, now=None
):
    """'Still need help?': store the request with the public searches of the last two hours
    and the guided-troubleshooting answers the customer gave on the article."""
    record = ContactRequest.objects.create(
        troubleshooting=troubleshooting or {},
        locale=locale[:8],
        name=sanitize_text(name, 120),
        email=email,
        phone=sanitize_text(phone or "", 40),
        message=sanitize_text(message, 3000),
        article=article,
    )
    trail = SearchEvent.objects.filter(
        session_key=session_key,
        channel=SearchEvent.CHANNEL_PUBLIC,
        created_at__gte=(now or timezone.now()) - CONTACT_TRAIL_WINDOW,
    )
    if now is not None:
        trail = trail.filter(created_at__lte=now)
    record.searches.set(trail)
    return record
