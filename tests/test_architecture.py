"""The house style's dependency direction (``registry`` ← ``farmers`` ← ``titles``, ``markets``)
checked on the source: every import of every module of the four apps, at any level (inside
functions and ``TYPE_CHECKING`` blocks too), relative ones resolved; the apps' tests and
migrations are left out. ``importlib.import_module("…")`` with a literal name counts as an import.
A lower app that needs a higher one's facts takes a provider registered from ``AppConfig.ready()``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APPS = ("registry", "farmers", "titles", "markets")
# app → the project apps it must never import
FORBIDDEN: dict[str, frozenset[str]] = {
    "registry": frozenset({"farmers", "titles", "markets"}),
    "farmers": frozenset({"titles", "markets"}),
    "titles": frozenset({"markets"}),
    "markets": frozenset({"titles"}),
}
SKIPPED_DIRS = {"tests", "migrations", "__pycache__"}


def app_modules(app: str, root: Path = ROOT) -> Iterator[Path]:
    """Every ``.py`` file of ``app`` outside its tests and migrations."""
    for path in sorted((root / app).rglob("*.py")):
        parts = path.relative_to(root / app).parts
        if SKIPPED_DIRS.isdisjoint(parts[:-1]) and not parts[-1].startswith("test"):
            yield path


def _package_of(path: Path, root: Path) -> list[str]:
    """The dotted package a module's relative imports start from, as a list of names."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    return parts[:-1]


def _called_name(func: ast.expr) -> str:
    """``import_module`` for ``importlib.import_module(…)`` or ``import_module(…)``."""
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def imported_modules(path: Path, root: Path = ROOT) -> Iterator[tuple[int, str]]:
    """``(line, absolute module name)`` of every import in the file at ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = _package_of(path, root)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            if module:
                yield node.lineno, module
            else:  # ``from . import x`` at the top of the tree
                for alias in node.names:
                    yield node.lineno, alias.name
        elif (
            isinstance(node, ast.Call)
            and (
                (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                or (
                    isinstance(node.func, ast.Name)
                    and node.func.id in {"import_module", "__import__"}
                )
            )
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value


def violations(root: Path = ROOT) -> list[str]:
    """One line per import against the direction: ``file:line: app imports module``."""
    found = []
    for app, forbidden in FORBIDDEN.items():
        for path in app_modules(app, root):
            for line, module in imported_modules(path, root):
                top = module.split(".", 1)[0]
                if top in forbidden:
                    where = path.relative_to(root)
                    found.append(
                        f"{where}:{line}: {app!r} imports {module!r} "
                        f"(forbidden: {app} must not import {', '.join(sorted(forbidden))})"
                    )
    return sorted(set(found))


def test_imports_follow_the_dependency_direction() -> None:
    found = violations()
    assert not found, (
        "Imports against the dependency direction registry ← farmers ← titles, markets "
        "(register a provider from the higher app's AppConfig.ready() instead):\n"
        + "\n".join(found)
    )


def test_every_app_is_read() -> None:
    for app in APPS:
        modules = list(app_modules(app))
        # The app's models module (``models.py``, or a ``models/`` package past ~400 lines).
        assert any(
            p.parts[-2:] in {(app, "models.py"), ("models", "__init__.py")} for p in modules
        ), app
        assert not any("migrations" in p.parts or "tests" in p.parts for p in modules)


@pytest.mark.parametrize(
    ("app", "relative", "source", "expected"),
    [
        ("registry", "registry/x.py", "def f():\n    from farmers import models\n", "farmers"),
        ("farmers", "farmers/sub/x.py", "import titles.services as t\n", "titles.services"),
        ("farmers", "farmers/x.py", "from ..markets import selectors\n", "markets"),
        ("titles", "titles/x.py", "from markets.models import Contract\n", "markets.models"),
        ("markets", "markets/x.py", "if 1:\n    import_module('titles.tasks')\n", "titles.tasks"),
    ],
)
def test_a_forbidden_import_is_named_with_file_line_and_module(
    tmp_path: Path, app: str, relative: str, source: str, expected: str
) -> None:
    for name in APPS:
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("")
        (tmp_path / name / "models.py").write_text("from django.db import models\n")
    target = tmp_path / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    (target.parent / "__init__.py").touch()
    target.write_text(source)
    # Allowed directions and the apps' own tests and migrations are not reported.
    (tmp_path / "titles" / "ok.py").write_text("from farmers.models import Household\n")
    (tmp_path / "registry" / "migrations").mkdir()
    (tmp_path / "registry" / "migrations" / "0001.py").write_text("import farmers\n")
    found = violations(tmp_path)
    line = source.count("\n", 0, source.index(expected.split(".")[0])) + 1
    forbidden = ", ".join(sorted(FORBIDDEN[app]))
    assert found == [
        f"{relative}:{line}: {app!r} imports {expected!r} "
        f"(forbidden: {app} must not import {forbidden})"
    ]
