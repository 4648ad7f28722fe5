"""Charts for the annual review: hand-written inline SVG, tiny and byte-identical for identical inputs.

The report is committed to git, so a chart must not change when its data did not: no random ids, no
timestamps, coordinates printed with a fixed precision. Every text that reaches the SVG (labels, legend,
tooltips) is escaped here, because labels include text submitted by departments. Each drawn data mark
carries class="mark" and a <title> with its exact figure, so a reader (and the browser test) can tell a
chart that drew something from an empty frame.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

# A palette that survives greyscale printing reasonably and is distinguishable for common colour blindness.
PALETTE = ("#2F6DB5", "#E08A1E", "#3A9A5B", "#C0392B", "#7E57C2", "#8C8C8C", "#17A2B8", "#B8860B")
TEXT = "#222222"
MUTED = "#666666"
GRID = "#DDDDDD"
FONT_SIZE = 12
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]
    color: str = ""


def esc(text: object) -> str:
    """Text safe inside SVG/HTML element content and attribute values (control characters dropped)."""
    return html.escape(_CONTROL.sub("", str(text)), quote=True)


def fmt_num(value: float) -> str:
    """1234 → '1,234'; 12.5 → '12.5' (one decimal at most, so output is stable)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def _c(x: float) -> str:
    """A coordinate with fixed precision (no float noise in committed files)."""
    text = f"{x:.1f}"
    return text[:-2] if text.endswith(".0") else text


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """Approximate rendered width: wide (CJK) characters one em, others about 0.6 em."""
    return sum(size if unicodedata.east_asian_width(ch) in "WF" else size * 0.6 for ch in text)


def clip(text: str, max_width: float, size: float = FONT_SIZE) -> str:
    """Cut a label to fit max_width, ending in '…' (the full text stays in the mark's tooltip)."""
    if text_width(text, size) <= max_width:
        return text
    out = ""
    for ch in text:
        if text_width(out + ch + "…", size) > max_width:
            break
        out += ch
    return out + "…"


def nice_max(value: float) -> float:
    """A round axis maximum ≥ value (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k): bars use most of the width."""
    if value <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(value))
    for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if step * exp >= value:
            return step * exp
    return 10 * exp


def _nice_step(step: float) -> bool:
    mantissa = step / 10 ** math.floor(math.log10(step))
    return any(abs(mantissa - m) < 1e-9 for m in (1, 2, 2.5, 5))


def ticks(axis_max: float) -> list[float]:
    """Grid values from 0 to axis_max in round steps (1, 2, 2.5, 5 × 10^k); whole steps on a count
    axis, since the figures are counts."""
    for n in (5, 4, 3, 6, 2, 1):
        step = axis_max / n
        if _nice_step(step) and (step >= 1 or axis_max < 1):
            return [round(step * k, 9) for k in range(n + 1)]
    return [round(axis_max * k / 4, 9) for k in range(5)]


def _colors(series: Sequence[Series]) -> list[str]:
    return [s.color or PALETTE[i % len(PALETTE)] for i, s in enumerate(series)]


def _open(chart_id: str, title: str, width: float, height: float, desc: str) -> list[str]:
    return [
        f'<svg class="chart" id="{esc(chart_id)}" role="img" aria-labelledby="{esc(chart_id)}-t" '
        f'width="{_c(width)}" height="{_c(height)}" viewBox="0 0 {_c(width)} {_c(height)}" '
        f'font-size="{FONT_SIZE}" fill="{TEXT}">',
        f'<title id="{esc(chart_id)}-t">{esc(title)}</title>',
        f"<desc>{esc(desc)}</desc>",
        f'<text x="0" y="16" font-size="14" font-weight="bold">{esc(title)}</text>',
    ]


def _legend(series: Sequence[Series], colors: list[str], x: float, y: float) -> list[str]:
    out = []
    for s, color in zip(series, colors, strict=True):
        out.append(f'<rect x="{_c(x)}" y="{_c(y - 10)}" width="12" height="12" fill="{color}"/>')
        out.append(f'<text x="{_c(x + 16)}" y="{_c(y)}">{esc(s.name)}</text>')
        x += 16 + text_width(s.name) + 18
    return out


def _empty(lines: list[str], width: float, height: float) -> Markup:
    lines.append(
        f'<text class="empty" x="{_c(width / 2)}" y="{_c(height / 2)}" text-anchor="middle" '
        f'fill="{MUTED}">无数据</text>'
    )
    lines.append("</svg>")
    return Markup("\n".join(lines))


