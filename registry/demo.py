"""Demo-data hooks: apps register a seeder at start-up; ``seed_demo`` runs them in order.

The kernel never imports the apps (STYLE.md): ``farmers`` adds its families from its
``AppConfig.ready()``.
"""

from __future__ import annotations

from collections.abc import Callable

Writer = Callable[[str], None]
_SEEDERS: list[Callable[[Writer], None]] = []


def register_seeder(seeder: Callable[[Writer], None]) -> None:
    """Add a demo seeder (idempotent: registering the same function twice keeps one)."""
    if seeder not in _SEEDERS:
        _SEEDERS.append(seeder)


def run_seeders(write: Writer) -> None:
    """Run every registered seeder; each must be idempotent."""
    for seeder in _SEEDERS:
        seeder(write)
