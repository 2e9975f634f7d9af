"""The kernel's shared helpers: month arithmetic and the admin toolkit (one copy for every app)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from registry.admin_toolkit import stream_csv
from registry.dates import add_months


def test_add_months_clamps_and_crosses_years_both_ways() -> None:
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)
    assert add_months(date(2026, 1, 15), -1) == date(2025, 12, 15)
    assert add_months(date(2026, 11, 28), -18) == date(2025, 5, 28)
    assert add_months(date(2026, 12, 1), 13) == date(2028, 1, 1)
    assert add_months(date(2026, 5, 5), 0) == date(2026, 5, 5)


def test_the_apps_use_the_kernel_month_arithmetic() -> None:
    from farmers.transition import rules
    from titles import clock

    assert rules.add_months is add_months
    assert clock.add_months is add_months


def test_stream_csv_writes_the_header_then_each_row_as_read() -> None:
    read: list[int] = []

    def rows() -> Iterator[list[object]]:
        for n in (1, 2):
            read.append(n)
            yield [n, 'a "quoted", value', date(2026, 1, 2)]

    response = stream_csv(["id", "text", "on"], rows(), "x.csv")
    assert read == []  # nothing read before the response is streamed
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="x.csv"'
    body = b"".join(response.streaming_content).decode()  # type: ignore[arg-type]
    assert body == (
        'id,text,on\r\n1,"a ""quoted"", value",2026-01-02\r\n2,"a ""quoted"", value",2026-01-02\r\n'
    )


def test_the_apps_use_the_kernel_read_only_inline() -> None:
    from farmers import admin as farmers_admin
    from markets import admin as markets_admin
    from registry.admin_toolkit import ReadOnlyInline
    from titles import admin as titles_admin

    for module in (farmers_admin, markets_admin, titles_admin):
        inlines = [
            v
            for v in vars(module).values()
            if isinstance(v, type) and v.__name__.endswith("Inline") and v is not ReadOnlyInline
        ]
        assert inlines and all(issubclass(i, ReadOnlyInline) for i in inlines), module.__name__
        assert "ReadOnlyInline" not in vars(module) or module.ReadOnlyInline is ReadOnlyInline


def test_the_kernel_bumps_versions_only_through_touch() -> None:
    """``VersionedModel.touch()`` (or ``next_version``) is the one way the kernel writes a new
    version: no hand-written ``version += 1`` or ``F("version") + 1`` in registry/."""
    root = Path(__file__).resolve().parents[2] / "registry"
    bases = root / "models" / "bases.py"
    found = [
        f"{path.relative_to(root)}:{number}"
        for path in root.rglob("*.py")
        if "migrations" not in path.parts and path != bases
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"version\s*\+=|F\(\s*[\"']version[\"']\s*\)\s*\+", line)
    ]
    assert not found, found
