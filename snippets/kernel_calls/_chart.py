"""One stacked bar per program: its system calls split by what they are for.

A colour means one kind of call, the same in every bar; text and axes use
``currentColor``, so the inline chart follows the page's light or dark theme.
"""

from __future__ import annotations

from html import escape

from snippets.svg import PALETTE

WIDTH, LEFT, RIGHT, TOP, BAR, GAP = 640, 96, 64, 64, 22, 10


def ticks(high: float) -> list[int]:
    """0, then round steps (1, 2 or 5 times a power of ten) up to high: at most 6."""
    step = 1
    while high / step > 5:
        step = step * 5 // 2 if str(step)[0] == "2" else step * 2
    return list(range(0, int(high) + 1, step))


def stacked_bars(title: str, kinds: list[str],
                 bars: list[tuple[str, dict[str, int]]]) -> str:
    """bars: (program, {kind: calls}); the last kind is drawn grey ("other")."""
    top = max(sum(parts.values()) for _, parts in bars) or 1
    plot = WIDTH - LEFT - RIGHT
    height = TOP + len(bars) * (BAR + GAP) + 40
    colour = {k: PALETTE[i % len(PALETTE)] for i, k in enumerate(kinds[:-1])}
    colour[kinds[-1]] = "currentColor"

    def x(calls: float) -> float:
        return LEFT + plot * calls / top

    head = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
            f'role="img" aria-label="{escape(title)}" font-family="sans-serif" '
            f'font-size="12" fill="currentColor"><title>{escape(title)}</title>')
    out = [head, f'<text x="{LEFT}" y="18" font-size="14" font-weight="bold">'
           + f"{escape(title)}</text>"]
    lx = LEFT
    for kind in kinds:  # the legend: one swatch per kind, in one row
        dim = ' fill-opacity="0.35"' if colour[kind] == "currentColor" else ""
        out.append(f'<rect x="{lx}" y="30" width="11" height="11" '
                   f'fill="{colour[kind]}"{dim}/>')
        out.append(f'<text x="{lx + 15}" y="40">{escape(kind)}</text>')
        lx += 26 + 6.6 * len(kind)
    base = TOP + len(bars) * (BAR + GAP)
    for tick in ticks(top):
        out.append(f'<line x1="{x(tick):.1f}" y1="{TOP - 4}" x2="{x(tick):.1f}" '
                   f'y2="{base}" stroke="currentColor" stroke-opacity="0.15"/>')
        out.append(f'<text x="{x(tick):.1f}" y="{base + 14}" text-anchor="middle">'
                   f"{tick:g}</text>")
    for i, (name, parts) in enumerate(bars):
        y, start = TOP + i * (BAR + GAP), 0
        out.append(f'<text x="{LEFT - 8}" y="{y + 15}" text-anchor="end">'
                   f"{escape(name)}</text>")
        for kind in kinds:
            calls = parts.get(kind, 0)
            if calls:
                dim = ' fill-opacity="0.35"' if colour[kind] == "currentColor" else ""
                out.append(f'<rect x="{x(start):.1f}" y="{y}" height="{BAR}" '
                           f'width="{max(x(start + calls) - x(start), 1):.1f}" '
                           f'fill="{colour[kind]}"{dim}><title>{escape(name)}: '
                           f"{calls} {escape(kind)}</title></rect>")
            start += calls
        out.append(f'<text x="{x(start) + 6:.1f}" y="{y + 15}">{start:,}</text>')
    out.append(f'<text x="{LEFT + plot / 2}" y="{height - 6}" text-anchor="middle">'
               "system calls, by what they are for</text></svg>")
    return "".join(out)
