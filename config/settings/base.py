"""Settings shared by every running mode, read from the environment with django-environ.

Running modes (see README): the embedded default (SQLite, Celery tasks in-process) needs no
environment at all; production sets ``DATABASE_URL`` (PostgreSQL) and ``REDIS_URL`` (Redis as
Celery broker and cache).
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# --- Core -------------------------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS: list[str] = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    # First, so that its admin templates (Spanish branding, language switch) take precedence.
    "registry",
    "registry.apps.RegistryAdminConfig",  # django.contrib.admin with RegistryAdminSite
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "farmers",
    "titles",
    "markets",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "registry.middleware.SpanishFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "registry.middleware.ApiErrorMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------
# Embedded default: a SQLite file under var/. Production: DATABASE_URL=postgres://...
DATABASE_URL = env("DATABASE_URL", default="") or f"sqlite:///{VAR_DIR / 'registry.sqlite3'}"
DATABASES = {"default": environ.Env.db_url_config(DATABASE_URL)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # WAL lets readers and a writer work at once; IMMEDIATE avoids lock upgrades.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and Celery -------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="registry"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://localhost//"
# Without a broker the embedded default runs every task in-process, right away.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = "America/Lima"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=600)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=900)
# Redis redelivers an unacknowledged task after the visibility timeout: keep it above the
# longest task's hard limit so a slow task is never run twice at once.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=CELERY_TASK_TIME_LIMIT * 4)
}
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")
# Retry policy of every task (registry.tasks.RegistryTask, the app's task_cls in config/celery.py):
# transient database/broker errors (django.db OperationalError and InterfaceError, psycopg's,
# kombu OperationalError, redis ConnectionError/TimeoutError) are retried at most 5 times with
# exponential backoff and full jitter (waits of up to 5, 10, 20, 40, 80 s, never over 600 s);
# permanent errors (ValidationError, DoesNotExist, integrity/programming errors) are not. In
# eager mode the retries run at once. Tasks are idempotent, so a retry redoes nothing twice.
# Households per task of the nightly transition sweep (farmers.tasks.sweep_range).
TRANSITION_SWEEP_CHUNK = env.int("TRANSITION_SWEEP_CHUNK", default=5000)
# Periodic jobs (Lima time). In the embedded default, `manage.py run_periodic` runs them.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "transition-nightly-sweep": {
        "task": "farmers.tasks.plan_sweep",
        "schedule": crontab(hour=2, minute=0),
    },
    # After the sweep: the annual report's stored rows (farmers.reporting.annual_snapshots).
    "annual-report-rows": {
        "task": "farmers.tasks.refresh_annual_reports",
        "schedule": crontab(hour=3, minute=15),
    },
    "markets-compliance": {
        "task": "markets.tasks.check_compliance",
        "schedule": crontab(hour=4, minute=0),
    },
    "titles-overdue-alerts": {
        "task": "titles.tasks.raise_overdue_alerts",
        "schedule": crontab(hour=5, minute=0),
    },
    "data-subject-request-alerts": {
        "task": "farmers.tasks.raise_request_alerts",
        "schedule": crontab(hour=5, minute=15),
    },
}

# --- Auth -------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

# --- Field officers' pages (/campo/) ------------------------------------------------------------
# Map tiles for the plot maps, e.g. "https://tile.openstreetmap.org/{z}/{x}/{y}.png" (empty: no base
# layer, the plots are drawn on a plain background; tests never fetch tiles).
FIELD_MAP_TILE_URL = env("FIELD_MAP_TILE_URL", default="")
FIELD_MAP_TILE_ATTRIBUTION = env("FIELD_MAP_TILE_ATTRIBUTION", default="")

# --- Internationalisation: Spanish (Peru) first, English available ----------------------------
LANGUAGE_CODE = "es-pe"
LANGUAGES = [("es", _("Spanish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# dd/mm/aaaa and the decimal comma in Spanish (config/formats/es/formats.py).
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "America/Lima"
USE_I18N = True
USE_TZ = True

# --- Static and media files -------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=str(VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- REST framework ---------------------------------------------------------------------------
API_PAGE_SIZE = 50
API_MAX_PAGE_SIZE = 100
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "registry.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["registry.api.permissions.HasScope"],
    "DEFAULT_PAGINATION_CLASS": "registry.api.pagination.CursorPagination",
    "PAGE_SIZE": API_PAGE_SIZE,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON everywhere; upload actions name MultiPartParser themselves.
    "DEFAULT_PARSER_CLASSES": ["registry.api.parsers.JSONParser"],
    "DEFAULT_THROTTLE_CLASSES": ["registry.api.throttling.ClientRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"client": env("API_THROTTLE_RATE", default="1200/min")},
    "EXCEPTION_HANDLER": "registry.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "registry.api.schema.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Alternative-development farmer registry API",
    "DESCRIPTION": (
        "Partner API (v1) of the alternative-development farmer registry. Authenticate with "
        "`Authorization: Api-Key <key>`. Every error has the shape "
        '`{"type": ..., "errors": [{"code", "detail", "attr"}]}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "HouseholdStatusEnum": "farmers.choices.HouseholdStatus",
        "VerificationStatusEnum": "farmers.choices.VerificationStatus",
        "CropEnum": "farmers.choices.Crop",
        "TitleStatusEnum": "titles.choices.TitleStatus",
        "TitleDocumentTypeEnum": "titles.choices.TitleDocumentType",
        "TitleRejectionReasonEnum": "titles.choices.RejectionReason",
        "DeliveryRejectionReasonEnum": "markets.choices.RejectionReason",
        "ContractStatusEnum": "markets.choices.ContractStatus",
        "DeliveryStatusEnum": "markets.choices.DeliveryStatus",
        "StageEnum": "farmers.choices.Stage",
        "EradicationKindEnum": "farmers.choices.EradicationKind",
        "OrganizationKindEnum": "registry.choices.OrganizationKind",
        "AppealKindEnum": "farmers.choices.AppealKind",
        "ExclusionStatusEnum": "farmers.choices.ExclusionStatus",
        "AppealStatusEnum": "farmers.choices.AppealStatus",
        "CorrectionStatusEnum": "farmers.choices.CorrectionStatus",
        "StageReviewKindEnum": "farmers.api.stage_reviews.KINDS",
        "StageReviewStatusEnum": "farmers.api.stage_reviews.STATUSES",
        "JobStatusEnum": "registry.models.jobs.JobStatus",
    },
}

# --- Logging ----------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        # One line per task is noise when tasks run in-process (embedded default); workers
        # still log failures.
        "celery.app.trace": {"level": env("CELERY_TRACE_LOG_LEVEL", default="WARNING")},
        # django-axes: failed logins and lockouts are warnings; successes are not worth a line.
        "axes": {"level": env("AXES_LOG_LEVEL", default="WARNING")},
    },
}

# --- Registry ---------------------------------------------------------------------------------
# How often (seconds) an API key's last_used_at is written at most: avoids a write per request.
API_KEY_LAST_USED_RESOLUTION = 60
# How long (seconds) a resolved API key (with its organization and area) may stay in the cache;
# every change through the ORM forgets it at once (registry.credentials), this bounds the rest.
API_KEY_CACHE_SECONDS = env.int("API_KEY_CACHE_SECONDS", default=300)
# On PostgreSQL, outside a transaction, a read's access-log row is committed by a writer thread
# while the response renders; the response waits for it (registry/accesslog_writer.py).
ACCESS_LOG_WRITER = env.bool("ACCESS_LOG_WRITER", default=True)

# --- Brute-force protection (README "Security › Brute-force protection") ------------------------
# Logins (admin and /campo/): django-axes, database handler (no Redis needed). A (username,
# address) pair is locked after AXES_FAILURE_LIMIT failures for LOGIN_LOCKOUT_MINUTES; other
# users and other addresses are not affected. A success resets the pair's count.
INSTALLED_APPS += ["axes"]
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_LOCKOUT_MINUTES = env.int("LOGIN_LOCKOUT_MINUTES", default=15)
AXES_COOLOFF_TIME = "registry.bruteforce.login_cool_off"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "registry.bruteforce.lockout_response"
AXES_CLIENT_IP_CALLABLE = "registry.bruteforce.client_address"
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address"]
# Proxies in front of Django that append to X-Forwarded-For (0: trust REMOTE_ADDR only). The
# same number feeds DRF's NUM_PROXIES, so the API throttles and the login lockout agree.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
REST_FRAMEWORK["NUM_PROXIES"] = TRUSTED_PROXY_COUNT
# Invalid API keys: at most API_KEY_FAILURE_LIMIT failures per client address per window of
# API_KEY_FAILURE_WINDOW seconds, then 429 `too_many_failed_attempts` until the window ends.
API_KEY_FAILURE_LIMIT = env.int("API_KEY_FAILURE_LIMIT", default=20)
API_KEY_FAILURE_WINDOW = env.int("API_KEY_FAILURE_WINDOW", default=600)
# The field app's duplicate check (/campo/duplicados/): checks per person per window.
DUPLICATE_CHECK_LIMIT = env.int("DUPLICATE_CHECK_LIMIT", default=30)
DUPLICATE_CHECK_WINDOW = env.int("DUPLICATE_CHECK_WINDOW", default=600)

# --- Security headers, sessions and API docs (issue 13: headers and sessions) ---------------
# Kept in one block (it also inserts its middleware) so that other settings merge cleanly.
# Content-Security-Policy (django-csp): everything comes from this site. Scripts only from
# static files (no inline script anywhere; a template that needs one uses request.csp_nonce).
# Inline *styles* are allowed: the admin, the SVG charts, Swagger UI and ReDoc set them, and a
# style cannot run code. The only other origin is the optional map-tile server of the field app.
from urllib.parse import urlsplit as _urlsplit  # noqa: E402

from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE  # noqa: E402


def _tile_origin(url: str) -> list[str]:
    """``https://{s}.tile.example.org/{z}/{x}/{y}.png`` → ``["https://*.tile.example.org"]``."""
    if not url:
        return []
    parts = _urlsplit(url.replace("{s}", "*"))
    return [f"{parts.scheme}://{parts.netloc}"] if parts.scheme and parts.netloc else []


CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", *_tile_origin(FIELD_MAP_TILE_URL)],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "worker-src": [SELF, "blob:"],  # the field app's service worker; ReDoc's search worker
        "manifest-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# Permissions-Policy (django-permissions-policy): the field app reads the phone's GPS; photos
# come from a file input (the camera app), which needs no camera permission.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    "accelerometer": [],
    "autoplay": [],
    "camera": [],
    "display-capture": [],
    "geolocation": ["self"],
    "gyroscope": [],
    "magnetometer": [],
    "microphone": [],
    "midi": [],
    "payment": [],
    "usb": [],
}
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Sessions: signed out after a period without requests, and after an absolute maximum age
# (registry.sessions.SessionTimeoutMiddleware). Staff (the admin) get a short idle timeout;
# field officers a working day, because they work offline for hours: their outbox keeps records
# on the phone and sends them after they sign in again.
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=30 * 60)
SESSION_FIELD_IDLE_TIMEOUT = env.int("SESSION_FIELD_IDLE_TIMEOUT", default=10 * 3600)
SESSION_COOKIE_AGE = env.int("SESSION_MAX_AGE", default=12 * 3600)  # absolute maximum
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# The OpenAPI schema and the API docs: public, or only for signed-in people and valid keys.
API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", default=True)

_after_auth = MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1
MIDDLEWARE = [
    MIDDLEWARE[0],  # SecurityMiddleware
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    *MIDDLEWARE[1:_after_auth],
    "registry.sessions.SessionTimeoutMiddleware",
    *MIDDLEWARE[_after_auth:],
]
INSTALLED_APPS = [*INSTALLED_APPS, "csp"]

