"""Test settings: the embedded default unless DATABASE_URL / REDIS_URL point at real servers."""

from .base import *  # noqa: F403
from .base import REST_FRAMEWORK

DEBUG = False
SECRET_KEY = "test-only-insecure-key"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
# Tasks run in-process in tests unless a test starts a real worker on purpose.
CELERY_TASK_ALWAYS_EAGER = True
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {"client": "100000/min"},
}

# Brute-force counters live in the shared cache, which tests do not clear: the tests of those
# limits set their own low values (see tests/registry/test_bruteforce.py).
API_KEY_FAILURE_LIMIT = 100000
DUPLICATE_CHECK_LIMIT = 100000
