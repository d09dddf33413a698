"""Background tasks (django-tasks). Immediate backend by default; `db_worker` in production."""

from django_tasks import task

from . import indexing


@task()
def process_index_updates(page_ids=None):
    results = indexing.process_pending(page_ids)
    return {"pages": len(results), "encoded": sum(r.encoded for r in results)}