# --- Degraded mode without Redis and the transactional outbox (issue 13) -----------------------
# Redis (cache and broker) may go down; the database is the core. Cache calls fail fast (a
# request never hangs on Redis), the API throttle then counts per process, after-commit
# publishes wait in the outbox (registry.outbox) and /healthz answers "degraded".
REDIS_SOCKET_CONNECT_TIMEOUT = env.float("REDIS_SOCKET_CONNECT_TIMEOUT", default=0.5)
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=0.5)
if REDIS_URL:
    CACHES["default"]["OPTIONS"] = {
        "socket_connect_timeout": REDIS_SOCKET_CONNECT_TIMEOUT,
        "socket_timeout": REDIS_SOCKET_TIMEOUT,
    }
# The broker connects fast or fails; its read timeout stays kombu's (workers block on BRPOP).
CELERY_BROKER_TRANSPORT_OPTIONS["socket_connect_timeout"] = REDIS_SOCKET_CONNECT_TIMEOUT
# Warnings about a degraded component: at most one line per interval (seconds), with a count.
DEGRADED_LOG_INTERVAL = env.int("DEGRADED_LOG_INTERVAL", default=60)
# After a cache or broker failure, the request path skips it for this long (seconds).
DEGRADED_RETRY_AFTER = env.float("DEGRADED_RETRY_AFTER", default=10.0)
# The after-commit hand-off to Celery retries briefly, then leaves the message to the relay.
OUTBOX_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
# Seconds a fresh message is left to its after-commit hand-off before the relay may take it.
OUTBOX_RELAY_GRACE = env.int("OUTBOX_RELAY_GRACE", default=30)
OUTBOX_RELAY_CHUNK = env.int("OUTBOX_RELAY_CHUNK", default=200)
# Retry backoff of a failed message: base * 2^(attempts-1) seconds, capped.
OUTBOX_BACKOFF_BASE = env.int("OUTBOX_BACKOFF_BASE", default=30)
OUTBOX_BACKOFF_MAX = env.int("OUTBOX_BACKOFF_MAX", default=3600)
OUTBOX_RETENTION_DAYS = env.int("OUTBOX_RETENTION_DAYS", default=7)
# /healthz reports the outbox as "backlog" when its oldest pending message is older than this.
OUTBOX_BACKLOG_WARN_SECONDS = env.int("OUTBOX_BACKLOG_WARN_SECONDS", default=300)
CELERY_BEAT_SCHEDULE["outbox-relay"] = {
    "task": "registry.tasks.relay_outbox",
    "schedule": 60.0,
}
CELERY_BEAT_SCHEDULE["outbox-prune"] = {
    "task": "registry.tasks.prune_outbox",
    "schedule": crontab(hour=3, minute=30),
}

