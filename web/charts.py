"""Charts drawn by the service itself, as inline SVG: horizontal bars, one row per category,
one bar per series in it (a single series is a plain bar chart). No script, no outside
font or file: the page's CSP lets them through and they print as they show. Every text in
them is escaped; the colours are attributes, not styles, so no inline style is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

WIDTH = 760
LABEL_WIDTH = 240  # the categories' names, left of the bars
VALUE_WIDTH = 70  # the figure right of each bar
BAR_HEIGHT = 16
ROW_GAP = 10
LEGEND_HEIGHT = 24
COLOURS = ("#2f5597", "#c55a11", "#548235", "#7f6000", "#7030a0", "#1f7a7a")


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]


def _figure(value: float, suffix: str) -> str:
    shown = f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"
    return f"{shown}{suffix}"


def bars(
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    suffix: str = "",
    empty: str,
) -> Markup:
    """One chart: ``categories`` down the side, each series' value as a bar in each; the
    longest bar spans the drawing, the others in proportion. ``suffix`` follows each figure
    (a unit such as 天); ``empty`` is said instead when there is nothing to draw."""
    if not categories or not series:
        return Markup(
            '<svg class="chart" xmlns="http://www.w3.org/2000/svg" role="img" width="{w}" '
            'height="40" viewBox="0 0 {w} 40"><title>{t}</title>'
            '<text x="0" y="24" font-size="13" fill="#666">{e}</text></svg>'
        ).format(w=WIDTH, t=title, e=empty)
    legend = LEGEND_HEIGHT if len(series) > 1 else 0
    row = BAR_HEIGHT * len(series) + ROW_GAP
    height = legend + row * len(categories) + ROW_GAP
    top = max((v for s in series for v in s.values), default=0.0) or 1.0
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    parts = [
        Markup(
            '<svg class="chart" xmlns="http://www.w3.org/2000/svg" role="img" width="{w}" '
            'height="{h}" viewBox="0 0 {w} {h}" font-size="12"><title>{t}</title>'
        ).format(w=WIDTH, h=height, t=title)
    ]
    if legend:
        for i, s in enumerate(series):
            x = LABEL_WIDTH + i * 120
            parts.append(
                Markup(
                    '<rect x="{x}" y="4" width="12" height="12" fill="{c}"/>'
                    '<text x="{tx}" y="14" fill="#222">{n}</text>'
                ).format(x=x, tx=x + 16, c=COLOURS[i % len(COLOURS)], n=s.name)
            )
    for r, category in enumerate(categories):
        y = legend + r * row + ROW_GAP // 2
        parts.append(
            Markup('<text x="{x}" y="{y}" text-anchor="end" fill="#222">{n}</text>').format(
                x=LABEL_WIDTH - 8, y=y + BAR_HEIGHT * len(series) / 2 + 4, n=category
            )
        )
        for i, s in enumerate(series):
            value = s.values[r]
            length = max(span * value / top, 0.0)
            by = y + i * BAR_HEIGHT
            parts.append(
                Markup(
                    '<rect x="{x}" y="{y}" width="{w:.1f}" height="{h}" fill="{c}">'
                    "<title>{n}：{v}</title></rect>"
                    '<text x="{tx:.1f}" y="{ty}" fill="#222">{v}</text>'
                ).format(
                    x=LABEL_WIDTH,
                    y=by + 1,
                    w=length,
                    h=BAR_HEIGHT - 2,
                    c=COLOURS[i % len(COLOURS)],
                    n=f"{category} {s.name}".strip(),
                    v=_figure(value, suffix),
                    tx=LABEL_WIDTH + length + 4,
                    ty=by + BAR_HEIGHT - 4,
                )
            )
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)
