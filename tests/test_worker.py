"""`manage.py run_worker`: queued tasks and the periodic jobs, each job's effect, clean stop."""

import datetime
import logging
import os
import signal
import time
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from articles.models import ArticleFlag, SolutionArticlePage
from embeddings import tasks
from embeddings.models import PendingIndexUpdate
from insights.models import ArticleFeedback, ContactRequest, SearchEvent
from search import jobs, service
from tests.conftest import new_article, publish

pytestmark = pytest.mark.django_db


def _age(queryset, days, field="created_at"):
    queryset.update(**{field: timezone.now() - datetime.timedelta(days=days)})


def _worker(*args):
    out = StringIO()
    call_command("run_worker", "--once", *args, stdout=out, stderr=out)
    return out.getvalue()


def test_prune_search_logs_job_deletes_old_events_and_keeps_recent_ones(client, settings):
    client.get("/api/v1/public/search/", {"q": "printer offline"})
    client.get("/api/v1/public/search/", {"q": "wifi keeps dropping"})
    old = SearchEvent.objects.filter(query="printer offline")
    _age(old, settings.KB_LOG_RETENTION_DAYS + 1)
    _worker("--job", "prune_search_logs")
    assert list(SearchEvent.objects.values_list("query", flat=True)) == ["wifi keeps dropping"]


@pytest.mark.model
def test_drain_job_makes_an_article_published_while_the_queue_was_down_searchable(
    run_on_commit, users, monkeypatch
):
    def queue_down(*args, **kwargs):
        raise ConnectionError("task queue unreachable")

    monkeypatch.setattr(tasks, "process_index_updates", SimpleNamespace(enqueue=queue_down))
    page = new_article(
        "mobile-telecom",
        "Record it again.",
        title="Voicemail greeting is silent",
        audience="public",
        issue="callers hear silence instead of my voicemail greeting",
    )
    page = run_on_commit(publish, page)
    monkeypatch.undo()
    assert PendingIndexUpdate.objects.filter(page_id=page.pk).exists()

    _worker("--job", "drain_index_updates")

    assert not PendingIndexUpdate.objects.exists()
    query = "callers hear silence instead of my voicemail greeting"
    hits = service.search(query, user=users["operator"], channel="operator").hits
    assert hits[0].page.pk == page.pk


def _contact(name, email, message="My decoder shows E-202"):
    return ContactRequest.objects.create(
        locale="en", name=name, email=email, phone="0470 12 34 56", message=message
    )


def test_retention_job_deletes_old_contact_requests(settings):
    old, recent = _contact("Old", "old@example.be"), _contact("New", "new@example.be")
    _age(ContactRequest.objects.filter(pk=old.pk), settings.KB_CONTACT_RETENTION_DAYS + 1)
    _worker("--job", "retention")
    assert list(ContactRequest.objects.values_list("pk", flat=True)) == [recent.pk]


def test_retention_job_clears_old_feedback_comments_but_keeps_the_vote(settings, article):
    page = article("demo-printer-offline")
    old = ArticleFeedback.objects.create(
        article=page,
        locale="en",
        helpful=False,
        reason="outdated",
        comment="still broken",
        session_key="trail-abcdefghijklmnopqrstuvwx",
    )
    recent = ArticleFeedback.objects.create(
        article=page, locale="en", helpful=False, reason="outdated", comment="recent comment"
    )
    _age(ArticleFeedback.objects.filter(pk=old.pk), settings.KB_FEEDBACK_COMMENT_RETENTION_DAYS + 1)
    _worker("--job", "retention")
    old.refresh_from_db()
    assert (old.comment, old.session_key, old.helpful, old.reason) == ("", "", False, "outdated")
    assert ArticleFeedback.objects.get(pk=recent.pk).comment == "recent comment"