# --- Webhooks (issue 19, registry.webhooks, docs/webhooks.md) --------------------------------
# Targets must be HTTPS on public addresses; True allows plain-HTTP loopback targets too (the
# embedded default and tests; production.py sets it False).
WEBHOOK_ALLOW_LOOPBACK_HTTP = env.bool("WEBHOOK_ALLOW_LOOPBACK_HTTP", default=True)
# Seconds to connect and read one answer.
WEBHOOK_TIMEOUT = env.float("WEBHOOK_TIMEOUT", default=10.0)
# Retries: base * 2^(attempts-1) seconds, capped, with jitter (75-100 %), for this many seconds
# after the first attempt; then the delivery is dead-lettered.
WEBHOOK_BACKOFF_BASE = env.int("WEBHOOK_BACKOFF_BASE", default=30)
WEBHOOK_BACKOFF_MAX = env.int("WEBHOOK_BACKOFF_MAX", default=3600)
WEBHOOK_RETRY_WINDOW = env.int("WEBHOOK_RETRY_WINDOW", default=24 * 3600)
# Deliveries attempted per retry run (beat, every minute).
WEBHOOK_RETRY_CHUNK = env.int("WEBHOOK_RETRY_CHUNK", default=100)
# Seconds the previous secret still signs after a rotation.
WEBHOOK_SECRET_ROTATION_GRACE = env.int("WEBHOOK_SECRET_ROTATION_GRACE", default=24 * 3600)
# Events (with their deliveries and attempts) older than this are deleted (daily).
WEBHOOK_RETENTION_DAYS = env.int("WEBHOOK_RETENTION_DAYS", default=30)
CELERY_BEAT_SCHEDULE["webhooks-retry"] = {
    "task": "registry.tasks.retry_webhooks",
    "schedule": 60.0,
}
CELERY_BEAT_SCHEDULE["webhooks-prune"] = {
    "task": "registry.tasks.prune_webhooks",
    "schedule": crontab(hour=3, minute=45),
}

