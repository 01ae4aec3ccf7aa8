"""Small inline SVG charts: lines over labelled points, with an optional band and baseline."""

from __future__ import annotations

import math
from collections.abc import Sequence

from markupsafe import Markup

__all__ = ["line_chart"]

_COLORS = ("#e0872f", "#5b7fa6", "#2e7d32", "#b42318", "#6b4fa0", "#00838f")
_LOG_FLOOR = 1e-16  # p-values below (0 included) are drawn at the floor: "<1e-16"


def _esc(text: str) -> str:
    return str(Markup.escape(text))


def line_chart(
    labels: Sequence[str],
    series: dict[str, Sequence[float | None]],
    *,
    title: str = "",
    baseline: float | None = None,
    band: tuple[Sequence[float | None], Sequence[float | None]] | None = None,
    marks: Sequence[bool] | None = None,
    log: bool = False,
    width: int = 640,
    height: int = 220,
) -> Markup:
    """Lines (one per series) over ``labels``; ``band`` shades an interval around the first
    series, ``baseline`` draws a dashed reference line, ``marks`` rings flagged points; ``log``
    draws the y axis in powers of ten (p-values: 0.05 and 1e-12 both readable).

    Examples
    --------
    >>> svg = line_chart(["w1", "w2", "w3"], {"rmse": [1.0, 1.2, 2.5]}, baseline=1.0)
    >>> svg.startswith("<svg") and "polyline" in svg
    True
    >>> svg = line_chart(["w1", "w2"], {"p-value": [0.4, 1e-9]}, baseline=0.05, log=True)
    >>> ">1e-09<" in svg and ">1<" in svg
    True
    """
    pad_l, pad_r, pad_t, pad_b = 48, 12, 22, 34
    scale = _log_scale if log else float
    values = [scale(v) for s in series.values() for v in s if v is not None]
    if band is not None:
        values += [scale(v) for side in band for v in side if v is not None]
    if baseline is not None:
        values.append(scale(baseline))
    low, high = _bounds(values, log)
    n = max(len(labels), 1)

    def x(i: int) -> float:
        return pad_l + (width - pad_l - pad_r) * (i + 0.5) / n

    def y(v: float) -> float:
        return pad_t + (height - pad_t - pad_b) * (1 - (scale(v) - low) / (high - low))

    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{_esc(title)}">'
    ]
    if title:
        parts.append(f'<text x="{pad_l}" y="14" class="title">{_esc(title)}</text>')
    for v in _ticks(low, high, log):
        parts.append(f'<text x="{pad_l - 4}" y="{y(v) + 3:.1f}" class="tick end">{v:.4g}</text>')
        parts.append(
            f'<line x1="{pad_l}" y1="{y(v):.1f}" x2="{width - pad_r}" y2="{y(v):.1f}" '
            'class="grid"/>'
        )
    if band is not None:
        upper = [(x(i), y(v)) for i, v in enumerate(band[1]) if v is not None]
        lower = [(x(i), y(v)) for i, v in enumerate(band[0]) if v is not None]
        if upper and lower:
            points = " ".join(f"{a:.1f},{b:.1f}" for a, b in [*upper, *reversed(lower)])
            parts.append(f'<polygon points="{points}" class="band"/>')
    if baseline is not None:
        parts.append(
            f'<line x1="{pad_l}" y1="{y(baseline):.1f}" x2="{width - pad_r}" '
            f'y2="{y(baseline):.1f}" class="baseline"/>'
        )
    for k, (name, seq) in enumerate(series.items()):
        color = _COLORS[k % len(_COLORS)]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(seq) if v is not None)
        parts.append(f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2"/>')
        for i, point in enumerate(seq):
            if point is None:
                continue
            flagged = marks is not None and k == 0 and i < len(marks) and marks[i]
            radius = 5 if flagged else 3
            ring = ' stroke="#b42318" stroke-width="2"' if flagged else ""
            label = _esc(labels[i] if i < len(labels) else "")
            parts.append(
                f'<circle cx="{x(i):.1f}" cy="{y(point):.1f}" r="{radius}" fill="{color}"{ring}>'
                f"<title>{label}: {name} {point:.4g}</title></circle>"
            )
        parts.append(
            f'<text x="{width - pad_r}" y="{14 + 12 * k}" class="tick end" '
            f'style="fill:{color}">{_esc(name)}</text>'
        )
    most = max(1, (width - pad_l - pad_r) // 70)  # a 10-character label needs about 70 px
    step = -(-n // most)
    for i, label in enumerate(labels):
        if i % step == 0:
            parts.append(
                f'<text x="{x(i):.1f}" y="{height - 12}" class="tick mid">{_esc(label[:10])}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def _log_scale(value: float) -> float:
    return math.log10(max(value, _LOG_FLOOR))


def _bounds(values: list[float], log: bool) -> tuple[float, float]:
    """The drawn range of (scaled) ``values``: a 5% margin, or whole decades on a log axis."""
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    if log:  # whole decades, the bottom one labelled too (up to five labels)
        low, high = math.floor(low), max(math.ceil(high), 0.0)
        decades = max(1, int(high - low))
        step = math.ceil(decades / 4)
        return high - step * math.ceil(decades / step), high
    if high == low:
        low, high = low - 1, high + 1
    span = high - low
    return low - 0.05 * span, high + 0.05 * span


def _ticks(low: float, high: float, log: bool) -> list[float]:
    """The y axis' labelled values: three on a linear axis, up to five decades on a log one."""
    if not log:
        return [low + frac * (high - low) for frac in (0.0, 0.5, 1.0)]
    step = max(1, math.ceil((high - low) / 4))
    return [10.0**d for d in range(int(high), int(low) - 1, -step)]
