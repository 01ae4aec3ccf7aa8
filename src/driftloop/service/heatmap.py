"""The dashboard's own SVG: the feature-by-window heatmap and the overview's sparklines.

A cell's colour is its ``severity``: 1 on the threshold, below 1 not drifted, above 1 drifted —
the statistic over the threshold for distances, ``log p / log threshold`` for tests (so a
p-value of 0.05 against 0.05 is 1, and 0.0025 is 2).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from markupsafe import Markup

__all__ = ["heatmap", "severity", "sparkline"]

_CELL_W, _CELL_H, _LEFT, _TOP = 16, 16, 150, 78


def _esc(text: Any) -> str:
    return str(Markup.escape(str(text)))


def severity(cell: Mapping[str, Any]) -> float | None:
    """How far past its threshold a feature is (1 = on it), or None when it was not tested.

    Examples
    --------
    >>> severity({"method": "psi", "statistic": 0.2, "p_value": None, "threshold": 0.1})
    2.0
    >>> round(severity({"method": "ks", "statistic": 0.4, "p_value": 0.0025, "threshold": 0.05}), 3)
    2.0
    """
    p, statistic, threshold = cell.get("p_value"), cell.get("statistic"), cell["threshold"]
    if p is not None and 0 < threshold < 1:
        return math.log(max(p, 1e-300)) / math.log(threshold) if p < 1 else 0.0
    if statistic is None or threshold <= 0:
        return None
    return float(statistic) / float(threshold)


def _colour(value: float | None) -> str:
    if value is None:
        return "#e5e7eb"
    if value < 1:  # white to pale amber below the threshold
        t = max(value, 0.0)
        return _hex(255, 255 - 40 * t, 255 - 120 * t)
    t = min((value - 1) / 2, 1.0)  # orange to deep red above it
    return _hex(240 - 60 * t, 140 - 110 * t, 60 - 30 * t)


def _hex(r: float, g: float, b: float) -> str:
    return "#" + "".join(f"{round(c):02x}" for c in (r, g, b))


def _number(value: Any) -> str:
    return "-" if value is None else f"{value:.4g}"


def heatmap(
    windows: Sequence[Mapping[str, Any]], features: Sequence[str], link: str = ""
) -> Markup:
    """Rows of features, one column per window (its start date), each cell titled with the
    method, statistic, p-value and threshold; feature names link to ``link + name``."""
    width = _LEFT + _CELL_W * len(windows) + 48
    height = _TOP + _CELL_H * len(features) + 40
    parts = [
        f'<svg class="heatmap" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="drift per feature and window">'
    ]
    for j, w in enumerate(windows):
        x = _LEFT + j * _CELL_W + _CELL_W - 3
        parts.append(
            f'<text class="tick" transform="translate({x},{_TOP - 4}) rotate(-60)">{w["start"]}'
            "</text>"
        )
    for i, name in enumerate(features):
        y = _TOP + i * _CELL_H
        parts.append(
            f'<a href="{_esc(link + quote(name, safe=""))}"><text class="tick end" x="{_LEFT - 4}" '
            f'y="{y + _CELL_H - 3}">{_esc(name)}</text></a>'
        )
        for j, w in enumerate(windows):
            parts.append(_cell(w, name, _LEFT + j * _CELL_W, y))
    parts.append(_legend(_TOP + _CELL_H * len(features) + 12))
    parts.append("</svg>")
    return Markup("".join(parts))


def _legend(y: int) -> str:
    """Swatches from far below the threshold to far past it."""
    steps = (0.0, 0.5, 0.9, 1.0, 1.5, 2.0, 3.0)
    swatches = "".join(
        f'<rect x="{_LEFT + 16 * i}" y="{y}" width="15" height="10" fill="{_colour(v)}"/>'
        for i, v in enumerate(steps)
    )
    right = _LEFT + 16 * len(steps) + 4
    return (
        f'<g class="legend"><text class="tick end" x="{_LEFT - 4}" y="{y + 9}">below threshold'
        f'</text>{swatches}<text class="tick" x="{right}" y="{y + 9}">past it</text></g>'
    )


def _cell(window: Mapping[str, Any], name: str, x: int, y: int) -> str:
    cell = window["features"].get(name)
    if cell is None:
        title = f"{name}, {window['start']}..{window['end']}: not tested"
        return f'<rect class="cell" x="{x}" y="{y}" width="15" height="15" fill="#f6f7f9"><title>{_esc(title)}</title></rect>'  # noqa: E501
    value = severity(cell)
    title = (
        f"{name}, {window['start']}..{window['end']}: {cell['method']} statistic "
        f"{_number(cell['statistic'])}, p-value {_number(cell['p_value'])}, threshold "
        f"{_number(cell['threshold'])}" + (", drifted" if cell["drifted"] else "")
    )
    return (
        f'<rect class="cell" x="{x}" y="{y}" width="15" height="15" fill="{_colour(value)}" '
        f'data-feature="{_esc(name)}" data-window="{window["start"]}"><title>{_esc(title)}'
        "</title></rect>"
    )


def sparkline(values: Sequence[float | None], *, line: float | None = None) -> Markup:
    """A small line of ``values`` (from 0 up), with an optional dashed level (e.g. drift_share)."""
    width, height = 120, 28
    top = max([v for v in values if v is not None] + [line or 0.0]) * 1.1 or 1.0
    points = [
        f"{4 + (width - 8) * i / max(len(values) - 1, 1):.1f},"
        f"{height - 3 - (height - 6) * min(v / top, 1.0):.1f}"
        for i, v in enumerate(values)
        if v is not None
    ]
    parts = [f'<svg class="spark" width="{width}" height="{height}" role="img" aria-label="trend">']
    if line is not None:
        level = height - 3 - (height - 6) * min(line / top, 1.0)
        parts.append(
            f'<line x1="0" x2="{width}" y1="{level:.1f}" y2="{level:.1f}" class="baseline"/>'
        )
    parts.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="#5b7fa6"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
