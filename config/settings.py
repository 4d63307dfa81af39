"""ROR Coach settings: every knob comes from the environment (see the README's configuration table).

With nothing set, the project runs embedded: SQLite in the project folder, Celery tasks run eagerly
and the offline playbook coach writes the coaching.
"""

from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")  # optional; a missing file is fine

DEBUG = env.bool("DEBUG", default=True)
if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-set-SECRET_KEY-in-production")
else:
    SECRET_KEY = env.str("SECRET_KEY")  # no default outside DEBUG: refuse to start without one
# The test runner adds "testserver" itself; a deployment names its own hosts.
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "axes",
    "scoring",
    "coaching",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # A database lock that outlasts its timeout is a 503 with Retry-After, not a 500.
    "config.busy.DatabaseBusyMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context.role",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the server read while an import or the coaching batch writes; IMMEDIATE makes a
    # transaction take the write lock up front, so concurrent writers wait (up to the timeout)
    # instead of failing with "database is locked" when a read turns into a write.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_BACKEND",
            default="django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTHENTICATION_BACKENDS = [
    # Counts failed logins per username and address, and refuses them after AXES_FAILURE_LIMIT.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)
# Per (username, address): one attacker cannot lock a user out for everyone behind the same proxy.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# ...and per address, whatever the usernames (password spraying): config.auth.AxesHandler.
AXES_ADDRESS_FAILURE_LIMIT = env.int("AXES_ADDRESS_FAILURE_LIMIT", default=30)
AXES_HANDLER = "config.auth.AxesHandler"
# REMOTE_ADDR, or X-Forwarded-For as written by the TRUSTED_PROXY_COUNT proxies in front.
AXES_CLIENT_IP_CALLABLE = "config.auth.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

# Everything the pages need is served by the app itself: no CDN, no inline script or style.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Production over HTTPS (`check --deploy` is clean with these set); the laptop mode needs none.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# Behind a reverse proxy that sets X-Forwarded-Proto and X-Forwarded-For (overwriting any a client
# sent): TRUST_PROXY_HEADERS=true, and TRUSTED_PROXY_COUNT if more than one proxy is in the chain.
# Unset, those headers are ignored: a client could write anything into them.
TRUST_PROXY_HEADERS = env.bool("TRUST_PROXY_HEADERS", default=False)
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1 if TRUST_PROXY_HEADERS else 0)
_proxy_ssl_header = env.list(
    "SECURE_PROXY_SSL_HEADER",
    default=["HTTP_X_FORWARDED_PROTO", "https"] if TRUST_PROXY_HEADERS else [],
)
SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl_header) if _proxy_ssl_header else None
# The OpenAPI schema and Swagger UI: public in the laptop mode, signed-in users only otherwise.
API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", default=DEBUG)
# API tokens older than this many days are refused (0: they never expire).
API_TOKEN_MAX_AGE_DAYS = env.int("API_TOKEN_MAX_AGE_DAYS", default=0)
# `demo` and `quickstart --reset-demo` overwrite data and set the public demo password: only in
# the laptop mode unless allowed here (each still refuses a database holding non-demo data).
DEMO_COMMANDS_ALLOWED = env.bool("DEMO_COMMANDS_ALLOWED", default=DEBUG)

# One cache for every process (DRF throttle counters, cached reports): CACHE_URL or REDIS_URL,
# e.g. redis://127.0.0.1:6379/1; unset, each process keeps its own in memory.
CACHES = {
    "default": env.cache_url("CACHE_URL", default=env.str("REDIS_URL", default="locmemcache://"))
}

