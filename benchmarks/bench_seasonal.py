"""Seasonal baselines and segment drift, measured on the synthetic bike data.

Seasonal: each month of 2012 is checked against a fixed January 2011 reference and against the
``same_period``, ``lag`` and ``trailing`` baselines (the windows ``fetch_reference`` would read);
prints the mean number of drifted weather columns (temp, atemp, hum, windspeed) per month, and how
often a +0.5 SD temp shift injected into the month is still caught.

Segments: two 365-row resamples, windspeed moved +0.5 SD on non-working days only (about 31% of
rows); how often the whole data flags windspeed, how often a workingday segment does
(Benjamini-Hochberg across segment x feature), and how often a no-drift pair gives any finding.

Writes benchmarks/results/seasonal.md.

    python benchmarks/bench_seasonal.py [--trials 200]
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

import driftloop
from driftloop.config import BaselineConfig
from driftloop.data.sources import filter_window
from driftloop.data.synthetic import bike_sharing
from driftloop.demo import month
from driftloop.errors import EmptyDataError
from driftloop.pipeline.baseline import reference_windows

WEATHER = ["temp", "atemp", "hum", "windspeed"]
BASELINES: dict[str, dict[str, Any]] = {
    "fixed (January 2011)": {"type": "fixed"},
    "same_period, 1 year": {"type": "same_period", "years": 1},
    "lag, 364 days": {"type": "lag", "days": 364},
    "trailing, 28 days": {"type": "trailing", "days": 28},
}
RESULTS = Path(__file__).parent / "results" / "seasonal.md"


def reference(data: pl.DataFrame, baseline: BaselineConfig, run: tuple[dt.date, dt.date]) -> Any:
    windows = reference_windows(baseline, run, month(2011, 1)) or [month(2011, 1)]
    parts = []
    for start, end in windows:
        try:
            parts.append(filter_window(data, "dteday", start, end))
        except EmptyDataError:
            continue
    return pl.concat(parts)


def seasonal(data: pl.DataFrame) -> list[tuple[str, float, float]]:
    """(baseline, mean drifted weather columns per 2012 month, share of months a +0.5 SD temp
    shift is caught)."""
    sd = float(data["temp"].std())  # type: ignore[arg-type]
    rows = []
    for name, raw in BASELINES.items():
        baseline = BaselineConfig.model_validate(raw)
        drifted, caught = [], []
        for number in range(1, 13):
            run = month(2012, number)
            ref, cur = reference(data, baseline, run), filter_window(data, "dteday", *run)
            drifted.append(len(driftloop.detect(ref, cur, columns=WEATHER).drifted_columns))
            shifted = cur.with_columns(pl.col("temp") + 0.5 * sd)
            caught.append("temp" in driftloop.detect(ref, shifted, columns=WEATHER).drifted_columns)
        rows.append((name, float(np.mean(drifted)), float(np.mean(caught))))
    return rows


def segments(data: pl.DataFrame, trials: int) -> tuple[float, float, float, float]:
    """(whole-data detection, per-segment detection, whole-data and per-segment false alarms)."""
    data = data.select("workingday", *WEATHER)
    sd = float(data["windspeed"].std())  # type: ignore[arg-type]
    config = {"fdr": True, "segments": [{"column": "workingday"}]}
    rng = np.random.default_rng(0)
    hits = np.zeros((2, 2))
    for shift in (True, False):
        for _ in range(trials):
            ref, cur = (_resample(data, rng) for _ in "rc")
            if shift:
                moved = pl.col("windspeed") + 0.5 * sd
                off = pl.col("workingday") == 0
                cur = cur.with_columns(pl.when(off).then(moved).otherwise("windspeed"))
            report = driftloop.detect(ref, cur, columns=WEATHER, config=config)
            findings = report.segment_findings
            if shift:
                in_segment = any(f.startswith("windspeed") for f in findings)
                hits[0] += ["windspeed" in report.drifted_columns, in_segment]
            else:
                hits[1] += [bool(report.drifted_columns), bool(findings)]
    rates = hits / trials
    return rates[0, 0], rates[0, 1], rates[1, 0], rates[1, 1]


def _resample(data: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    return data.sample(365, with_replacement=True, seed=int(rng.integers(2**31)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    args = parser.parse_args()
    data = bike_sharing()
    lines = [
        "# Seasonal baselines and segment drift (synthetic bike data)",
        "",
        "Each 2012 month against each baseline; weather columns: " + ", ".join(WEATHER) + ".",
        "",
        "| baseline | mean drifted weather columns per month | +0.5 SD temp shift caught |",
        "|---|---|---|",
    ]
    for name, mean, caught in seasonal(data):
        lines.append(f"| {name} | {mean:.2f} | {caught:.0%} |")
    whole, per_segment, whole_fa, segment_fa = segments(data, args.trials)
    lines += [
        "",
        "The synthetic data's seasons are milder than the real UCI data's, where a fixed January",
        "reference flags 4.25 columns per 2012 month and the same weeks last year 2.17.",
        "The temp shift is 0.5 SD of temp over both years. A trailing baseline follows the",
        "season: in cooling months (August to January) the shift is cancelled by the fall",
        "from the weeks before.",
        "",
        f"Segments ({args.trials} trials each, 365 vs 365 rows, windspeed +0.5 SD where "
        "workingday = 0, BH across segment x feature):",
        "",
        "| | whole data | per segment (workingday) |",
        "|---|---|---|",
        f"| shift caught (windspeed flagged) | {whole:.1%} | {per_segment:.1%} |",
        f"| no-drift pairs with any finding | {whole_fa:.1%} | {segment_fa:.1%} |",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