def test_retention_job_deletes_long_closed_flags_and_keeps_open_ones(settings, article):
    page = article("demo-printer-offline")
    long_closed = ArticleFlag.objects.create(
        article=page, reason="outdated", source="console", status=ArticleFlag.STATUS_CLOSED
    )
    _age(
        ArticleFlag.objects.filter(pk=long_closed.pk),
        settings.KB_FLAG_RETENTION_DAYS + 1,
        field="closed_at",
    )
    old_open = ArticleFlag.objects.create(article=page, reason="unclear", source="console")
    _age(ArticleFlag.objects.filter(pk=old_open.pk), settings.KB_FLAG_RETENTION_DAYS + 100)
    _worker("--job", "retention")
    assert list(ArticleFlag.objects.filter(article=page).values_list("pk", flat=True)) == [
        old_open.pk
    ]


def _make_due(page, owner, days_ago=3):
    owner.email = f"{owner.username}@example.be"
    owner.save()
    SolutionArticlePage.objects.filter(pk=page.pk).update(
        owner_user=owner,
        kcs_state=SolutionArticlePage.KCS_VALIDATED,
        next_review_date=timezone.localdate() - datetime.timedelta(days=days_ago),
    )


def _reminders_about(page):
    return [m for m in mail.outbox if page.title in m.body]


def test_review_reminder_mails_the_owner_once_per_review_date(users, article):
    page = article("demo-printer-offline")
    _make_due(page, users["manager"])
    _worker("--job", "review_reminders")
    sent = _reminders_about(page)
    assert len(sent) == 1 and sent[0].to == ["manager@example.be"]
    assert f"/admin/pages/{page.pk}/edit/" in sent[0].body
    from wagtail.models import PageLogEntry

    assert PageLogEntry.objects.filter(page=page, action="kb.review_reminder").count() == 1

    _worker("--job", "review_reminders")
    assert len(_reminders_about(page)) == 1  # not again for the same review date

    _make_due(page, users["manager"], days_ago=1)  # reviewed, and due again later
    _worker("--job", "review_reminders")
    assert len(_reminders_about(page)) == 2


def test_run_worker_runs_queued_database_tasks(settings):
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    result = tasks.process_index_updates.enqueue()
    assert DBTaskResult.objects.get(id=result.id).status == TaskResultStatus.READY
    _worker("--job", "review_reminders")
    assert DBTaskResult.objects.get(id=result.id).status == TaskResultStatus.SUCCESSFUL


def test_once_runs_every_job_and_a_failing_job_fails_the_command(monkeypatch, caplog):
    ran = []
    for name in jobs.JOBS:
        monkeypatch.setitem(jobs.JOBS, name, lambda name=name: ran.append(name) or "ok")

    def broken():
        raise RuntimeError("disk on fire")

    _worker()
    assert sorted(ran) == sorted(jobs.JOBS)
    monkeypatch.setitem(jobs.JOBS, "retention", broken)
    from django.core.management import CommandError

    with (
        caplog.at_level(logging.ERROR, logger="kb.worker"),
        pytest.raises(CommandError, match="jobs failed: retention"),
    ):
        _worker()
    assert "periodic job retention failed" in caplog.text


def test_sigterm_lets_the_running_job_finish_then_stops_the_worker(monkeypatch, caplog):
    finished = []

    def slow_job():
        os.kill(os.getpid(), signal.SIGTERM)  # arrives while the job runs
        time.sleep(0.3)
        finished.append("job done")
        return "ok"

    monkeypatch.setitem(jobs.JOBS, "prune_search_logs", slow_job)
    worker = jobs.KBWorker(
        periods={"prune_search_logs": 3600},  # without the signal this loop never ends
        run_tasks=False,
        queue_names=["default"],
        interval=0.1,
        backend_name="default",
        worker_id="test-worker",
        excluded_queue_names=[],
    )
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    worker.configure_signals()
    try:
        with caplog.at_level(logging.INFO, logger="kb.worker"):
            worker.run()
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
    assert finished == ["job done"]
    assert "stopping after the current task or job" in caplog.text
    assert "worker test-worker stopped" in caplog.text
