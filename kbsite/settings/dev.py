from .base import *  # noqa: F403

DEBUG = True
# Development only; production.py reads DJANGO_SECRET_KEY from the environment.
SECRET_KEY = "dev-only-not-secret-0c1b6c2e9f4a4f0f8d5c"  # noqa: S105
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
