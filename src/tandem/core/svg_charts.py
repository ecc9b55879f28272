"""Static SVG charts for printed reports: a line chart and a bar chart, as text.

A PDF has no JavaScript, so the pages' plotly charts cannot go into it. These functions
return a complete ``<svg>`` element (inline in a report template, ``|safe`` after it) with
axes, tick labels, a legend, dashed goal lines and a title. Pure Python: no
Django, no I/O. The output is deterministic (same input, same bytes: coordinates are
rounded to two places) and every text that came from data is XML-escaped, so a name such
as ``<P1 & "urgent">`` prints as written and never breaks the document.

Values are numbers or ``None`` (nothing measured: a gap in a line, no bar). The value axis
runs from ``low`` to ``high`` (0 to 1 by default, labelled as percentages with
``percent=True``); a value outside is drawn at the edge.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape as _escape

#: Series colours (colour-blind friendly: Okabe-Ito), in order.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000")
GOAL_COLOUR = "#C0392B"
#: The report font first (shipped with Tandem, ``core/reports/base.html``), then fallbacks.
FONT = "Tandem Sans, DejaVu Sans, sans-serif"


@dataclass(frozen=True)
class Goal:
    """A goal line: its value and whose it is (e.g. "P1"); equal values share one line."""

    value: float | None
    name: str = ""


@dataclass(frozen=True)
class Series:
    """One named line (or bar colour) of values, one per category (``None``: no value)."""

    name: str
    values: tuple[float | None, ...]


def text(value: object) -> str:
    """``value`` as XML character data or an attribute value (quotes escaped too), with the
    characters XML 1.0 forbids (controls other than tab and newline) dropped."""
    cleaned = "".join(
        ch
        for ch in str(value)
        if ch in "\t\n" or (" " <= ch <= "\ud7ff") or ("\ue000" <= ch <= "\ufffd") or ch > "\uffff"
    )
    return _escape(cleaned, {'"': "&quot;", "'": "&#39;"})


def _n(value: float) -> str:
    """A coordinate: two places, no ``-0``."""
    out = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if out in ("-0", "") else out


def _finite(value: float | None) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _label(value: float, percent: bool) -> str:
    if percent:
        shown = f"{value * 100:.1f}".rstrip("0").rstrip(".")
        return f"{shown} %"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class _Frame:
    width: int
    height: int
    low: float
    high: float
    left: int = 56
    right: int = 12
    top: int = 30
    bottom: int = 48

    @property
    def plot_width(self) -> float:
        return self.width - self.left - self.right

    @property
    def plot_height(self) -> float:
        return self.height - self.top - self.bottom

    def y(self, value: float) -> float:
        span = self.high - self.low
        share = (value - self.low) / span if span else 0.0
        share = min(1.0, max(0.0, share))
        return self.top + self.plot_height * (1 - share)

    def band(self, index: int, count: int) -> tuple[float, float]:
        """The left edge and width of category ``index``'s band."""
        width = self.plot_width / max(count, 1)
        return self.left + index * width, width


def _open(frame: _Frame, title: str, label: str) -> list[str]:
    name = text(label or title)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{frame.width}" height="{frame.height}" '
        f'viewBox="0 0 {frame.width} {frame.height}" role="img" aria-label="{name}" '
        f'font-family="{FONT}" font-size="10">',
        f"<title>{name}</title>",
        f'<text x="{frame.left}" y="16" font-size="12" font-weight="bold">{text(title)}</text>',
    ]


