"""Connect attempts on a time axis: one lane per attempt, its colour how the attempt
ended, and a delay (Happy Eyeballs') drawn as a dashed line across all lanes.

Text and axes use ``currentColor``, so the inline chart follows the page's light or
dark theme; the three outcome colours read on both backgrounds.
"""

from __future__ import annotations

from html import escape

from snippets.svg import PALETTE

WIDTH, RIGHT, TOP, LANE, GAP, BOTTOM = 640, 110, 44, 18, 6, 40
OUTCOMES = {"connected": PALETTE[2], "refused": PALETTE[3], "abandoned": PALETTE[1]}


def attempts(title: str, lanes: list[tuple[str, float, float, str]],
             marks: list[tuple[float, str]]) -> str:
    """lanes: (name, start s, end s, outcome); marks: (seconds, label) lines."""
    end = max([e for _, _, e, _ in lanes] + [t for t, _ in marks]) or 1
    left = 16 + 6.6 * max(len(name) for name, *_ in lanes)
    plot = WIDTH - left - RIGHT
    height = TOP + len(lanes) * (LANE + GAP) + BOTTOM
    base = TOP + len(lanes) * (LANE + GAP)

    def x(t: float) -> float:
        return left + plot * t / end

    out = [(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
            f'role="img" aria-label="{escape(title)}" font-family="sans-serif" '
            f'font-size="12" fill="currentColor"><title>{escape(title)}</title>'),
           (f'<text x="8" y="18" font-size="14" font-weight="bold">{escape(title)}'
            "</text>")]
    for i, (name, start, stop, outcome) in enumerate(lanes):
        y = TOP + i * (LANE + GAP)
        out.append(f'<text x="{left - 6:.1f}" y="{y + 13}" text-anchor="end">'
                   f"{escape(name)}</text>")
        out.append(f'<rect x="{x(start):.1f}" y="{y}" height="{LANE}" '
                   f'width="{max(x(stop) - x(start), 2):.1f}" '
                   f'fill="{OUTCOMES[outcome]}"><title>{escape(name)}: {outcome} '
                   f"after {stop - start:.3f} s</title></rect>")
    step = 0.5 if end > 1 else 0.1
    for n in range(int(end / step + 1e-9) + 1):
        out.append(f'<text x="{x(n * step):.1f}" y="{base + 16}" text-anchor="middle">'
                   f"{n * step:g}</text>")
    out.append(f'<line x1="{left:.1f}" y1="{base + 2}" x2="{x(end):.1f}" '
               f'y2="{base + 2}" stroke="currentColor"/>')
    out.append(f'<text x="{left + plot / 2:.1f}" y="{height - 6}" '
               'text-anchor="middle">seconds since the first attempt</text>')
    for seconds, label in marks:
        out.append(f'<line x1="{x(seconds):.1f}" y1="{TOP - 14}" x2="{x(seconds):.1f}" '
                   f'y2="{base + 2}" stroke="currentColor" stroke-dasharray="4 3"/>')
        out.append(f'<text x="{x(seconds) + 4:.1f}" y="{TOP - 6}">{escape(label)}'
                   "</text>")
    for i, (outcome, colour) in enumerate(OUTCOMES.items()):
        y = TOP + i * 20
        out.append(f'<rect x="{WIDTH - RIGHT + 14}" y="{y}" width="12" height="12" '
                   f'fill="{colour}"/>')
        out.append(f'<text x="{WIDTH - RIGHT + 32}" y="{y + 10}">{outcome}</text>')
    return "".join(out) + "</svg>"