# The files of finished export and import jobs (personal data) are deleted after this many days;
# the jobs stay in the history (``registry.jobs.prune_files``).
JOB_FILE_RETENTION_DAYS = env.int("JOB_FILE_RETENTION_DAYS", default=7)
CELERY_BEAT_SCHEDULE["export-files-prune"] = {
    "task": "registry.tasks.prune_export_files",
    "schedule": crontab(hour=3, minute=50),
}
CELERY_BEAT_SCHEDULE["import-files-prune"] = {
    "task": "farmers.tasks.prune_import_files",
    "schedule": crontab(hour=3, minute=55),
}

# --- Encrypted identifiers (issue 19 point 4, registry.crypto, docs/data-protection.md) --------
# National IDs and phones are AES-256-GCM envelopes at rest, looked up by keyed blind indexes.
# IDENTIFIER_ENCRYPTION_KEYS: comma-separated keys (URL-safe base64 of 32 bytes); the first
# encrypts, all decrypt (rotation: put the new key first, run rotate_identifier_keys, then drop
# the old one). IDENTIFIER_INDEX_KEY: the separate HMAC key of the blind indexes. Without them
# the embedded default derives fixed development keys; production refuses (check --deploy).
IDENTIFIER_ENCRYPTION_KEYS = env.list("IDENTIFIER_ENCRYPTION_KEYS", default=[])
IDENTIFIER_INDEX_KEY = env("IDENTIFIER_INDEX_KEY", default="")
IDENTIFIER_DEV_KEYS_ALLOWED = env.bool("IDENTIFIER_DEV_KEYS_ALLOWED", default=True)
# Nothing personal in logs or error reports: every log line and exception text goes through
# the redaction filter (DNI, CE and phone numbers replaced), and the error reports Django
# builds (500 e-mails, a Sentry-like reporter fed by them) mask identifiers in request data and
# frame variables.
LOGGING["filters"] = {"personal_data": {"()": "registry.redaction.PersonalDataFilter"}}
LOGGING["handlers"]["console"]["filters"] = ["personal_data"]  # type: ignore[index]
DEFAULT_EXCEPTION_REPORTER_FILTER = "registry.redaction.PersonalDataReporterFilter"
DEFAULT_EXCEPTION_REPORTER = "registry.redaction.PersonalDataExceptionReporter"

# --- Exports (issue 18 point 5, registry.exporting, docs/api.md "Exports") --------------------
# An admin export of up to this many rows downloads at once; a larger one runs as a job.
EXPORT_INLINE_MAX_ROWS = env.int("EXPORT_INLINE_MAX_ROWS", default=5000)
# Seconds a download link of a finished export keeps working.
EXPORT_LINK_MAX_AGE = env.int("EXPORT_LINK_MAX_AGE", default=3600)
# An export job may run longer than other tasks (~1,300-1,700 rows/s on the 2-core machine:
# 1M rows in about 10-13 minutes); kept below the broker's visibility timeout so a running
# export is never handed to a second worker.
EXPORT_TASK_SOFT_TIME_LIMIT = env.int("EXPORT_TASK_SOFT_TIME_LIMIT", default=3000)
EXPORT_TASK_TIME_LIMIT = EXPORT_TASK_SOFT_TIME_LIMIT + 120
CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] = max(
    CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"], EXPORT_TASK_TIME_LIMIT + 300
)

# Household imports (``farmers.importing``): background jobs, checked then imported in chunks.
# The ceiling is what one job does in a few minutes (50,000 families ≈ 200,000 rows in about a
# minute on PostgreSQL: README, "Import benchmark").
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=200_000)
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=100 * 1024 * 1024)
IMPORT_CHUNK_HOUSEHOLDS = env.int("IMPORT_CHUNK_HOUSEHOLDS", default=2000)