# --- REST API -----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an anonymous call then gets 401 with a WWW-Authenticate header.
        "config.auth.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "config.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
    # Throttles key anonymous callers by address: never by a client-written X-Forwarded-For.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("API_THROTTLE_RATE", default="2000/hour"),
        "token": env.str("API_TOKEN_THROTTLE_RATE", default="20/minute"),  # password guesses
    },
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_VERSIONING_CLASS": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ROR Coach API",
    "DESCRIPTION": "Scores in, coaching out. Every list and object is scoped to the caller's role "
    "and stores or regions; another store's object answers 404.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["config.auth.ApiDocsPermission"],  # reads API_DOCS_PUBLIC per request
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# SMTP when EMAIL_HOST is set, else the console (the laptop mode prints the mail).
EMAIL_HOST = env.str("EMAIL_HOST", default="")
EMAIL_PORT = env.int("EMAIL_PORT", default=587)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=bool(EMAIL_HOST))
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="ROR Coach <coach@localhost>")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)

# --- Celery: unset broker = run every task eagerly, in-process -------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Time limits and the broker's visibility timeout: see after COACH_BATCH_CHUNK below.

# --- Scoring --------------------------------------------------------------------------------
# A score built from fewer responses than this is shown but marked low confidence.
SCORING_MIN_RESPONSES = env.int("SCORING_MIN_RESPONSES", default=5)
# A week-over-week change is "significant" when larger than this many standard deviations of
# the store's own week-to-week changes over the last SCORING_NOISE_WEEKS weeks.
SCORING_NOISE_SIGMAS = env.float("SCORING_NOISE_SIGMAS", default=2.0)
SCORING_NOISE_WEEKS = env.int("SCORING_NOISE_WEEKS", default=12)
# ...but never less than this many points, so a perfectly flat history doesn't flag every wobble.
SCORING_NOISE_FLOOR = env.float("SCORING_NOISE_FLOOR", default=1.0)
# Import batches: rows per INSERT; bounded so memory stays flat whatever the file size.
SCORING_IMPORT_BATCH = env.int("SCORING_IMPORT_BATCH", default=5000)
# Score integrity: how many weeks back a person (web, API) may date questionnaire responses and
# imports (system writes with no user, such as commands and the demo, are exempt), and how many
# respondents one questionnaire submission may carry.
SCORE_BACKDATE_WEEKS = env.int("SCORE_BACKDATE_WEEKS", default=8)
SCORE_MAX_RESPONDENTS = env.int("SCORE_MAX_RESPONDENTS", default=500)
# --- Pulse (scoring.pulse): questions per answer; team results hidden below a count ----------
PULSE_QUESTIONS = env.int("PULSE_QUESTIONS", default=4)
PULSE_MIN_STAFF_ANSWERS = env.int("PULSE_MIN_STAFF_ANSWERS", default=5)
PULSE_COMMENT_CHARS = env.int("PULSE_COMMENT_CHARS", default=500)
# Refused (429) beyond the rates, kept uncounted beyond the daily caps; counters in CACHE_URL.
PULSE_ADDRESS_RATE = env.str("PULSE_ADDRESS_RATE", default="30/10m")
PULSE_STORE_RATE = env.str("PULSE_STORE_RATE", default="600/h")
PULSE_DEVICE_RATE = env.str("PULSE_DEVICE_RATE", default="120/10m")
PULSE_ADDRESS_DAILY_CAP = env.int("PULSE_ADDRESS_DAILY_CAP", default=5)
PULSE_DEVICE_DAILY_CAP = env.int("PULSE_DEVICE_DAILY_CAP", default=400)
PULSE_ROLL_SECONDS = env.int("PULSE_ROLL_SECONDS", default=30)  # answers to scores, at most
PULSE_KIOSK_RESET_SECONDS = env.int("PULSE_KIOSK_RESET_SECONDS", default=6)

