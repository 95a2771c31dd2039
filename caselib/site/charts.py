"""Charts drawn as inline SVG on the server: no script, no CDN, prints well."""

from __future__ import annotations

from html import escape

from markupsafe import Markup

PALETTE = ["#b22222", "#d2691e", "#2e8b57", "#4169e1", "#6a5acd", "#708090", "#daa520", "#008b8b"]
ROW_HEIGHT = 24
LABEL_WIDTH = 180
BAR_WIDTH = 420
FONT = 'font-family="Noto Sans CJK SC, Microsoft YaHei, sans-serif" font-size="13"'


def bar_chart(rows: list[tuple[str, int]], title: str, color: str = PALETTE[0]) -> Markup:
    """Horizontal bars, one per (label, count), the count written beside each."""
    top = max([count for _, count in rows] or [1]) or 1
    height = ROW_HEIGHT * len(rows) + 10
    width = LABEL_WIDTH + BAR_WIDTH + 60
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}">']
    parts.append(f"<title>{escape(title)}</title>")
    for n, (label, count) in enumerate(rows):
        y = n * ROW_HEIGHT + 5
        length = round(BAR_WIDTH * count / top)
        parts.append(f'<text x="{LABEL_WIDTH - 8}" y="{y + 16}" text-anchor="end" {FONT}>{escape(str(label))}</text>')
        parts.append(f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{length}" height="{ROW_HEIGHT - 8}" fill="{color}"/>')
        parts.append(f'<text x="{LABEL_WIDTH + length + 6}" y="{y + 16}" {FONT}>{count}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def stacked_chart(rows: list[tuple[str, dict[str, int]]], series: list[str], title: str) -> Markup:
    """Horizontal stacked bars: one bar per row label, one colour per series."""
    totals = [sum(values.values()) for _, values in rows]
    top = max(totals or [1]) or 1
    legend_height = 22 * ((len(series) + 2) // 3)
    height = ROW_HEIGHT * len(rows) + legend_height + 15
    width = LABEL_WIDTH + BAR_WIDTH + 60
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}">']
    parts.append(f"<title>{escape(title)}</title>")
    for n, name in enumerate(series):
        x = 10 + (n % 3) * 210
        y = 5 + (n // 3) * 22
        parts.append(f'<rect x="{x}" y="{y}" width="14" height="14" fill="{PALETTE[n % len(PALETTE)]}"/>')
        parts.append(f'<text x="{x + 20}" y="{y + 12}" {FONT}>{escape(name)}</text>')
    for n, ((label, values), total) in enumerate(zip(rows, totals)):
        y = legend_height + 10 + n * ROW_HEIGHT
        parts.append(f'<text x="{LABEL_WIDTH - 8}" y="{y + 16}" text-anchor="end" {FONT}>{escape(str(label))}</text>')
        x = LABEL_WIDTH
        for k, name in enumerate(series):
            length = BAR_WIDTH * values.get(name, 0) / top
            if length:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y + 3}" width="{length:.1f}" height="{ROW_HEIGHT - 8}" fill="{PALETTE[k % len(PALETTE)]}">'
                    f"<title>{escape(f'{label} {name}: {values[name]}')}</title></rect>"
                )
                x += length
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 16}" {FONT}>{total}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