def _axes(frame: _Frame, categories: Sequence[str], percent: bool, ticks: int) -> list[str]:
    parts = ['<g class="axes" stroke="#999" stroke-width="0.5">']
    labels = ['<g class="tick-labels" fill="#333">']
    for step in range(ticks + 1):
        value = frame.low + (frame.high - frame.low) * step / ticks
        y = _n(frame.y(value))
        dashes = "" if step == 0 else ' stroke-dasharray="2,2"'
        parts.append(
            f'<line x1="{frame.left}" y1="{y}" x2="{_n(frame.left + frame.plot_width)}" y2="{y}"'
            f"{dashes}/>"
        )
        labels.append(
            f'<text x="{frame.left - 4}" y="{_n(frame.y(value) + 3)}" '
            f'text-anchor="end">{text(_label(value, percent))}</text>'
        )
    parts.append(
        f'<line x1="{frame.left}" y1="{frame.top}" x2="{frame.left}" '
        f'y2="{_n(frame.top + frame.plot_height)}"/>'
    )
    parts.append("</g>")
    # Every category labelled when they fit, else every second, third... (the first kept).
    widest = max((len(str(category)) for category in categories), default=0) * 6.0 + 8
    fits = max(1, int(frame.plot_width // max(widest, 1.0)))
    step = max(1, math.ceil(len(categories) / fits))
    for index, category in enumerate(categories):
        if index % step:
            continue
        start, width = frame.band(index, len(categories))
        labels.append(
            f'<text x="{_n(start + width / 2)}" y="{_n(frame.top + frame.plot_height + 14)}" '
            f'text-anchor="middle">{text(category)}</text>'
        )
    labels.append("</g>")
    return parts + labels


def _goal_values(goals: Sequence[Goal]) -> dict[float, list[str]]:
    """Each distinct finite goal value (highest first) and whose goals it is."""
    named: dict[float, list[str]] = {}
    for goal in goals:
        value = _finite(goal.value)
        if value is not None:
            named.setdefault(value, []).append(goal.name)
    return dict(sorted(named.items(), reverse=True))


def _goals(frame: _Frame, goals: Sequence[Goal]) -> list[str]:
    """Dashed horizontal lines, one per distinct value (the legend says whose)."""
    end = _n(frame.left + frame.plot_width)
    parts = []
    for value in _goal_values(goals):
        y = _n(frame.y(value))
        parts.append(
            f'<line class="goal" x1="{frame.left}" y1="{y}" x2="{end}" y2="{y}" '
            f'stroke="{GOAL_COLOUR}" stroke-width="1.2" stroke-dasharray="6,3"/>'
        )
    return parts


def goal_caption(goals: Sequence[Goal], percent: bool = True) -> str:
    """ "Goal 95 % (P1, P2) · 90 % (P3)": what the dashed lines are."""
    said = []
    for value, names in _goal_values(goals).items():
        whose = ", ".join(name for name in names if name)
        said.append(_label(value, percent) + (f" ({whose})" if whose else ""))
    return f"Goal {' · '.join(said)}" if said else ""


def _legend(frame: _Frame, names: Sequence[str], goals: Sequence[Goal], percent: bool) -> list[str]:
    caption = goal_caption(goals, percent)
    if not names and not caption:
        return []
    parts = ['<g class="legend">']
    x = float(frame.left)
    y = frame.height - 10
    for index, name in enumerate(names):
        colour = PALETTE[index % len(PALETTE)]
        parts.append(
            f'<rect x="{_n(x)}" y="{y - 8}" width="10" height="8" fill="{colour}"/>'
            f'<text x="{_n(x + 14)}" y="{y}">{text(name)}</text>'
        )
        x += 24 + 6.2 * len(name)
    if caption:
        parts.append(
            f'<line x1="{_n(x)}" y1="{y - 4}" x2="{_n(x + 16)}" y2="{y - 4}" '
            f'stroke="{GOAL_COLOUR}" stroke-width="1.2" stroke-dasharray="6,3"/>'
            f'<text class="goal-caption" x="{_n(x + 20)}" y="{y}" '
            f'fill="{GOAL_COLOUR}">{text(caption)}</text>'
        )
    parts.append("</g>")
    return parts


def line_chart(
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    title: str = "",
    goals: Sequence[Goal] = (),
    low: float = 0.0,
    high: float = 1.0,
    percent: bool = True,
    width: int = 520,
    height: int = 240,
    ticks: int = 4,
    label: str = "",
) -> str:
    """Lines over ``categories`` (e.g. months), one per series, with a point at each value;
    a ``None`` breaks the line. Each of ``goals`` draws a dashed horizontal line; the legend
    says whose."""
    frame = _Frame(width, height, low, high if high > low else low + 1)
    parts = _open(frame, title, label)
    parts += _axes(frame, categories, percent, max(ticks, 1))
    parts += _goals(frame, goals)
    for index, one in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        parts.append(f'<g class="series" fill="{colour}" stroke="{colour}">')
        runs: list[list[tuple[float, float]]] = [[]]
        for position, _category in enumerate(categories):
            raw = one.values[position] if position < len(one.values) else None
            value = _finite(raw)
            if value is None:
                runs.append([])
                continue
            start, band = frame.band(position, len(categories))
            runs[-1].append((start + band / 2, frame.y(value)))
        for run in runs:
            if len(run) > 1:
                points = " ".join(f"{_n(x)},{_n(y)}" for x, y in run)
                parts.append(f'<polyline points="{points}" fill="none" stroke-width="1.5"/>')
            for x, y in run:
                parts.append(f'<circle cx="{_n(x)}" cy="{_n(y)}" r="2.5" stroke="none"/>')
        parts.append("</g>")
    parts += _legend(frame, [one.name for one in series], goals, percent)
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    title: str = "",
    goals: Sequence[Goal] = (),
    low: float = 0.0,
    high: float = 1.0,
    percent: bool = True,
    width: int = 520,
    height: int = 240,
    ticks: int = 4,
    label: str = "",
) -> str:
    """Grouped bars: per category, one bar per series side by side (``None``: no bar)."""
    frame = _Frame(width, height, low, high if high > low else low + 1)
    parts = _open(frame, title, label)
    parts += _axes(frame, categories, percent, max(ticks, 1))
    count = max(len(series), 1)
    base = frame.y(max(low, min(0.0, high)) if low <= 0 <= high else low)
    for index, one in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        parts.append(f'<g class="series" fill="{colour}">')
        for position, _category in enumerate(categories):
            raw = one.values[position] if position < len(one.values) else None
            value = _finite(raw)
            if value is None:
                continue
            start, band = frame.band(position, len(categories))
            bar = band * 0.8 / count
            x = start + band * 0.1 + index * bar
            y = frame.y(value)
            top, bottom = min(y, base), max(y, base)
            parts.append(
                f'<rect x="{_n(x)}" y="{_n(top)}" width="{_n(bar)}" height="{_n(bottom - top)}"/>'
            )
        parts.append("</g>")
    parts += _goals(frame, goals)
    parts += _legend(frame, [one.name for one in series], goals, percent)
    parts.append("</svg>")
    return "".join(parts)
