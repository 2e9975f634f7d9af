"""Duplicate-code check: code repeated across apps, found by pylint's similarity checker.

Reads every module of registry/, farmers/, titles/ and markets/ (tests and migrations left out),
finds the repeated blocks of at least ``--min-lines`` lines as pylint's ``duplicate-code`` does
(imports, docstrings, comments and signatures ignored), and counts the blocks whose two sides lie
in different apps: a rule written twice instead of once in the kernel. Prints each one and exits
1 when there are more than ``--max``. Repeats inside one app are the app's own business and are
not counted. Run from the repository root: ``.venv/bin/python .ci/duplicate_code.py``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pylint.checkers.symilar import Symilar

ROOT = Path(__file__).resolve().parent.parent
APPS = ("registry", "farmers", "titles", "markets")
SKIPPED = {"migrations", "tests", "__pycache__"}


def modules() -> list[Path]:
    """The apps' Python modules, tests and migrations left out."""
    found = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if not SKIPPED & set(path.relative_to(ROOT).parts):
                found.append(path)
    return found


def cross_app_blocks(min_lines: int) -> list[tuple[int, list[tuple[str, int, int]]]]:
    """``(lines, [(module, first, last), ...])`` for each repeated block spanning two apps."""
    symilar = Symilar(
        min_lines=min_lines,
        ignore_comments=True,
        ignore_docstrings=True,
        ignore_imports=True,
        ignore_signatures=True,
    )
    for path in modules():
        with path.open(encoding="utf-8") as stream:
            symilar.append_stream(str(path.relative_to(ROOT)), stream)
    blocks = []
    for lines, couples in symilar._compute_sims():  # pylint's own grouping of the report
        sides = sorted((lineset.name, int(start) + 1, int(end)) for lineset, start, end in couples)
        if len({name.split("/", 1)[0] for name, _, _ in sides}) > 1:
            blocks.append((lines, sides))
    return blocks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--min-lines", type=int, default=4, help="shortest block counted (4, pylint's default)"
    )
    parser.add_argument("--max", type=int, default=10, help="most cross-app blocks allowed (10)")
    options = parser.parse_args()
    blocks = cross_app_blocks(options.min_lines)
    out = sys.stdout
    for lines, sides in blocks:
        out.write(f"{lines} similar lines:\n")
        for name, first, last in sides:
            out.write(f"    {name}:{first}-{last}\n")
    passed = len(blocks) <= options.max
    out.write(
        f"{'OK' if passed else 'FAIL'}: {len(blocks)} repeated blocks across apps "
        f"(at most {options.max} allowed)\n"
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
