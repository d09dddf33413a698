"""Retention of Wagtail revisions: every save and autosave of an article keeps a revision;
run_worker's `purge_revisions` job deletes those older than KB_REVISION_RETENTION_DAYS.

Wagtail's own `manage.py purge_revisions --days N` keeps an object's latest revision, the
revisions scheduled to go live and those in moderation (a workflow in progress or sent back
for changes), but deletes an older *live* revision once a newer draft exists (its
`live_revision` foreign key is SET_NULL: the page stays live with no live revision; Wagtail
pull request #13869). Here the same rules apply, plus two revisions are always kept:

- the live revision of every page and of any other model with drafts (DraftStateMixin);
- each object's first revision: the reports count an article as created when its first
  revision was saved (insights/reports/health.py, "articles created").

A revision is deleted with Wagtail's `Revision.delete()`, which moves the comments made on
it to the next revision; one that another row protects is skipped and counted.
"""

import datetime
import logging

from django.apps import apps
from django.conf import settings
from django.db.models import OuterRef, Q, Subquery
from django.db.models.deletion import ProtectedError
from django.utils import timezone
from wagtail.models import Revision, WorkflowState

logger = logging.getLogger("kb.retention")


def _revisions_pointed_at(field_name):
    """(model, field) for each table that holds `field_name` (live_revision, latest_revision):
    Page once for all its specific types, and each snippet model with revisions."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy:
            continue
        try:
            field = model._meta.get_field(field_name)
        except Exception:  # FieldDoesNotExist: the model has no revisions
            continue
        if field.model is model and getattr(field, "related_model", None) is Revision:
            found.append((model, field.attname))
    return found


def _end_revision(order):
    """The pk of the revision of the same object that comes first in `order`."""
    same_object = Revision.objects.filter(
        base_content_type_id=OuterRef("base_content_type_id"), object_id=OuterRef("object_id")
    )
    return Subquery(same_object.order_by(*order).values("pk")[:1])


def purgeable_revisions(days, now=None):
    """Revisions older than `days` that nothing needs (see the module's docstring)."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
    revisions = Revision.objects.filter(created_at__lt=cutoff, approved_go_live_at__isnull=True)
    if getattr(settings, "WAGTAIL_WORKFLOW_ENABLED", True):
        revisions = revisions.exclude(
            Q(task_states__workflow_state__status=WorkflowState.STATUS_IN_PROGRESS)
            | Q(task_states__workflow_state__status=WorkflowState.STATUS_NEEDS_CHANGES)
        )
    for name in ("live_revision", "latest_revision"):
        for model, attname in _revisions_pointed_at(name):
            pointed = model._base_manager.filter(**{f"{attname}__isnull": False})
            revisions = revisions.exclude(pk__in=pointed.values(attname))
    # Wagtail's order of revisions (Revision.is_latest_revision, get_latest_revision).
    revisions = revisions.exclude(pk=_end_revision(["-created_at", "-id"]))
    return revisions.exclude(pk=_end_revision(["created_at", "id"]))


def purge_old_revisions(days=None, now=None):
    """Delete the purgeable revisions older than `days` (KB_REVISION_RETENTION_DAYS; 0 or
    less keeps every revision). Returns (deleted, skipped because protected)."""
    days = settings.KB_REVISION_RETENTION_DAYS if days is None else days
    if days <= 0:
        return 0, 0
    deleted = protected = 0
    # The ids first: no rows deleted under an open cursor (SQLite).
    ids = list(purgeable_revisions(days, now).order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), 500):
        for revision in Revision.objects.filter(pk__in=ids[start : start + 500]).order_by("pk"):
            try:
                revision.delete()
            except ProtectedError:
                protected += 1
            else:
                deleted += 1
    logger.info(
        "deleted %s revisions older than %s days (%s protected, kept)", deleted, days, protected
    )
    return deleted, protected
