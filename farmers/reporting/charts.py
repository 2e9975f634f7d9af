"""Server-rendered SVG charts for the admin dashboard: no JavaScript, no external requests.

Each chart is an accessible inline SVG (``role="img"``, a ``<title>`` and a ``<desc>``), with every
number written as text next to its mark, and colours from the Okabe–Ito palette, which people
with the common colour-vision deficiencies can tell apart. Marks also carry labels, so colour is
never the only cue.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Okabe & Ito (2008), "Color Universal Design"; plus a neutral grey.
GREY = "#999999"
ORANGE = "#E69F00"
SKY = "#56B4E9"
GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
BLACK = "#000000"
TEXT = "#1f2328"
MUTED = "#57606a"
GRID = "#d0d7de"
FONT = "font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif\""
# Sequential scale for the map (light to dark blue), readable in greyscale too.
SEQUENTIAL = ["#deebf7", "#9ecae1", "#6baed6", "#3182bd", "#08519c"]


def number(value: float | int) -> str:
    """A count with thousands separators (as written in Peru: 1,234)."""
    return f"{int(value):,}"


def _svg(width: int, height: int, title: str, desc: str, body: str) -> SafeString:
    ident = f"c{abs(hash((title, desc))) % 10**8}"
    # A chart whose marks link somewhere is a group of links, not one image.
    role = "group" if "<a href=" in body else "img"
    return mark_safe(  # noqa: S308 - every text below is escaped
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="{role}" '
        f'aria-labelledby="{ident}t {ident}d" class="chart" {FONT} '
        f'preserveAspectRatio="xMinYMin meet">'
        f'<title id="{ident}t">{escape(title)}</title><desc id="{ident}d">{escape(desc)}</desc>'
        f"{body}</svg>"
    )


def _text(
    x: float,
    y: float,
    text: str,
    *,
    size: int = 14,
    anchor: str = "start",
    fill: str = TEXT,
    weight: str = "normal",
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="{fill}" font-weight="{weight}">{escape(text)}</text>'
    )


@dataclass(frozen=True)
class Bar:
    """One labelled bar: its label, value, the text shown beside it and its colour."""

    label: str
    value: float
    shown: str
    color: str = BLUE
    href: str = ""


def empty(title: str, message: str, width: int = 440) -> SafeString:
    """A chart frame saying there is nothing to draw yet (the message wrapped to the width, at
    about 7.8 px a character)."""
    per_line = max(int((width - 16) / 7.8), 10)
    lines: list[str] = []
    for word in message.split():
        if lines and len(lines[-1]) + 1 + len(word) <= per_line:
            lines[-1] += " " + word
        else:
            lines.append(word)
    body = "".join(
        _text(width / 2, 30 + 20 * i, line, anchor="middle", fill=MUTED)
        for i, line in enumerate(lines)
    )
    return _svg(width, 40 + 20 * len(lines), title, message, body)


def hbars(
    title: str,
    bars: Sequence[Bar],
    *,
    empty_message: str,
    width: int = 440,
    labels_above: bool = False,
) -> SafeString:
    """Horizontal bars with the label on the left and the value written after each bar;
    ``labels_above`` writes each label whole above its bar, across the chart (long labels such
    as product forms or title statuses, never cut off)."""
    if not bars or max((b.value for b in bars), default=0) <= 0:
        return empty(title, empty_message, width)
    if labels_above:
        return _hbars_labels_above(title, bars, width)
    row_h = 30
    # Labels on the left, as wide as the longest one (about 7.8 px a character at 14 px).
    longest = max(len(b.label) for b in bars)
    max_chars = int(width * 0.5 / 7.8)
    label_w = int(min(longest, max_chars) * 7.8) + 12
    # Leave room after the longest bar for the widest value (about 8 px a character).
    value_w = max(len(b.shown) for b in bars) * 8 + 12
    plot_w = max(width - label_w - value_w, 60)
    top = max(b.value for b in bars)
    body = []
    for i, bar in enumerate(bars):
        y = i * row_h + 6
        length = max(plot_w * bar.value / top, 2 if bar.value else 0)
        label = bar.label if len(bar.label) <= max_chars else bar.label[: max_chars - 1] + "…"
        row = [
            _text(label_w - 8, y + 17, label, anchor="end"),
            f'<rect x="{label_w}" y="{y}" width="{length:.1f}" height="22" rx="2" '
            f'fill="{bar.color}" stroke="{TEXT}" stroke-opacity="0.25"/>',
            _text(label_w + length + 6, y + 17, bar.shown, weight="bold"),
        ]
        body.extend(_linked(bar, row))
    desc = "; ".join(f"{b.label}: {b.shown}" for b in bars)
    return _svg(width, len(bars) * row_h + 10, title, desc, "".join(body))


def _linked(bar: Bar, row: list[str]) -> list[str]:
    """``row`` (a bar, its label and its value) as a link to the records behind ``bar``, when it
    has one."""
    if not bar.href:
        return row
    said = f"{escape(bar.label)}: {escape(bar.shown)}"
    return [f'<a href="{escape(bar.href)}" aria-label="{said}"><title>{said}</title>', *row, "</a>"]


def _hbars_labels_above(title: str, bars: Sequence[Bar], width: int) -> SafeString:
    """:func:`hbars` with each label on a line of its own above its bar (wrapped at about
    7.8 px a character when longer than the chart is wide)."""
    per_line = max(int((width - 16) / 7.8), 10)
    value_w = max(len(b.shown) for b in bars) * 8 + 12
    plot_w = max(width - 8 - value_w, 60)
    top = max(b.value for b in bars)
    body = []
    y = 4
    for bar in bars:
        lines = textwrap.wrap(bar.label, per_line) or [""]
        row = [_text(8, y + 15 + 18 * i, line) for i, line in enumerate(lines)]
        y += 18 * len(lines) + 4
        length = max(plot_w * bar.value / top, 2 if bar.value else 0)
        row += [
            f'<rect x="8" y="{y}" width="{length:.1f}" height="20" rx="2" '
            f'fill="{bar.color}" stroke="{TEXT}" stroke-opacity="0.25"/>',
            _text(8 + length + 6, y + 15, bar.shown, weight="bold"),
        ]
        y += 30
        body.extend(_linked(bar, row))
    desc = "; ".join(f"{b.label}: {b.shown}" for b in bars)
    return _svg(width, y + 4, title, desc, "".join(body))


def columns(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[int]]],
    *,
    empty_message: str,
    width: int = 440,
) -> SafeString:
    """Stacked columns, one per label (e.g. month); ``series`` is ``(name, colour, values)``.

    The total is written above each column, each segment's value inside it when it fits, and a
    legend names every series."""
    totals = [sum(values[i] for _n, _c, values in series) for i in range(len(labels))]
    if not labels or max(totals, default=0) <= 0:
        return empty(title, empty_message, width)
    left, right, top_pad, axis_h = 8, 8, 22, 42
    legend_rows = (len(series) + 1) // 2 if len(series) > 1 else 0
    legend_h = legend_rows * 22 + (8 if legend_rows else 0)
    plot_h = 180
    height = top_pad + plot_h + axis_h + legend_h
    slot = (width - left - right) / len(labels)
    bar_w = max(min(slot * 0.72, 44), 6)
    peak = max(totals)
    body = [
        f'<line x1="{left}" x2="{width - right}" y1="{top_pad + plot_h}" '
        f'y2="{top_pad + plot_h}" stroke="{GRID}"/>'
    ]
    for i, label in enumerate(labels):
        x = left + slot * i + (slot - bar_w) / 2
        y: float = top_pad + plot_h
        for _name, color, values in series:
            value = values[i]
            if value <= 0:
                continue
            h = plot_h * value / peak
            y -= h
            body.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{color}" stroke="#ffffff" stroke-width="0.5"/>'
            )
            if h >= 16 and bar_w >= 24 and len(series) > 1:
                fill = "#ffffff" if color in (BLUE, BLACK, VERMILLION, GREEN) else TEXT
                body.append(
                    _text(
                        x + bar_w / 2,
                        y + h / 2 + 4,
                        number(value),
                        size=11,
                        anchor="middle",
                        fill=fill,
                    )
                )
        total_size = 12 if slot >= 34 else 10
        body.append(
            _text(
                x + bar_w / 2,
                y - 5,
                number(totals[i]),
                size=total_size,
                anchor="middle",
                weight="bold",
            )
        )
        first, _sep, second = label.partition("\n")
        body.append(_text(x + bar_w / 2, top_pad + plot_h + 17, first, size=13, anchor="middle"))
        if second:
            body.append(
                _text(
                    x + bar_w / 2,
                    top_pad + plot_h + 32,
                    second,
                    size=12,
                    anchor="middle",
                    fill=MUTED,
                )
            )
    if legend_rows:
        base = top_pad + plot_h + axis_h + 4
        col_w = (width - left - right) / 2
        for n, (name, color, _values) in enumerate(series):
            lx = left + (n % 2) * col_w
            ly = base + (n // 2) * 22
            body.append(
                f'<rect x="{lx:.1f}" y="{ly}" width="14" height="14" fill="{color}" '
                f'stroke="{TEXT}" stroke-opacity="0.3"/>'
            )
            body.append(_text(lx + 20, ly + 12, name, size=13))
    desc = "; ".join(
        f"{label}: {number(total)}" for label, total in zip(labels, totals, strict=True)
    )
    return _svg(width, height, title, desc, "".join(body))


@dataclass(frozen=True)
class Tile:
    """A district on the schematic map."""

    name: str
    value: int
    detail: str = ""


def tile_map(
    title: str,
    groups: Sequence[tuple[str, Sequence[Tile]]],
    *,
    empty_message: str,
    legend_title: str,
    width: int = 440,
) -> SafeString:
    """A schematic map: one panel per department, one tile per district, shaded by households
    (a sequential scale with its legend) and labelled with the district's name and count."""
    if not groups:
        return empty(title, empty_message, width)
    peak = max((t.value for _g, tiles in groups for t in tiles), default=0) or 1
    cols = 3
    tile_w = (width - 16 - (cols - 1) * 6) / cols
    tile_h = 50
    body = []
    y = 4
    for group_name, tiles in groups:
        body.append(_text(8, y + 16, group_name, size=14, weight="bold"))
        y += 24
        for n, tile in enumerate(tiles):
            x = 8 + (n % cols) * (tile_w + 6)
            ty = y + (n // cols) * (tile_h + 6)
            shade = SEQUENTIAL[min(int(len(SEQUENTIAL) * tile.value / (peak + 1)), 4)]
            dark = SEQUENTIAL.index(shade) >= 3
            fill = "#ffffff" if dark else TEXT
            name = tile.name if len(tile.name) <= 18 else tile.name[:17] + "…"
            body.append(
                f'<rect x="{x:.1f}" y="{ty}" width="{tile_w:.1f}" height="{tile_h}" rx="4" '
                f'fill="{shade}" stroke="{TEXT}" stroke-opacity="0.25"/>'
            )
            body.append(_text(x + 8, ty + 19, name, size=13, fill=fill))
            body.append(
                _text(x + 8, ty + 40, number(tile.value), size=16, fill=fill, weight="bold")
            )
            if tile.detail:
                body.append(
                    _text(x + tile_w - 8, ty + 40, tile.detail, size=12, anchor="end", fill=fill)
                )
        y += ((len(tiles) + cols - 1) // cols) * (tile_h + 6) + 6
    # Legend: the sequential scale with its bounds.
    body.append(_text(8, y + 14, legend_title, size=12, fill=MUTED))
    step = 34
    for n, shade in enumerate(SEQUENTIAL):
        body.append(
            f'<rect x="{8 + n * step}" y="{y + 22}" width="{step}" height="12" fill="{shade}" '
            f'stroke="{TEXT}" stroke-opacity="0.2"/>'
        )
    body.append(_text(8, y + 50, "1", size=12, fill=MUTED))
    body.append(
        _text(8 + len(SEQUENTIAL) * step, y + 50, number(peak), size=12, anchor="end", fill=MUTED)
    )
    desc = "; ".join(
        f"{group}: " + ", ".join(f"{t.name} {number(t.value)}" for t in tiles)
        for group, tiles in groups
    )
    return _svg(width, int(y + 58), title, desc, "".join(body))
