"""Developer tools of the kernel, apart from the runtime modules: demo data and its hooks.

Apps register a demo seeder at start-up (``register_seeder``); ``seed_demo``
(``registry.devtools.demo``) writes the kernel's organizations, people and key, then runs the
seeders in order. The kernel never imports the apps (STYLE.md): ``farmers`` adds its families
from its ``AppConfig.ready()``.
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
