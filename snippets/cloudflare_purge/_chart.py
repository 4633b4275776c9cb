"""The propagation chart: horizontal bars coloured by series, in groups, with a
threshold drawn as a dashed line. Built from `snippets.svg`'s frame, palette, tick
and label helpers, as a stand-in until `svg.bar_chart` takes series and thresholds."""

from __future__ import annotations

from html import escape

from snippets import svg

BAR, GAP, GROUP_GAP = 16, 3, 12  # px: bar height, between bars, between groups


def grouped_bars(title: str, value_label: str,
                 groups: list[tuple[str, list[tuple[str, float]]]],
                 threshold: tuple[float, str]) -> str:
    """groups: (label, [(series, value), ...]); a series keeps its colour in every
    group; a group without bars is a heading. threshold: (value, label), a dashed
    line across the bars."""
    series = list(dict.fromkeys(s for _, bars in groups for s, _ in bars))
    colour = {s: svg.PALETTE[i % len(svg.PALETTE)] for i, s in enumerate(series)}
    label_w = 20 + 7 * max(len(name) for name, _ in groups)
    right = svg.WIDTH - svg.RIGHT - 36  # room for a value after the longest bar
    top_value = max([v for _, bars in groups for _, v in bars] + [threshold[0]])

    def x(v: float) -> float:
        return label_w + (right - label_w) * v / top_value

    body, y = [], svg.TOP + 18
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
                        f"{svg._label(value)}</title></rect>")
            body.append(f'<text x="{x(value) + 5:.1f}" y="{y + 12}" font-size="11">'
                        f"{svg._label(value)}</text>")
            y += BAR + GAP
        y += GROUP_GAP
    base = y
    body.append(f'<line x1="{label_w}" y1="{base}" x2="{right}" y2="{base}" '
                'stroke="currentColor"/>')
    for tick in svg._nice_ticks(top_value):
        body.append(f'<text x="{x(tick):.1f}" y="{base + 16}" text-anchor="middle">'
                    f"{svg._label(tick)}</text>")
    value, label = threshold
    body.append(f'<line x1="{x(value):.1f}" y1="{svg.TOP + 8}" x2="{x(value):.1f}" '
                f'y2="{base}" stroke="currentColor" stroke-width="1.5" '
                'stroke-dasharray="5 4"/>')
    body.append(f'<text x="{x(value):.1f}" y="{svg.TOP + 4}" text-anchor="middle" '
                f'font-size="11">{escape(label)}</text>')
    body.append(f'<text x="{(label_w + right) / 2:.1f}" y="{base + 36}" '
                f'text-anchor="middle">{escape(value_label)}</text>')
    for i, s in enumerate(series):  # the legend: what each colour means
        ly = svg.TOP + 26 + i * 20
        body.append(f'<rect x="{svg.WIDTH - svg.RIGHT + 14}" y="{ly - 9}" width="12" '
                    f'height="12" fill="{colour[s]}"/>')
        body.append(f'<text x="{svg.WIDTH - svg.RIGHT + 32}" y="{ly + 1}">'
                    f"{escape(s)}</text>")
    height = base + 48
    return svg._frame(title, body).replace(f"0 0 {svg.WIDTH} {svg.HEIGHT}",
                                           f"0 0 {svg.WIDTH} {height}", 1)
