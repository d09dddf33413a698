"""Benchmarks (bench/*.py): production-like request handling on the local SQLite copy.

DEBUG off (Django then keeps no per-query log and renders no debug pages), no HTTPS
redirects (the benchmarks call the app in-process), no secret in the repository: the key
comes from DJANGO_SECRET_KEY or is random per process (sessions only live for the run).
"""

import os
import secrets

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50)
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# The load test's simulated customers all come from 127.0.0.1: one client, as the limits see it.
RATELIMIT_ENABLE = False
# As deployed (deploy/kb.env.example: DB_CONN_MAX_AGE=60): a worker keeps its database
# connection instead of opening one (and re-reading SQLite's schema) for every request.
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 60)  # noqa: F405
