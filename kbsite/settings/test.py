import os
import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import DATABASES

DEBUG = False
SECRET_KEY = "test-only-not-secret"  # noqa: S105
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
_tmp = Path(tempfile.mkdtemp(prefix="kb-test-"))
MEDIA_ROOT = _tmp / "media"
KB_VECTOR_INDEX_DIR = _tmp / "vector_index"
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

# KB_TEST_DATABASE_URL=postgres://... runs the suite on PostgreSQL.
if os.environ.get("KB_TEST_DATABASE_URL"):
    import dj_database_url

    DATABASES["default"] = dj_database_url.parse(os.environ["KB_TEST_DATABASE_URL"])
# The real shared cache (database), but no limits: tests that make many requests from one
# address would trip them. tests/test_rate_limits.py switches them on.
RATELIMIT_ENABLE = False
