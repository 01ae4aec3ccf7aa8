"""Segments from a segmented profile against segments from the rows: agreement, false alarms, speed.

1. Agreement: a 2M-row reference and a 2M-row window of ``bench_profile_build.py``'s columns (10
   numeric + 2 categorical, ``region`` with 20 values), the window shifted by +0.1 SD in two
   numeric columns inside one region only. `detect` with ``detection.segments`` by region from the
   rows and from the segmented reference profile: the drifted segments and columns of each, and
   the disagreements on count-based columns (the categorical ones and the integer ``num_7``).
2. False alarms: TRIALS no-drift pairs (20,000 rows a side, 20 regions, all 12 columns tested in
   each), the reference a segmented profile: the share of windows with any segment finding after
   the window's family control.
3. Speed: `detect` of a 1M-row window against a segmented profile of 5M rows, with segments and
   multivariate drift on (median of 3).

    python benchmarks/bench_segment_profile.py [--trials 200]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_profile_build import _group  # noqa: E402

REGIONS = np.array([f"region-{i:02d}" for i in range(20)])
PRODUCTS = np.array([f"sku-{i:04d}" for i in range(300)])
WEIGHTS = (1.0 / np.arange(1, 301)) / (1.0 / np.arange(1, 301)).sum()
SEGMENTS = {"segments": [{"column": "region"}]}
COUNTED = ("num_7", "product", "region")  # exact counts on both paths


def rows(n: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pl.DataFrame(pl.from_arrow(pa.table(_group(rng, n, REGIONS, PRODUCTS, WEIGHTS))))
    return frame.with_columns(pl.col("num_7").cast(pl.Float64))


def agreement() -> list[str]:
    import driftloop

    reference, window = rows(2_000_000, 0), rows(2_000_000, 1)
    inside = pl.col("region") == "region-03"
    window = window.with_columns(
        pl.when(inside).then(pl.col("num_1") + 1.0).otherwise(pl.col("num_1")).alias("num_1"),
        pl.when(inside).then(pl.col("num_4") + 0.0577).otherwise(pl.col("num_4")).alias("num_4"),
    )
    from_rows = driftloop.detect(reference, window, config=SEGMENTS)
    seg_profile = driftloop.profile(reference, segment_by=["region"])
    from_profile = driftloop.detect(seg_profile, window, config=SEGMENTS)
    found = {
        name: sorted(r.segment_findings)
        for name, r in (("rows", from_rows), ("profile", from_profile))
    }
    disagree = {"counted": 0, "other": 0}
    for a, b in zip(from_rows.segments, from_profile.segments, strict=True):
        for x, y in zip(a.columns, b.columns, strict=True):
            if x.drifted != y.drifted:
                disagree["counted" if x.name in COUNTED else "other"] += 1
    return [
        "## 1. Agreement (2M rows a side, +0.1 SD in num_1 and num_4 inside region-03 only)",
        f"- segment findings from the rows: {found['rows']}",
        f"- segment findings from the segmented profile: {found['profile']}",
        f"- same findings: {found['rows'] == found['profile']}",
        f"- per-segment column verdicts that disagree: {disagree['counted']} on count-based "
        f"columns ({', '.join(COUNTED)}), {disagree['other']} on sketched columns "
        f"(of {20 * 12} segment x column tests)",
    ]


def false_alarms(trials: int) -> list[str]:
    import driftloop

    flagged = 0
    started = time.perf_counter()
    for trial in range(trials):
        reference = driftloop.profile(rows(20_000, 2 * trial + 100), segment_by=["region"])
        report = driftloop.detect(reference, rows(20_000, 2 * trial + 101), config=SEGMENTS)
        flagged += bool(report.segment_findings)
    rate = flagged / trials
    se = math.sqrt(rate * (1 - rate) / trials)
    return [
        f"## 2. No drift, {trials} pairs of 20,000 rows, 20 regions x 12 columns from a profile",
        f"- windows with any segment finding: **{rate:.1%}** ± {se:.1%} "
        f"({time.perf_counter() - started:.0f} s)",
    ]


def speed() -> list[str]:
    import driftloop

    reference = driftloop.profile(rows(5_000_000, 0), segment_by=["region"])
    window = rows(1_000_000, 1)
    config = {**SEGMENTS, "multivariate": {}}
    times = []
    for _ in range(3):
        started = time.perf_counter()
        report = driftloop.detect(reference, window, config=config)
        times.append(time.perf_counter() - started)
    return [
        "## 3. detect of a 1M-row window against a segmented profile (5M rows, 20 regions)",
        f"- with segments and multivariate: median {statistics.median(times):.2f} s "
        f"(runs: {', '.join(f'{t:.2f}' for t in times)}); {len(report.segments)} segments, "
        f"{len(report.multivariate)} multivariate checks",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    args = parser.parse_args()
    lines = []
    for section in (agreement, speed, lambda: false_alarms(args.trials)):
        lines += section()
        print("\n".join(lines[-4:]), flush=True)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    out = HERE / "results" / "segment_profile.md"
    head = f"# Segments from profiles ({stamp}, 2 shared cores, `bench_segment_profile.py`)\n\n"
    out.write_text(head + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
