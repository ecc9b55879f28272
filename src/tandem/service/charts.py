"""Plotly figures of the service-level pages, as plain JSON-ready dicts.

The page embeds a figure with ``json_script`` and ``service/results.js`` draws it with the
plotly.js that ships in the ``plotly`` Python package (served by ``service:plotly_js``, never
a CDN). Building dicts, not ``plotly.graph_objects``, keeps a page render cheap; the keys are
Plotly's figure schema (``data``, ``layout``, ``config``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from tandem.service.results import Matrix

#: One colour per priority, the same on every chart (colour-blind-safe, Okabe-Ito).
PRIORITY_COLOURS = {"P1": "#d55e00", "P2": "#e69f00", "P3": "#0072b2", "P4": "#009e73"}
SIDE_COLOURS = {"client": "#0f5c8c", "vendor": "#d55e00"}

_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["select2d", "lasso2d"],
}


def _layout(title: str, months: list[date]) -> dict[str, Any]:
    """Shared layout; no title inside the plot: the card around it names it (``meta`` keeps
    the name for the page's aria-label and Plotly's image download)."""
    return {
        "meta": {"title": title},
        "height": 320,
        "margin": {"l": 56, "r": 16, "t": 12, "b": 40},
        "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "hovermode": "x unified",
        "legend": {"orientation": "h", "y": -0.18},
        "xaxis": {
            "type": "date",
            "tickformat": "%b %Y",
            "dtick": "M1" if len(months) <= 12 else "M3",
            "gridcolor": "#e2e6ec",
        },
        "yaxis": {
            "title": {"text": "met within target"},
            "ticksuffix": " %",
            "rangemode": "tozero",
            "gridcolor": "#e2e6ec",
        },
    }


def _x(months: list[date]) -> list[str]:
    return [m.isoformat() for m in months]


def attainment_figure(matrix: Matrix) -> dict[str, Any]:
    """Attainment % by month, one line per priority, and its goal as a dotted line."""
    data: list[dict[str, Any]] = []
    lowest = 100.0
    for index, priority in enumerate(matrix.priorities):
        colour = PRIORITY_COLOURS.get(priority, "#6b7585")
        cells = [cells[index] for _month, cells in matrix.rows]
        ys = [round(c.attainment * 100, 2) if c.attainment is not None else None for c in cells]
        lowest = min([lowest, *(y for y in ys if y is not None)])
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": priority,
                "legendgroup": priority,
                "x": _x(matrix.months),
                "y": ys,
                "customdata": [[c.met, c.count] for c in cells],
                # met/count with thousands separators (d3-format ",").
                "hovertemplate": f"{priority}: %{{y:.1f}} % "
                "(%{customdata[0]:,}/%{customdata[1]:,})<extra></extra>",
                "line": {"color": colour, "width": 2},
                "connectgaps": False,
            }
        )
        goals = [float(c.goal) * 100 if c.goal is not None else None for c in cells]
        if any(g is not None for g in goals):
            lowest = min([lowest, *(g for g in goals if g is not None)])
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": f"{priority} goal",
                    "legendgroup": priority,
                    "x": _x(matrix.months),
                    "y": goals,
                    "hovertemplate": f"{priority} goal: %{{y:.1f}} %<extra></extra>",
                    "line": {"color": colour, "width": 1, "dash": "dot", "shape": "hv"},
                }
            )
    layout = _layout(f"{matrix.label}: attainment by month", matrix.months)
    layout["yaxis"]["range"] = [max(0.0, min(lowest, 100.0) - 5), 101]
    return {"data": data, "layout": layout, "config": _CONFIG}


def parity_figure(metric_label: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Client (dashed) and vendor (solid) attainment by month, one colour per priority."""
    months = sorted({row["month"] for row in rows})
    priorities = sorted({row["priority"] for row in rows})
    data: list[dict[str, Any]] = []
    for priority in priorities:
        colour = PRIORITY_COLOURS.get(priority, "#6b7585")
        mine = {row["month"]: row for row in rows if row["priority"] == priority}
        for side, dash, label in (("client", "dash", "client team"), ("vendor", "solid", "vendor")):
            ys = []
            for month in months:
                share = (mine.get(month) or {}).get(f"{side}_attainment")
                ys.append(None if share is None else round(share * 100, 2))
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "name": f"{priority} {label}",
                    "legendgroup": priority,
                    "x": _x(months),
                    "y": ys,
                    "hovertemplate": f"{priority} {label}: %{{y:.1f}} %<extra></extra>",
                    "line": {"color": colour, "width": 2, "dash": dash},
                    "marker": {"symbol": "circle" if side == "vendor" else "circle-open"},
                }
            )
    layout = _layout(f"{metric_label}: client team vs vendor", months)
    return {"data": data, "layout": layout, "config": _CONFIG}
