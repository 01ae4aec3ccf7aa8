"""Calibration against a reference profile, measured on fresh windows from the population.

A pipeline whose reference is a profile calibrates by drawing no-drift windows from the profile
(``driftloop.pipeline.profile_calibration``). Is that honest? This benchmark:

1. draws a reference of ``--reference-rows`` rows (default 1,000,000) from a fixed population of
   20 numeric columns (normal, lognormal, Student t, Poisson counts, wide integers, mixtures,
   rounded values) and 5 categorical ones, and profiles it;
2. calibrates each window size against the profile (``calibrate_drawn`` with the profile
   sampler), target: one false alarm (any feature) per 13 windows;
3. draws ``--fresh`` new windows from the *population itself* (never from the profile), tests
   each against the profile with the current and the proposed thresholds, and reports the share
   with any feature flagged (95% Wilson interval), beside the rate calibrate printed;
4. prints the methods ``auto`` chose, the profile's build time and size, and the cost of a
   window's own profile (what the detect step stores as ``current.profile``).

    python benchmarks/bench_profile_calibration.py [--reference-rows 1000000] [--fresh 600]

Writes ``benchmarks/results/profile_calibration.md``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import polars as pl

from driftloop.drift.calibrate import calibrate_drawn
from driftloop.profiles import profile
from driftloop.profiles.detection import detect
from driftloop.profiles.fileformat import profile_to_bytes
from driftloop.profiles.sampling import Sampler

RESULTS = Path(__file__).parent / "results"
TARGET = 1 / 13
CATS = [f"c{i}" for i in range(12)]


def population(rows: int, rng: np.random.Generator) -> pl.DataFrame:
    """The fixed population: 20 numeric columns of varied shapes, 5 categorical."""
    columns: dict[str, object] = {}
    for i in range(4):
        columns[f"normal{i}"] = rng.normal(10 * i, 1 + i, rows)
        columns[f"lognormal{i}"] = rng.lognormal(0, 0.5 + 0.25 * i, rows)
        columns[f"t{i}"] = rng.standard_t(3 + i, rows)
    for i in range(3):
        columns[f"poisson{i}"] = rng.poisson(2 + 5 * i, rows)
    columns["wide_ints"] = rng.integers(0, 10_000_000, rows)
    mix = rng.random(rows) < 0.3
    columns["mixture"] = np.where(mix, rng.normal(-3, 0.5, rows), rng.normal(2, 1, rows))
    columns["rounded"] = np.round(rng.normal(0, 2, rows) * 4) / 4
    columns["with_nulls"] = np.where(rng.random(rows) < 0.1, np.nan, rng.gamma(2, 2, rows))
    for i, k in enumerate((2, 3, 5, 8, 12)):
        p = np.arange(1, k + 1, dtype=float) ** -1.0
        columns[f"cat{i}"] = rng.choice(CATS[:k], rows, p=p / p.sum())
    return pl.DataFrame(columns)


def wilson(hits: int, n: int) -> tuple[float, float]:
    p, z = hits / n, 1.96
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def any_alarm_rate(reference: object, settings: object, rows: int, fresh: int, seed: int) -> int:
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(fresh):
        report = detect(reference, population(rows, rng), config=settings)
        hits += any(c.drifted for c in report.columns)
    return hits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference-rows", type=int, default=1_000_000)
    parser.add_argument("--windows", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument("--simulations", type=int, default=500)
    parser.add_argument("--fresh", type=int, default=600)
    args = parser.parse_args()
    rng = np.random.default_rng(20261201)
    data = population(args.reference_rows, rng)
    start = time.perf_counter()
    reference = profile(data)
    build = time.perf_counter() - start
    size = len(profile_to_bytes(reference))
    del data
    lines = [
        "# Calibration against a reference profile",
        "",
        f"Reference: {args.reference_rows:,} rows x 25 columns, profiled in {build:.1f} s "
        f"({size / 1024:.0f} kB). Target: any-feature false alarms {TARGET:.1%} "
        f"(1 per 13 windows). {args.simulations} simulated windows drawn from the profile; "
        f"{args.fresh} fresh windows drawn from the population itself.",
        "",
        "| window rows | methods (auto) | any-feature rate now | calibrate said (proposed) "
        "| fresh: proposed | 95% interval | seconds |",
        "|---|---|---|---|---|---|---|",
    ]
    sampler = Sampler(reference)
    for rows in args.windows:
        start = time.perf_counter()
        c = calibrate_drawn(
            reference,
            sampler.draw,
            window_rows=rows,
            target_rate=TARGET,
            simulations=args.simulations,
            seed=rows,
            detector=detect,
        )
        proposed = {"columns": c.thresholds()}
        hits = any_alarm_rate(reference, proposed, rows, args.fresh, seed=rows + 1)
        now = any_alarm_rate(reference, None, rows, args.fresh // 4, seed=rows + 2)
        low, high = wilson(hits, args.fresh)
        methods = ", ".join(sorted({col.method for col in c.columns}))
        seconds = time.perf_counter() - start
        lines.append(
            f"| {rows:,} | {methods} | {now / (args.fresh // 4):.1%} | {c.any_rate_proposed:.1%} "
            f"| **{hits / args.fresh:.1%}** | {low:.1%}-{high:.1%} | {seconds:.0f} |"
        )
        print(lines[-1], flush=True)
    for rows in args.windows:
        window = population(rows, rng)
        start = time.perf_counter()
        profile_to_bytes(profile(window))
        lines.append(
            f"\nA window's own profile (`current.profile`), {rows:,} rows x 25 columns: "
            f"{time.perf_counter() - start:.2f} s."
        )
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "profile_calibration.md").write_text(text)


if __name__ == "__main__":
    main()
