#!/usr/bin/env python3
"""The README's two commands, with nothing but Python 3.11+ installed.

    python3 config/dev.py run    # venv, install, migrate, reference + demo data, serve :8000
    python3 config/dev.py test   # venv, install dev tools, run the whole test suite

``test`` honours DATABASE_URL and REDIS_URL (PostgreSQL + Redis); without them it uses SQLite.
Extra arguments after ``test`` go to pytest. Standard library only: it runs before any install.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def _say(message: str) -> None:
    print(f"==> {message}", flush=True)  # noqa: T201


def _run(*args: str | Path, env: dict[str, str] | None = None) -> None:
    subprocess.run([str(a) for a in args], cwd=ROOT, check=True, env=env)  # noqa: S603


def ensure_venv(requirements: str) -> None:
    """Create .venv and install ``requirements`` unless that exact file set is installed."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this script runs before any install
        sys.exit("Python 3.11 or newer is needed.")
    if not PYTHON.exists():
        _say(f"Creating a virtual environment in {VENV}")
        venv.create(VENV, with_pip=True)
    digest = hashlib.sha256()
    for name in ("requirements.txt", requirements):
        digest.update((ROOT / name).read_bytes())
    stamp = VENV / f".installed-{requirements}-{digest.hexdigest()[:16]}"
    if stamp.exists():
        return
    _say(f"Installing {requirements} (first run only)")
    _run(
        PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", requirements
    )
    for old in VENV.glob(f".installed-{requirements}-*"):
        old.unlink()
    stamp.touch()


def run() -> None:
    """Set up and serve the embedded default on http://127.0.0.1:8000."""
    ensure_venv("requirements.txt")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    (ROOT / "var").mkdir(exist_ok=True)
    _say("Migrating the database (loads INEI geography and the VRAEM flags)")
    _run(PYTHON, "manage.py", "migrate", "--verbosity", "0", env=env)
    _say("Seeding demo data")
    _run(PYTHON, "manage.py", "seed_demo", env=env)
    _say("Serving on http://127.0.0.1:8000 (Ctrl+C stops)")
    _run(PYTHON, "manage.py", "runserver", "127.0.0.1:8000", env=env)


def test(extra: list[str]) -> None:
    """Set up and run the whole test suite (SQLite, or PostgreSQL + Redis from the env)."""
    ensure_venv("requirements-dev.txt")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    database = env.get("DATABASE_URL", "") or "sqlite (embedded default)"
    _say(f"Running the tests on {database.split('@')[-1]}; Redis: {env.get('REDIS_URL') or 'none'}")
    _run(PYTHON, "-m", "pytest", *_parallel(extra), *extra, env=env)


def _parallel(extra: list[str]) -> list[str]:
    """One pytest-xdist process per core (at most 4), unless the caller chose (``-n 0``,
    ``-p no:xdist``).

    Each process has its own test database (SQLite file or PostgreSQL ``test_<name>_gwN``) and
    its own Redis database (config/settings/test.py).
    """
    if any(arg.startswith(("-n", "--numprocesses")) or arg.endswith("no:xdist") for arg in extra):
        return []
    return ["-n", str(min(os.cpu_count() or 1, 4))]


def main() -> None:
    """Dispatch ``run`` or ``test``."""
    command, *rest = sys.argv[1:] or ["help"]
    try:
        if command == "run":
            run()
        elif command == "test":
            test(rest)
        elif command == "setup":
            ensure_venv("requirements-dev.txt")
        else:
            sys.exit(__doc__)
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