def hbar_chart(
    chart_id: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    width: float = 960,
    label_width: float = 220,
    bar_height: float = 18,
    unit: str = "",
) -> Markup:
    """Horizontal bars, one row per category; several series are stacked left to right."""
    colors = _colors(series)
    legend = len(series) > 1
    top = 28 + (22 if legend else 0)
    row = bar_height + 8
    height = top + max(len(categories), 1) * row + 24
    totals = [sum(float(s.values[i] or 0) for s in series) for i in range(len(categories))]
    desc = "；".join(f"{c}：{fmt_num(t)}{unit}" for c, t in zip(categories, totals, strict=True))
    lines = _open(chart_id, title, width, height, desc)
    if legend:
        lines += _legend(series, colors, label_width, 40)
    if not categories or not any(totals):
        return _empty(lines, width, height)
    value_room = 70
    plot_w = width - label_width - value_room
    axis_max = nice_max(max(totals))
    scale = plot_w / axis_max
    bottom = top + len(categories) * row
    lines += _category_gridlines(axis_max, label_width, plot_w, top, bottom)
    for i, category in enumerate(categories):
        y = top + i * row
        lines.append(
            f'<text x="{_c(label_width - 6)}" y="{_c(y + bar_height * 0.75)}" text-anchor="end">'
            f"<title>{esc(category)}</title>{esc(clip(category, label_width - 10))}</text>"
        )
        x = label_width
        for s, color in zip(series, colors, strict=True):
            value = float(s.values[i] or 0)
            if value <= 0:
                continue
            w = max(value * scale, 1.0)
            tip = f"{category} · {s.name}：{fmt_num(value)}{unit}"
            lines.append(
                f'<rect class="mark" x="{_c(x)}" y="{_c(y)}" width="{_c(w)}" height="{_c(bar_height)}" '
                f'fill="{color}"><title>{esc(tip)}</title></rect>'
            )
            x += w
        lines.append(
            f'<text x="{_c(x + 4)}" y="{_c(y + bar_height * 0.75)}" fill="{MUTED}">'
            f"{esc(fmt_num(totals[i]))}</text>"
        )
    lines.append("</svg>")
    return Markup("\n".join(lines))


def _category_gridlines(axis_max: float, left: float, plot_w: float, top: float, bottom: float) -> list[str]:
    """Vertical gridlines of a bar chart with their value labels under the plot."""
    out = []
    for tick in ticks(axis_max):
        gx = left + plot_w * tick / axis_max
        out.append(
            f'<line x1="{_c(gx)}" y1="{_c(top - 4)}" x2="{_c(gx)}" y2="{_c(bottom)}" stroke="{GRID}"/>'
        )
        out.append(
            f'<text x="{_c(gx)}" y="{_c(bottom + 14)}" text-anchor="middle" fill="{MUTED}" '
            f'font-size="10">{esc(fmt_num(tick))}</text>'
        )
    return out


def _value_gridlines(axis_max: float, left: float, right: float, bottom: float, plot_h: float) -> list[str]:
    """Horizontal gridlines with their value labels on the left axis."""
    out = []
    for tick in ticks(axis_max):
        gy = bottom - plot_h * tick / axis_max
        out.append(f'<line x1="{left}" y1="{_c(gy)}" x2="{_c(right)}" y2="{_c(gy)}" stroke="{GRID}"/>')
        out.append(
            f'<text x="{left - 6}" y="{_c(gy + 4)}" text-anchor="end" fill="{MUTED}" font-size="10">'
            f"{esc(fmt_num(tick))}</text>"
        )
    return out


def column_chart(
    chart_id: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    width: float = 960,
    height: float = 280,
    unit: str = "",
) -> Markup:
    """Vertical columns per category (years), series side by side, value printed above each column."""
    colors = _colors(series)
    desc = "；".join(
        f"{c}：" + "，".join(f"{s.name} {fmt_num(float(s.values[i] or 0))}{unit}" for s in series)
        for i, c in enumerate(categories)
    )
    lines = _open(chart_id, title, width, height, desc)
    lines += _legend(series, colors, 50, 40)
    values = [float(v or 0) for s in series for v in s.values]
    if not categories or not any(values):
        return _empty(lines, width, height)
    left, top, bottom = 50, 58, height - 28
    plot_w, plot_h = width - left - 10, bottom - top
    axis_max = nice_max(max(values))
    lines += _value_gridlines(axis_max, left, width - 10, bottom, plot_h)
    slot = plot_w / len(categories)
    bar_w = min(36.0, slot * 0.8 / max(len(series), 1))
    group_w = bar_w * len(series)
    for i, category in enumerate(categories):
        x0 = left + slot * i + (slot - group_w) / 2
        for j, (s, color) in enumerate(zip(series, colors, strict=True)):
            value = float(s.values[i] or 0)
            h = value / axis_max * plot_h
            x = x0 + j * bar_w
            if value > 0:
                tip = f"{category} · {s.name}：{fmt_num(value)}{unit}"
                lines.append(
                    f'<rect class="mark" x="{_c(x)}" y="{_c(bottom - h)}" width="{_c(bar_w - 2)}" '
                    f'height="{_c(max(h, 1.0))}" fill="{color}"><title>{esc(tip)}</title></rect>'
                )
            lines.append(
                f'<text x="{_c(x + (bar_w - 2) / 2)}" y="{_c(bottom - h - 4)}" text-anchor="middle" '
                f'font-size="10" fill="{MUTED}">{esc(fmt_num(value))}</text>'
            )
        lines.append(
            f'<text x="{_c(left + slot * i + slot / 2)}" y="{_c(bottom + 16)}" text-anchor="middle">'
            f"{esc(clip(category, slot - 4))}</text>"
        )
    lines.append(
        f'<line x1="{left}" y1="{_c(bottom)}" x2="{_c(width - 10)}" y2="{_c(bottom)}" stroke="{MUTED}"/>'
    )
    lines.append("</svg>")
    return Markup("\n".join(lines))


