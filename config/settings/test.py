"""Test settings: the embedded default unless DATABASE_URL / REDIS_URL point at real servers."""

import os
from urllib.parse import urlsplit, urlunsplit

# Under pytest-xdist (``config/dev.py test`` runs one process per core) each worker gets its own
# Redis database, so cache counters, locks and Celery queues of parallel tests never meet. The
# environment is changed, not only the setting, so that workers a test starts inherit it.
_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if _XDIST_WORKER.startswith("gw") and os.environ.get("REDIS_URL"):
    _url = urlsplit(os.environ["REDIS_URL"])
    _db = (int(_url.path.strip("/") or 0) + 1 + int(_XDIST_WORKER[2:])) % 16
    os.environ["REDIS_URL"] = urlunsplit(_url._replace(path=f"/{_db}"))

from .base import *  # noqa: E402, F403
from .base import DATABASES, REST_FRAMEWORK, VAR_DIR  # noqa: E402

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

# SQLite: the test database is a file (WAL, busy timeout), not memory. Django shares one
# in-memory connection among every live-server thread, and two browser requests at once (the
# field app's outbox and its duplicate check) then deadlock inside SQLite; with a file each
# thread has its own connection, as in the embedded default. One file per test process.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(exist_ok=True)
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
