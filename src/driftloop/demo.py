"""The demo: synthetic bike-sharing data, January 2011 as reference, each later month checked."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from rich.console import Console

from driftloop.data.demo import bike_sharing
from driftloop.data.sources import filter_window
from driftloop.drift import DriftReport, detect

__all__ = ["DEMO_COLUMNS", "run_demo"]

DEMO_COLUMNS = (
    "season", "holiday", "weekday", "workingday", "weathersit",
    "temp", "atemp", "hum", "windspeed", "casual", "registered", "cnt",
)  # fmt: skip


def _month(year: int, month: int) -> tuple[dt.date, dt.date]:
    first = dt.date(year, month, 1)
    last = dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)
    return first, last


def run_demo(out_dir: Path, *, console: Console) -> list[DriftReport]:
    """Check February-December 2011 against January 2011; write HTML and JSON reports."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data = bike_sharing()
    console.print("[bold]driftloop demo[/] · synthetic bike-sharing data (UCI day.csv schema)")
    reference = filter_window(data, "dteday", *_month(2011, 1), source="synthetic data")
    console.print(f"reference: January 2011, {reference.height} days")
    reports = []
    for month in range(2, 13):
        start, end = _month(2011, month)
        current = filter_window(data, "dteday", start, end, source="synthetic data")
        report = detect(reference, current, columns=DEMO_COLUMNS)
        stem = out_dir / f"drift-{start:%Y-%m}"
        report.to_html(stem.with_suffix(".html"), title=f"Drift report {start:%B %Y}")
        report.to_json(stem.with_suffix(".json"))
        verdict = "[red]DRIFT[/]   " if report.dataset_drift else "[green]no drift[/]"
        drifted = ", ".join(report.drifted_columns) or "-"
        console.print(
            f"{start:%Y-%m}  {verdict}  {report.share_drifted:4.0%} drifted  "
            f"{len(report.degradation)} degradation  features: {drifted}"
        )
        reports.append(report)
    console.print(f"reports: {out_dir}/drift-YYYY-MM.html (and .json)")
    return reports