# Hostile uploads cost nothing: score and KPI imports refuse lines over IMPORT_MAX_LINE_BYTES (a
# row error) and files over IMPORT_MAX_UPLOAD_MB on the web page and the API (commands take any
# size), and keep the first IMPORT_MAX_ERRORS row errors plus a count of the rest. On SQLite a web
# or API import holds the one write lock until it ends, so it takes at most
# SQLITE_WEB_IMPORT_MAX_ROWS rows (larger files: `manage.py import_scores`, or PostgreSQL).
IMPORT_MAX_LINE_BYTES = env.int("IMPORT_MAX_LINE_BYTES", default=4096)
IMPORT_MAX_UPLOAD_MB = env.int("IMPORT_MAX_UPLOAD_MB", default=100)
IMPORT_MAX_ERRORS = env.int("IMPORT_MAX_ERRORS", default=100)
SQLITE_WEB_IMPORT_MAX_ROWS = env.int("SQLITE_WEB_IMPORT_MAX_ROWS", default=50_000)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}, "axes": {"level": "WARNING"}},
}

# --- Coaching and the LLM ---------------------------------------------------------------------
# Active goals a manager may hold per store (each one goes into every weekly plan's prompt).
GOALS_PER_MANAGER = env.int("GOALS_PER_MANAGER", default=10)
OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="")
OPENAI_BASE_URL = env.str("OPENAI_BASE_URL", default="")
OPENAI_MODEL = env.str("OPENAI_MODEL", default="gpt-4o-mini")
OPENAI_TIMEOUT = env.float("OPENAI_TIMEOUT", default=60.0)  # a plan taking over a minute has failed
# SDK-level retries stay at 0-1: the coaching batch and the Celery task own the backoff.
OPENAI_MAX_RETRIES = env.int("OPENAI_MAX_RETRIES", default=0)
# parse | json_schema | json_object | auto: servers differ in what they support. auto tries them in
# that order, moving on when the server refuses one, and keeps the first that works per server.
COACH_LLM_MODE = env.str("COACH_LLM_MODE", default="auto")
# Per answer: max_completion_tokens, and max_tokens beyond api.openai.com (a refused one is dropped).
COACH_MAX_COMPLETION_TOKENS = env.int("COACH_MAX_COMPLETION_TOKENS", default=1500)
# `playbook` or `openai`; empty: openai when a base URL or key is configured, else playbook.
COACH_LLM_PROVIDER = env.str("COACH_LLM_PROVIDER", default="")
COACH_LLM_CONCURRENCY = env.int("COACH_LLM_CONCURRENCY", default=32)
# Attempts per plan on 429/5xx/timeouts before the playbook coach stands in.
COACH_LLM_ATTEMPTS = env.int("COACH_LLM_ATTEMPTS", default=3)
COACH_LLM_BACKOFF_SECONDS = env.float("COACH_LLM_BACKOFF_SECONDS", default=2.0)
# USD per million tokens (input/output[/cached input]) for each logged call's cost, by model:
# COACH_PRICES="my-model=0.5/1.5/0.25,other=0/0" adds to or overrides OpenAI's list prices below
# (2026-11). A model not listed (a local server) costs COACH_PRICE_*_PER_MTOK: 0 unless set.
COACH_PRICES = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
} | {
    name.strip(): tuple(float(p) for p in prices.split("/"))
    for name, prices in (
        pair.split("=") for pair in env.list("COACH_PRICES", default=[]) if "=" in pair
    )
}
COACH_PRICE_INPUT_PER_MTOK = env.float("COACH_PRICE_INPUT_PER_MTOK", default=0.0)
COACH_PRICE_OUTPUT_PER_MTOK = env.float("COACH_PRICE_OUTPUT_PER_MTOK", default=0.0)
# off | openai: the weekly batch's first questions through OpenAI's Batch API, awaited this long
# (looking every POLL s); plans not answered by then get the playbook's. docs/coaching.md.
COACH_LLM_BATCH = env.str("COACH_LLM_BATCH", default="off")
COACH_LLM_BATCH_DEADLINE_SECONDS = env.int("COACH_LLM_BATCH_DEADLINE_SECONDS", default=3600)
COACH_LLM_BATCH_POLL_SECONDS = env.int("COACH_LLM_BATCH_POLL_SECONDS", default=30)
_batch_wait = COACH_LLM_BATCH_DEADLINE_SECONDS if COACH_LLM_BATCH == "openai" else 0
# A run reserves each plan before asking the LLM; another run's reservation is honoured this long
# (then its run is taken for dead): longer than one plan's LLM calls with their retries.
COACH_CLAIM_SECONDS = env.int("COACH_CLAIM_SECONDS", default=600 + _batch_wait)
# Plans are generated on Monday at this local hour in each store's time zone.
COACH_SCHEDULE_HOUR = env.int("COACH_SCHEDULE_HOUR", default=6)
# Managers per Celery task when the week fans out: a few times COACH_LLM_CONCURRENCY, so the
# per-task cost of loading the week (about 0.3 s for a 2,000-store chain) is spread thin, and
# small enough that the task's time limit, hence the redelivery of a dead worker's task, is short.
COACH_BATCH_CHUNK = env.int("COACH_BATCH_CHUNK", default=64)
# A store whose Monday run was missed (beat or broker down) is caught up by a later hourly tick
# for this long after its COACH_SCHEDULE_HOUR: its pairs without a plan or a live claim.
COACH_CATCHUP_HOURS = env.int("COACH_CATCHUP_HOURS", default=48)
# Worst case for one plan: the question and its repair time out on every attempt, 60 s backoffs.
COACH_PLAN_WORST_SECONDS = env.int(
    "COACH_PLAN_WORST_SECONDS",
    default=int(2 * (COACH_LLM_ATTEMPTS * OPENAI_TIMEOUT + 60 * (COACH_LLM_ATTEMPTS - 1))),
)
# A chunk runs in waves of COACH_LLM_CONCURRENCY plans: its worst case, plus a minute to load and
# send digests (and the Batch API wait), is the soft limit; the hard limit a minute later.
_waves = -(-COACH_BATCH_CHUNK // max(1, COACH_LLM_CONCURRENCY))
CELERY_TASK_SOFT_TIME_LIMIT = env.int(
    "CELERY_TASK_SOFT_TIME_LIMIT", default=_waves * COACH_PLAN_WORST_SECONDS + 60 + _batch_wait
)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=CELERY_TASK_SOFT_TIME_LIMIT + 60)
# Redis redelivers a task whose worker died (acks_late) after this long: a bit above the hard
# limit, so a live task is never delivered twice, and a dead worker's chunks are redone promptly.
# Workers look for such tasks every tenth of it (1 to 60 s; kombu's own default is 100 s).
_visibility_timeout = env.int("CELERY_VISIBILITY_TIMEOUT", default=CELERY_TASK_TIME_LIMIT + 60)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": _visibility_timeout,
    "unacked_restore_interval": max(1, min(60, _visibility_timeout // 10)),
    "unacked_restore_throttle": 1,
}
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

CELERY_TASK_ROUTES = {"coaching.tasks.generate_plans": {"queue": "llm"}}
CELERY_BEAT_SCHEDULE = {
    # Hourly; the task picks the stores whose local time is Monday COACH_SCHEDULE_HOUR, and catches
    # up the plans a missed tick left undone (COACH_CATCHUP_HOURS).
    "weekly-coaching": {
        "task": "coaching.tasks.schedule_weekly_coaching",
        "schedule": crontab(minute=0),
    },
    "lead-summaries": {
        "task": "coaching.tasks.send_lead_summaries",
        "schedule": crontab(
            minute=0, hour=env.int("LEAD_SUMMARY_HOUR_UTC", default=8), day_of_week="mon"
        ),
    },
    # A safety net: submits schedule their own roll; this catches one a lost message dropped.
    "pulse-roll": {"task": "scoring.tasks.roll_pulse", "schedule": crontab(minute="*/5")},
    "analyses": {"task": "coaching.tasks.refresh_analyses", "schedule": crontab(minute=30)},
}
