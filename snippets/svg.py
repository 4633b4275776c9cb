"""Tiny SVG charts drawn from a snippet's own measurements (stdlib only).

Text and axes use ``currentColor``, so an inline chart follows the page's light or
dark theme; the series colours are mid-tones that read on both backgrounds.
"""

from __future__ import annotations

import math
from html import escape

PALETTE = ["#3b82f6", "#f59e0b", "#10b981", "#ef4444", "#a855f7", "#14b8a6"]
WIDTH, HEIGHT = 640, 320
LEFT, RIGHT, TOP, BOTTOM = 64, 150, 36, 48


def _frame(title: str, body: list[str]) -> str:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{escape(title)}" class="snippet-chart" '
        'font-family="sans-serif" font-size="12" fill="currentColor">'
    )
    title_el = f'<text x="{LEFT}" y="20" font-size="14" font-weight="bold">'
    return "".join([head, f"<title>{escape(title)}</title>", title_el,
                    escape(title), "</text>", *body, "</svg>"])


def _nice_ticks(high: float, count: int = 5) -> list[float]:
    step = 10 ** math.floor(math.log10(high / count)) if high > 0 else 1
    for factor in (1, 2, 5, 10):
        if high / (step * factor) <= count:
            step *= factor
            break
    return [i * step for i in range(int(high / step) + 2) if i * step <= high * 1.0001]


def _label(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e4 else f"{value:,.0f}"


def _axes(x_label: str, y_label: str) -> list[str]:
    x0, y0, x1 = LEFT, HEIGHT - BOTTOM, WIDTH - RIGHT
    return [
        f'<line x1="{x0}" y1="{TOP}" x2="{x0}" y2="{y0}" stroke="currentColor"/>',
        f'<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y0}" stroke="currentColor"/>',
        f'<text x="{(x0 + x1) / 2}" y="{HEIGHT - 10}" text-anchor="middle">'
        f"{escape(x_label)}</text>",
        f'<text transform="translate(14 {(TOP + y0) / 2}) rotate(-90)" '
        f'text-anchor="middle">{escape(y_label)}</text>',
    ]


def _legend(names: list[str]) -> list[str]:
    out = []
    for i, name in enumerate(names):
        y = TOP + 8 + i * 20
        colour = PALETTE[i % len(PALETTE)]
        out.append(f'<rect x="{WIDTH - RIGHT + 14}" y="{y - 9}" width="12" '
                   f'height="12" fill="{colour}"/>')
        out.append(f'<text x="{WIDTH - RIGHT + 32}" y="{y + 1}">{escape(name)}</text>')
    return out


def line_chart(title: str, x_label: str, y_label: str,
               series: dict[str, list[tuple[float, float]]]) -> str:
    """Lines with markers, one per named series of (x, y) points; axes start at 0."""
    points = [p for pts in series.values() for p in pts]
    x_max = max(x for x, _ in points) or 1
    y_max = max(y for _, y in points) * 1.1 or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def sx(x: float) -> float:
        return LEFT + plot_w * x / x_max

    def sy(y: float) -> float:
        return HEIGHT - BOTTOM - plot_h * y / y_max

    body = _axes(x_label, y_label)
    for tick in _nice_ticks(y_max):
        body.append(f'<text x="{LEFT - 6}" y="{sy(tick) + 4:.1f}" '
                    f'text-anchor="end">{_label(tick)}</text>')
        body.append(f'<line x1="{LEFT}" y1="{sy(tick):.1f}" x2="{WIDTH - RIGHT}" '
                    f'y2="{sy(tick):.1f}" stroke="currentColor" '
                    'stroke-opacity="0.15"/>')
    for x in sorted({x for x, _ in points}):
        body.append(f'<text x="{sx(x):.1f}" y="{HEIGHT - BOTTOM + 16}" '
                    f'text-anchor="middle">{_label(x)}</text>')
    for i, (name, pts) in enumerate(series.items()):
        colour = PALETTE[i % len(PALETTE)]
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in sorted(pts))
        body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                    'stroke-width="2.5"/>')
        body += [f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="4" fill="{colour}"/>'
                 for x, y in pts]
    return _frame(title, body + _legend(list(series)))


BAR, GAP, GROUP_GAP = 16, 3, 12  # px: bar height, between bars, between groups


