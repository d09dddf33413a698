"""Background tasks (django-tasks): immediate backend by default, `db_worker` in production."""

from django_tasks import task

from . import learning


@task()
def apply_learning_task():
    """Turn pending evidence from solved calls into learned phrasings; re-index what changed."""
    return learning.apply_learning()
