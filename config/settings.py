"""ROR Coach settings: every knob comes from the environment (see the README's configuration table).

With nothing set, the project runs embedded: SQLite in the project folder, Celery tasks run eagerly
and the offline playbook coach writes the coaching.
"""

from pathlib import Path

import environ

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
    # The browser's language; `UserLanguageMiddleware` then puts the user's or store's first.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "config.locale.UserLanguageMiddleware",
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
# The languages people can choose (`scoring.languages`); each has a catalogue under locale/.
LANGUAGES = [("en", "English"), ("fr", "Français"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
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

from config.settings_coaching import *  # noqa: E402, F403  (coaching, LLM, beat schedule)
