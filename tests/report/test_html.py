"""The HTML report: self-contained, every column present, small; the Markdown summary."""

from __future__ import annotations

from html.parser import HTMLParser

import numpy as np
import polars as pl
import pytest

import driftloop


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[str] = []
        self.charts: list[str] = []
        self.alerts: list[tuple[str, str]] = []
        self.urls: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.add(tag)
        if tag == "tr" and a.get("data-column"):
            self.rows.append(a["data-column"] or "")
        if a.get("data-chart"):
            self.charts.append(a["data-chart"] or "")
        if a.get("data-kind"):
            self.alerts.append((a.get("data-feature") or "", a["data-kind"] or ""))
        for key in ("src", "href"):
            if a.get(key):
                self.urls.append(a[key] or "")


def wide(n: int, seed: int = 0) -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    sides = []
    for shift in (0.0, 0.3):
        cols: dict[str, object] = {
            f"num_{i:02d}": rng.normal(shift * (i < 5), size=n) for i in range(20)
        }
        cols |= {f"cat_{j}": rng.choice(["a", "b", "c", "d<&>"], n) for j in range(5)}
        sides.append(pl.DataFrame(cols))
    return sides[0], sides[1]


def parse(html: str) -> _Collector:
    collector = _Collector()
    collector.feed(html)
    return collector


def test_every_column_in_table_and_charts_and_no_external_resource() -> None:
    ref, cur = wide(5000)
    cur = cur.with_columns(pl.lit(1.0).alias("num_19"))
    report = driftloop.detect(ref, cur)
    html = report.to_html(title="Weekly <check>")
    parsed = parse(html)
    names = [c.name for c in report.columns]
    assert sorted(parsed.rows) == sorted(names)
    assert sorted(parsed.charts) == sorted(names)
    assert ("num_19", "constant") in parsed.alerts
    assert parsed.urls == [] and "script" not in parsed.tags
    assert "Weekly &lt;check&gt;" in html and "d&lt;&amp;&gt;" in html  # escaped
    assert ("Dataset drift detected" in html) is report.dataset_drift
    assert "No dataset drift" in html


@pytest.mark.slow
def test_size_stays_under_a_megabyte_and_does_not_grow_with_rows(tmp_path) -> None:
    small = driftloop.detect(*wide(1000)).to_html()
    path = tmp_path / "r.html"
    driftloop.detect(*wide(200_000)).to_html(path)
    size = path.stat().st_size
    assert size < 1_000_000
    assert abs(size - len(small.encode())) / size < 0.1


def test_markdown_summary_lists_top_features_and_alerts() -> None:
    ref, cur = wide(2000)
    cur = cur.with_columns(pl.lit(None, dtype=pl.Float64).alias("num_10"))
    text = driftloop.detect(ref, cur).to_markdown(top=3)
    lines = text.splitlines()
    assert lines[0].startswith("*No dataset drift*: 5 of 24 tested features drifted")
    assert sum(line.startswith("• `num_0") for line in lines) == 3
    assert "• … and 2 more" in lines
    assert any("`num_10` null_rate" in line for line in lines)


def test_each_histogram_has_a_share_axis_from_zero_to_its_tallest_bar() -> None:
    import re

    from driftloop.report.html import histogram_svg

    ref, cur = wide(2000)
    report = driftloop.detect(ref, cur)
    column = next(c for c in report.columns if c.histogram is not None)
    assert column.histogram is not None
    svg = str(histogram_svg(column.histogram))
    ticks = re.findall(r'class="tick end yaxis">([0-9]+)%</text>', svg)
    top = max(*column.histogram.reference, *column.histogram.current)
    assert ticks == ["0", f"{top * 50:.0f}", f"{top * 100:.0f}"]


def test_a_loop_report_names_its_run_and_then_the_model_outcome(tmp_path) -> None:
    from driftloop.report.html import render_html, stamp_model_outcome

    ref, cur = wide(500)
    html = render_html(driftloop.detect(ref, cur), title="bikes", run_id="20110301T110000-abc")
    assert "run 20110301T110000-abc" in html and "model: decided after this report" in html
    path = tmp_path / "report.html"
    path.write_text(html)
    stamp_model_outcome(path, "v2 promoted to production (rmsle 0.18 beats <v1>'s 0.21)")
    stamped = path.read_text()
    assert "model: v2 promoted to production (rmsle 0.18 beats &lt;v1&gt;&#39;s 0.21)" in stamped
    assert "decided after this report" not in stamped
    stamp_model_outcome(path, "")
    assert "model: not retrained in this run" in path.read_text()