def bar_chart(title: str, value_label: str,
              groups: list[tuple[str, list[tuple[str, float]]]],
              threshold: tuple[float, str] | None = None) -> str:
    """Horizontal bars in groups: (label, [(series, value), ...]). Colour means a
    series (the same in every group, named in a legend); a group without bars is a
    heading; a threshold (value, label) is a dashed line across the bars."""
    series = list(dict.fromkeys(s for _, bars in groups for s, _ in bars))
    colour = {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(series)}
    label_w = 20 + 7 * max(len(name) for name, _ in groups)
    right = WIDTH - RIGHT - 36  # room for a value after the longest bar
    top_value = max([v for _, bars in groups for _, v in bars]
                    + [threshold[0] if threshold else 0]) or 1

    def x(v: float) -> float:
        return label_w + (right - label_w) * v / top_value

    body, y = [], TOP + 18
    for name, bars in groups:
        if not bars:
            body.append(f'<text x="{label_w - 8}" y="{y + 12}" text-anchor="end" '
                        f'font-weight="bold" font-size="11">{escape(name)}</text>')
            y += BAR + GAP
            continue
        middle = y + len(bars) * (BAR + GAP) / 2 + 2
        body.append(f'<text x="{label_w - 8}" y="{middle:.1f}" text-anchor="end">'
                    f"{escape(name)}</text>")
        for s, value in bars:
            body.append(f'<rect x="{label_w}" y="{y}" width="{x(value) - label_w:.1f}" '
                        f'height="{BAR}" fill="{colour[s]}"><title>{escape(s)}: '
                        f"{_label(value)}</title></rect>")
            body.append(f'<text x="{x(value) + 5:.1f}" y="{y + 12}" font-size="11">'
                        f"{_label(value)}</text>")
            y += BAR + GAP
        y += GROUP_GAP
    base = y
    body.append(f'<line x1="{label_w}" y1="{base}" x2="{right}" y2="{base}" '
                'stroke="currentColor"/>')
    for tick in _nice_ticks(top_value):
        body.append(f'<text x="{x(tick):.1f}" y="{base + 16}" text-anchor="middle">'
                    f"{_label(tick)}</text>")
    if threshold:
        value, label = threshold
        body.append(f'<line x1="{x(value):.1f}" y1="{TOP + 8}" x2="{x(value):.1f}" '
                    f'y2="{base}" stroke="currentColor" stroke-width="1.5" '
                    'stroke-dasharray="5 4"/>')
        body.append(f'<text x="{x(value):.1f}" y="{TOP + 4}" text-anchor="middle" '
                    f'font-size="11">{escape(label)}</text>')
    body.append(f'<text x="{(label_w + right) / 2:.1f}" y="{base + 36}" '
                f'text-anchor="middle">{escape(value_label)}</text>')
    for i, s in enumerate(series):  # the legend: what each colour means
        ly = TOP + 26 + i * 20
        body.append(f'<rect x="{WIDTH - RIGHT + 14}" y="{ly - 9}" width="12" '
                    f'height="12" fill="{colour[s]}"/>')
        body.append(f'<text x="{WIDTH - RIGHT + 32}" y="{ly + 1}">'
                    f"{escape(s)}</text>")
    height = base + 48
    return _frame(title, body).replace(f"0 0 {WIDTH} {HEIGHT}",
                                           f"0 0 {WIDTH} {height}", 1)


def timeline(title: str, lanes: list[tuple[str, list[tuple[float, float, str]]]],
             x_label: str = "seconds") -> str:
    """A Gantt chart: one lane per name, spans (start, end, kind) coloured by kind."""
    kinds = list(dict.fromkeys(k for _, spans in lanes for *_, k in spans))
    colour = {k: PALETTE[i % len(PALETTE)] for i, k in enumerate(kinds)}
    end = max((e for _, spans in lanes for _, e, _ in spans), default=1) or 1
    lane_h = 20
    height = TOP + len(lanes) * (lane_h + 6) + BOTTOM
    left = max(LEFT, 16 + 7 * max((len(name) for name, _ in lanes), default=0))
    plot_w = WIDTH - left - RIGHT
    body = []
    for i, (name, spans) in enumerate(lanes):
        y = TOP + i * (lane_h + 6)
        body.append(f'<text x="{left - 6}" y="{y + 14}" text-anchor="end">'
                    f"{escape(name)}</text>")
        for start, stop, kind in spans:
            x = left + plot_w * start / end
            w = max(plot_w * (stop - start) / end, 1.5)
            body.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{lane_h}" '
                        f'fill="{colour[kind]}"><title>{escape(kind)}</title></rect>')
    base = height - BOTTOM + 4
    body.append(f'<line x1="{left}" y1="{base}" x2="{WIDTH - RIGHT}" y2="{base}" '
                'stroke="currentColor"/>')
    for tick in _nice_ticks(end):
        x = left + plot_w * tick / end
        body.append(f'<text x="{x:.1f}" y="{base + 16}" text-anchor="middle">'
                    f"{_label(tick)}</text>")
    body.append(f'<text x="{left + plot_w / 2}" y="{height - 6}" '
                f'text-anchor="middle">{escape(x_label)}</text>')
    svg = _frame(title, body + _legend(kinds))
    return svg.replace(f"0 0 {WIDTH} {HEIGHT}", f"0 0 {WIDTH} {height}", 1)
