"""A self-contained HTML drift report: inline CSS and SVG, no scripts, no network."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from driftloop.report.format import fmt_number, fmt_p

if TYPE_CHECKING:
    from driftloop.drift.results import DriftReport, Histogram

__all__ = [
    "environment",
    "histogram_svg",
    "render_html",
    "stamp_model_outcome",
    "template_environment",
]


def template_environment(package: str) -> Environment:
    """A Jinja environment over ``package``'s ``templates`` folder, autoescaping, with the number
    filters every driftloop page uses (``num``, ``p``)."""
    env = Environment(
        loader=PackageLoader(package, "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = fmt_number
    env.filters["p"] = fmt_p
    return env


_ENV = template_environment("driftloop.report")

_W, _H, _PAD = 420, 140, 18


def environment() -> Environment:
    """The shared Jinja environment (autoescaping, number filters) for every report page."""
    return _ENV


@dataclass(frozen=True, slots=True)
class _Bar:
    x: float
    y: float
    w: float
    h: float
    cls: str
    tip: str


def histogram_svg(hist: Histogram) -> Markup:
    """Grouped bars of reference and current shares, as an inline SVG element."""
    n = len(hist.reference)
    top = max(max(hist.reference, default=0), max(hist.current, default=0)) or 1.0
    slot = (_W - 2 * _PAD) / max(n, 1)
    names = _bin_names(hist)
    bars: list[_Bar] = []
    for i, (r, c) in enumerate(zip(hist.reference, hist.current, strict=True)):
        for j, (share, cls) in enumerate(((r, "ref"), (c, "cur"))):
            h = (_H - 2 * _PAD) * share / top
            x = _PAD + i * slot + j * slot * 0.45 + slot * 0.05
            side = "reference" if cls == "ref" else "current"
            tip = f"{names[i]}: {side} {share:.1%}"
            bars.append(_Bar(x, _H - _PAD - h, slot * 0.42, h, cls, tip))
    parts = [
        f'<svg class="hist" viewBox="0 0 {_W} {_H}" role="img" aria-label="distribution">',
        f'<line x1="{_PAD}" y1="{_H - _PAD}" x2="{_W - _PAD}" y2="{_H - _PAD}" class="axis"/>',
        *_share_axis(top),
    ]
    for b in bars:
        parts.append(
            f'<rect x="{b.x:.1f}" y="{b.y:.1f}" width="{b.w:.1f}" height="{b.h:.1f}" '
            f'class="{b.cls}"><title>{_esc(b.tip)}</title></rect>'
        )
    parts += _axis_labels(hist, names, slot)
    parts.append("</svg>")
    return Markup("".join(parts))


def _share_axis(top: float) -> list[str]:
    """The y axis: the share of rows in a bar, from 0 to the tallest bar."""
    parts = [f'<line x1="{_PAD}" y1="{_PAD}" x2="{_PAD}" y2="{_H - _PAD}" class="axis"/>']
    for frac in (0.0, 0.5, 1.0):
        y = _H - _PAD - (_H - 2 * _PAD) * frac
        parts.append(
            f'<text x="{_PAD - 2}" y="{y + 3:.1f}" class="tick end yaxis">{top * frac:.0%}</text>'
        )
    return parts


def _bin_names(hist: Histogram) -> list[str]:
    if hist.labels is not None:
        return list(hist.labels)
    edges = hist.edges or ()
    return [f"[{edges[i]:.4g}, {edges[i + 1]:.4g})" for i in range(len(edges) - 1)]


def _axis_labels(hist: Histogram, names: list[str], slot: float) -> list[str]:
    y = _H - 4
    if hist.labels is None and hist.edges:
        lo, hi = hist.edges[0], hist.edges[-1]
        return [
            f'<text x="{_PAD}" y="{y}" class="tick">{lo:.4g}</text>',
            f'<text x="{_W - _PAD}" y="{y}" class="tick end">{hi:.4g}</text>',
        ]
    step = max(1, len(names) // 10)
    return [
        f'<text x="{_PAD + (i + 0.5) * slot:.1f}" y="{y}" class="tick mid">{_esc(name[:8])}</text>'
        for i, name in enumerate(names)
        if i % step == 0
    ]


def _esc(text: str) -> str:
    return str(Markup.escape(text))


_OUTCOME = re.compile(r"<!--model-outcome-->.*?<!--/model-outcome-->", re.S)


def render_html(
    report: DriftReport, *, title: str = "Drift report", run_id: str | None = None
) -> str:
    """The whole report as one HTML document (well under 1 MB even for many columns).

    With ``run_id`` (a report of the loop) it names its run and keeps a place for what happened
    to the model, which `stamp_model_outcome` fills in once the run has decided.

    Examples
    --------
    >>> import numpy as np, polars as pl, driftloop
    >>> rng = np.random.default_rng(0)
    >>> ref, cur = (pl.DataFrame({"x": rng.normal(m, size=200)}) for m in (0.0, 1.0))
    >>> html = render_html(driftloop.detect(ref, cur))
    >>> html.startswith("<!doctype html>"), "<svg" in html, "http" in html
    (True, True, False)
    """
    ranked = sorted(report.columns, key=lambda c: (not c.drifted, c.name))
    template = _ENV.get_template("report.html")
    return template.render(
        title=title,
        report=report,
        columns=ranked,
        charts={c.name: histogram_svg(c.histogram) for c in report.columns if c.histogram},
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        run_id=run_id,
    )


def stamp_model_outcome(path: Path, outcome: str) -> None:
    """Write what happened to the model into a loop report written by `render_html`
    (``outcome`` empty: the run did not retrain). A report without its place is left as is."""
    if not path.is_file():
        return
    text = path.read_text(encoding="utf-8")
    line = outcome or "not retrained in this run"
    stamped = f"<!--model-outcome-->model: {_esc(line)}<!--/model-outcome-->"
    path.write_text(_OUTCOME.sub(lambda _: stamped, text, count=1), encoding="utf-8")
