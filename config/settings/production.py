"""Production: PostgreSQL (DATABASE_URL), Redis (REDIS_URL), gunicorn, Celery worker and beat."""

from .base import *  # noqa: F403
from .base import REST_FRAMEWORK, env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# WhiteNoise serves the collected static files right after the security middleware.
MIDDLEWARE = [*MIDDLEWARE[:1], "whitenoise.middleware.WhiteNoiseMiddleware", *MIDDLEWARE[1:]]  # noqa: F405

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Security: TLS terminates at the proxy, which sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Webhook targets: HTTPS on public addresses only (docs/webhooks.md, "Targets and SSRF").
WEBHOOK_ALLOW_LOOPBACK_HTTP = False

# --- Brute-force protection (README "Security › Brute-force protection") ----------------------
# The TLS proxy in front appends the client's address to X-Forwarded-For: count clients by it
# (login lockout, invalid API keys, DRF throttles). The number of proxies that append to it.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1)
REST_FRAMEWORK = {**REST_FRAMEWORK, "NUM_PROXIES": TRUSTED_PROXY_COUNT}

# --- Security headers, sessions and API docs (issue 13) ----------------------------------------
# Where collectstatic writes (the release step); the smoke test points it at a temporary folder.
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=str(STATIC_ROOT))  # noqa: F405
# Key rotation: the previous key(s), comma-separated, keep existing sessions and signed values
# valid until they expire; remove them afterwards (README, "Rotating keys and secrets").
SECRET_KEY_FALLBACKS = env.list("DJANGO_SECRET_KEY_FALLBACKS", default=[])
API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", default=False)

# Encrypted identifiers: the keys must come from the environment (check --deploy fails
# without them; nothing encrypts or decrypts with the development keys).
IDENTIFIER_DEV_KEYS_ALLOWED = False
