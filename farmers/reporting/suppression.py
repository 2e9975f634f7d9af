"""Small-cell suppression shared by every indicator (DESIGN.md §7, docs/indicators.md).

:func:`protect` is the one rule every metric applies before publishing:

1. **Primary**: a cell counting fewer than ``THRESHOLD`` (5) households is suppressed (its values
   set to ``None``, ``suppressed: True``; the cell itself stays listed, so its absence reveals
   nothing).
2. **Complementary**: a suppressed cell must not be recoverable by subtracting the published
   cells beside it from a published total. Every *line* — the cells along one dimension with
   the other dimensions fixed, whose sum another grouping of the same request publishes (a row
   or column total, the stage cells summing to the households served, …), plus the metric's
   own extra lines — holds either no suppressed cell or at least two. When a line holds exactly
   one, the smallest other cell of the line is suppressed too (preferring cells that are not
   alone in another line, whose total would publish them). A metric may add its own rule
   (``also``: the cost ladder's differencing rule). Lines and rules are applied again until
   nothing changes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any

THRESHOLD = 5

Cell = dict[str, Any]


def protect(
    cells: list[Cell],
    *,
    values: Sequence[str],
    count: Callable[[Cell], int],
    keys: Sequence[str],
    dims: Iterable[str],
    lines: Sequence[Callable[[Cell], Hashable | None]] = (),
    primary: Callable[[Cell], bool] | None = None,
    also: Callable[[list[Cell], list[bool]], set[int]] | None = None,
    enabled: bool = True,
) -> list[Cell]:
    """Suppress small cells of ``cells`` and their complements (in place; returns ``cells``).

    ``keys`` identify a cell (its dimensions and any other labels, e.g. ``from_stage``);
    ``dims`` are those of them whose totals are published (a line runs along each);
    ``lines`` give extra lines (cells with the same non-``None`` key form one); ``count`` is the
    households a cell counts (primary rule: under ``THRESHOLD``, unless ``primary`` is given);
    ``values`` are the fields set to ``None`` when suppressed; ``also(cells, suppressed)``
    returns further cells to suppress. Without ``enabled`` every cell is shown.
    """
    if not enabled:
        for cell in cells:
            cell["suppressed"] = False
        return cells
    is_small = primary or (lambda cell: count(cell) < THRESHOLD)
    suppressed = [is_small(cell) for cell in cells]
    groups: list[list[int]] = []
    for dim in dims:
        along: dict[tuple[Any, ...], list[int]] = defaultdict(list)
        for i, cell in enumerate(cells):
            along[tuple(cell.get(k) for k in keys if k != dim)].append(i)
        groups.extend(along.values())
    for line in lines:
        extra: dict[Hashable, list[int]] = defaultdict(list)
        for i, cell in enumerate(cells):
            key = line(cell)
            if key is not None:
                extra[key].append(i)
        groups.extend(extra.values())
    alone = {group[0] for group in groups if len(group) == 1}
    # Ties go by the cells' labels, not their order, so every grouping hides the same cells
    # (computed for the cells that are candidates only).
    labels = sorted(keys)
    order: dict[int, tuple[str, ...]] = {}

    def rank(i: int) -> tuple[bool, int, tuple[str, ...]]:
        found = order.get(i)
        if found is None:
            found = order[i] = tuple(str(cells[i].get(k)) for k in labels)
        return (i in alone, count(cells[i]), found)

    # Each line's count of suppressed cells, kept as cells are suppressed: a pass looks at the
    # lines holding exactly one (in the lines' order, as a full scan would) without walking
    # every line's cells again.
    member_of: list[list[int]] = [[] for _cell in cells]
    for g, group in enumerate(groups):
        for i in group:
            member_of[i].append(g)
    hidden = [sum(suppressed[i] for i in group) for group in groups]

    def hide(i: int) -> None:
        suppressed[i] = True
        for g in member_of[i]:
            hidden[g] += 1

    changed = True
    while changed:
        changed = False
        for g, group in enumerate(groups):
            if hidden[g] != 1 or len(group) == 1:
                continue
            hide(min((i for i in group if not suppressed[i]), key=rank))
            changed = True
        if also is not None:
            for i in also(cells, suppressed):
                if not suppressed[i]:
                    hide(i)
                    changed = True
    for cell, hidden_cell in zip(cells, suppressed, strict=True):
        cell["suppressed"] = hidden_cell
        if hidden_cell:
            for value in values:
                cell[value] = None
    return cells