def line_chart(
    chart_id: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    width: float = 960,
    height: float = 260,
    unit: str = "",
) -> Markup:
    """One polyline per series over the categories (years), a dot and the value at each point."""
    colors = _colors(series)
    desc = "；".join(
        f"{s.name}："
        + "，".join(f"{c} {fmt_num(float(v or 0))}{unit}" for c, v in zip(categories, s.values, strict=True))
        for s in series
    )
    lines = _open(chart_id, title, width, height, desc)
    lines += _legend(series, colors, 50, 40)
    values = [float(v or 0) for s in series for v in s.values]
    if not categories or not any(values):
        return _empty(lines, width, height)
    left, top, bottom = 50, 62, height - 28
    plot_w, plot_h = width - left - 30, bottom - top
    axis_max = nice_max(max(values))
    lines += _value_gridlines(axis_max, left, width - 30, bottom, plot_h)
    slot = plot_w / len(categories)
    xs = [left + slot * i + slot / 2 for i in range(len(categories))]
    for i, category in enumerate(categories):
        lines.append(
            f'<text x="{_c(xs[i])}" y="{_c(bottom + 16)}" text-anchor="middle">{esc(clip(category, slot - 4))}</text>'
        )
    for s, color in zip(series, colors, strict=True):
        points = [(x, bottom - float(v or 0) / axis_max * plot_h) for x, v in zip(xs, s.values, strict=True)]
        path = " ".join(("M" if k == 0 else "L") + f"{_c(x)} {_c(y)}" for k, (x, y) in enumerate(points))
        lines.append(f'<path class="mark" d="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        for (x, y), category, v in zip(points, categories, s.values, strict=True):
            tip = f"{category} · {s.name}：{fmt_num(float(v or 0))}{unit}"
            lines.append(
                f'<circle class="mark" cx="{_c(x)}" cy="{_c(y)}" r="4" fill="{color}"><title>{esc(tip)}</title></circle>'
            )
            lines.append(
                f'<text x="{_c(x)}" y="{_c(y - 8)}" text-anchor="middle" font-size="10" fill="{MUTED}">'
                f"{esc(fmt_num(float(v or 0)))}</text>"
            )
    lines.append("</svg>")
    return Markup("\n".join(lines))


def share_bar(
    chart_id: str, title: str, parts: Sequence[tuple[str, float]], *, width: float = 760, unit: str = ""
) -> Markup:
    """One bar split into shares (e.g. where the year's rows went), with a legend giving count and %."""
    series = [Series(name, [value], PALETTE[i % len(PALETTE)]) for i, (name, value) in enumerate(parts)]
    total = sum(float(v or 0) for _, v in parts)
    height = 100
    desc = "；".join(f"{n}：{fmt_num(float(v or 0))}{unit}" for n, v in parts)
    lines = _open(chart_id, title, width, height, desc)
    if total <= 0:
        return _empty(lines, width, height)
    x, y, bar_w = 0.0, 28.0, width - 2
    for s in series:
        value = float(s.values[0] or 0)
        if value <= 0:
            continue
        w = max(value / total * bar_w, 1.0)
        tip = f"{s.name}：{fmt_num(value)}{unit}（{value / total:.1%}）"
        lines.append(
            f'<rect class="mark" x="{_c(x)}" y="{_c(y)}" width="{_c(w)}" height="28" fill="{s.color}">'
            f"<title>{esc(tip)}</title></rect>"
        )
        x += w
    named = [
        Series(
            f"{s.name} {fmt_num(float(s.values[0] or 0))}（{float(s.values[0] or 0) / total:.1%}）",
            s.values,
            s.color,
        )
        for s in series
    ]
    lines += _legend(named, [s.color for s in named], 0, 84)
    lines.append("</svg>")
    return Markup("\n".join(lines))
