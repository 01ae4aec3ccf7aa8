"""Honest statistics, measured: no-drift rates and power of every method in every regime.

Under no drift (both samples from one distribution) a method with a stated rate alpha should
flag at most alpha of the time, and not needlessly less. This benchmark draws seeded no-drift
pairs for each data shape and pair of sizes and reports the share flagged:

1. each p-value method on the shapes it is used on, and ``auto`` (through :func:`driftloop.detect`),
   at equal and unequal sizes from 7 to 100,000;
2. ``auto`` against a 5,000-row reference with windows of 7, 30 and 100 rows;
3. the distances at their fixed thresholds, where ``auto`` does not use them (why it does not);
4. degradation checks on shuffled bike-sharing-shaped rows (references of 31 and 365 rows,
   windows of 7 and 30): the share of no-drift windows raising any alert per column, and the
   detection rate of real breakage (50% nulls, a constant column, a x1000 unit change, 30% new
   categories);
5. power of ``ks`` at 1,000 rows a side against mean shifts;
6. calibration out of sample: thresholds proposed on 20 one-month references, judged on fresh
   no-drift windows, beside the rate ``calibrate`` printed.

Writes ``benchmarks/results/false_alarms.md``.

    python benchmarks/bench_false_alarms.py [--trials 1000] [--data day.csv]
"""

from __future__ import annotations

import argparse
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl

import driftloop
from driftloop.drift import METHODS
from driftloop.drift.methods import MethodOptions
from driftloop.drift.samples import NumericSample

ALPHA = 0.05
RESULTS = Path(__file__).parent / "results"
ZIPF = 1 / np.arange(1, 51)
ZIPF /= ZIPF.sum()

SHAPES: dict[str, Callable[[np.random.Generator, int], np.ndarray]] = {
    "continuous": lambda rng, n: rng.normal(size=n),
    "skewed": lambda rng, n: rng.lognormal(sigma=1.0, size=n),
    "poisson(3)": lambda rng, n: rng.poisson(3, n).astype(float),
    "rounded 0.5": lambda rng, n: np.round(rng.normal(size=n) * 2) / 2,
    "zipf 50 cats": lambda rng, n: rng.choice(50, size=n, p=ZIPF).astype(float),
    "binary p=3%": lambda rng, n: rng.binomial(1, 0.03, n).astype(float),
}
METHOD_FOR_SHAPE = {
    "continuous": "ks",
    "skewed": "ks",
    "poisson(3)": "ks",
    "rounded 0.5": "ks",
    "zipf 50 cats": "chisquare",
    "binary p=3%": "ztest",
}
CATEGORICAL_SHAPES = ("zipf 50 cats", "binary p=3%")
SIZES = [(7, 7), (30, 30), (100, 100), (1000, 1000), (100_000, 100_000), (31, 7), (365, 7),
         (5000, 30)]  # fmt: skip


def _seed(*cell: object) -> int:
    """A cell's own seed, the same in every run (``hash`` of a string changes per process)."""
    return zlib.crc32(repr(cell).encode())


def _trials_for(n1: int, n2: int, trials: int) -> int:
    return max(100, trials // 10) if max(n1, n2) >= 100_000 else trials


def method_rate(
    method: str, shape: str, n1: int, n2: int, trials: int, shift: float = 0.0
) -> float:
    rng = np.random.default_rng(_seed(method, shape, n1, n2))
    draw, m, alarms = SHAPES[shape], METHODS[method], 0
    options = MethodOptions(method, numeric=shape not in CATEGORICAL_SHAPES)
    for _ in range(trials):
        ref = NumericSample.from_values(draw(rng, n1))
        cur = NumericSample.from_values(draw(rng, n2) + shift)
        statistic, p = m.compute(ref, cur, options)
        alarms += m.drifted(statistic, p, ALPHA if p is not None else m.default_threshold)
    return alarms / trials


def auto_rate(shape: str, n1: int, n2: int, trials: int) -> tuple[float, set[str]]:
    rng = np.random.default_rng(_seed("auto", shape, n1, n2))
    draw, alarms, used = SHAPES[shape], 0, set()
    config = {"degradation": {"enabled": False}}
    for _ in range(trials):
        ref = pl.DataFrame({"x": draw(rng, n1)})
        cur = pl.DataFrame({"x": draw(rng, n2)})
        column = driftloop.detect(ref, cur, config=config).columns[0]
        alarms += column.drifted
        used.add(column.method)
    return alarms / trials, used


def _fmt(rate: float) -> str:
    flag = "" if rate <= ALPHA + 0.01 else " ⚠"
    return f"{rate:.1%}{flag}"


def section_methods(trials: int) -> list[str]:
    header = " | ".join(f"{a:,} vs {b:,}" for a, b in SIZES)
    lines = [
        "## 1. p-value methods and `auto`, no drift (stated rate 5%)",
        "",
        f"| shape | method | {header} |",
        "|---|---|" + "---|" * len(SIZES),
    ]
    for shape, method in METHOD_FOR_SHAPE.items():
        for name in (method, "auto"):
            cells, used = [], set()
            for n1, n2 in SIZES:
                t = _trials_for(n1, n2, trials)
                if name == "auto":
                    rate, methods = auto_rate(shape, n1, n2, t)
                    used |= methods
                else:
                    rate = method_rate(name, shape, n1, n2, t)
                cells.append(_fmt(rate))
            label = f"auto ({', '.join(sorted(used))})" if name == "auto" else name
            lines.append(f"| {shape} | {label} | " + " | ".join(cells) + " |")
            print(lines[-1], flush=True)
    return lines


def section_small_windows(trials: int) -> list[str]:
    windows = (7, 30, 100)
    lines = [
        "",
        "## 2. `auto` with a 5,000-row reference and small windows, no drift (target <= 6%)",
        "",
        "| shape | " + " | ".join(f"window {w}" for w in windows) + " |",
        "|---|" + "---|" * len(windows),
    ]
    for shape in SHAPES:
        cells = []
        for w in windows:
            rate, used = auto_rate(shape, 5000, w, trials)
            cells.append(f"{rate:.1%} ({', '.join(sorted(used))})")
        lines.append(f"| {shape} | " + " | ".join(cells) + " |")
        print(lines[-1], flush=True)
    return lines


def section_distances(trials: int) -> list[str]:
    sizes = [(5000, 30), (5000, 100), (1001, 1001), (2000, 2000), (100_000, 100_000)]
    lines = [
        "",
        "## 3. Distances at their fixed thresholds, no drift (why `auto` keeps them for large "
        "samples)",
        "",
        "| shape | method | " + " | ".join(f"{a:,} vs {b:,}" for a, b in sizes) + " |",
        "|---|---|" + "---|" * len(sizes),
    ]
    for shape, methods in (
        ("continuous", ("wasserstein", "psi", "jensenshannon")),
        ("zipf 50 cats", ("jensenshannon", "psi")),
    ):
        for method in methods:
            cells = [
                f"{method_rate(method, shape, a, b, _trials_for(a, b, trials // 2)):.1%}"
                for a, b in sizes
            ]
            lines.append(f"| {shape} | {method} | " + " | ".join(cells) + " |")
            print(lines[-1], flush=True)
    return lines


def bike_rows(data: str | None) -> pl.DataFrame:
    from driftloop.data.synthetic import bike_sharing

    frame = (pl.read_csv(data) if data else bike_sharing()).drop("instant", "dteday")
    # shapes the bike data lacks: a 2% base null rate, heavy tails, a 3-value rating
    rng = np.random.default_rng(3)
    n = frame.height
    with_nulls = np.where(rng.random(n) < 0.02, np.nan, rng.normal(size=n))
    return frame.with_columns(
        pl.Series("with_nulls", with_nulls).fill_nan(None),
        pl.Series("heavy_tailed", rng.standard_t(2, n)),
        pl.Series("rating", rng.choice([1.0, 2.0, 3.0], n, p=[0.2, 0.5, 0.3])),
    )


def _break(window: pl.DataFrame, column: str, how: str, rng: np.random.Generator) -> pl.DataFrame:
    values = window[column]
    if how == "50% nulls":
        mask = rng.random(window.height) < 0.5
        mask[rng.integers(window.height)] = True
        broken = pl.Series(column, [None if m else v for m, v in zip(mask, values, strict=True)])
        return window.with_columns(broken.cast(values.dtype))
    if how == "constant":
        return window.with_columns(pl.lit(values[0]).cast(values.dtype).alias(column))
    if how == "x1000 units":
        return window.with_columns((pl.col(column) * 1000).cast(pl.Float64))
    new = rng.random(window.height) < 0.3
    new[rng.integers(window.height)] = True
    broken = pl.Series(
        column, [900 + i if m else v for i, (m, v) in enumerate(zip(new, values, strict=True))]
    )
    return window.with_columns(broken.cast(pl.Float64))


def section_degradation(trials: int, data: str | None) -> list[str]:
    rows = bike_rows(data)
    categorical = ["season", "weathersit", "weekday", "mnth"]
    config = {"method": "auto", "columns": {c: {"kind": "categorical"} for c in categorical}}
    lines = [
        "",
        "## 4. Degradation on shuffled bike-sharing rows",
        "",
        "No drift (rows shuffled): share of windows raising any degradation alert, the worst "
        "column and all columns together (target: <= 5% per column).",
        "",
        "| reference | window | worst column | any column |",
        "|---|---|---|---|",
    ]
    rng = np.random.default_rng(17)
    for n_ref, n_cur in ((31, 7), (31, 30), (365, 7), (365, 30)):
        per_column: dict[str, int] = {}
        any_alert = 0
        for _ in range(trials):
            order = rng.permutation(rows.height)
            ref, cur = rows[order[:n_ref]], rows[order[n_ref : n_ref + n_cur]]
            report = driftloop.detect(ref, cur, config=config)
            hit = {a.feature for a in report.degradation}
            any_alert += bool(hit)
            for name in hit:
                per_column[name] = per_column.get(name, 0) + 1
        worst = max(per_column.items(), key=lambda kv: kv[1], default=("-", 0))
        worst_text = f"{worst[1] / trials:.1%} ({worst[0]})"
        lines.append(f"| {n_ref} | {n_cur} | {worst_text} | {any_alert / trials:.1%} |")
        print(lines[-1], flush=True)
    lines += [
        "",
        "Breakage injected into one column of the window: share detected (target >= 95%).",
        "",
        "| breakage | column | 31 vs 7 | 31 vs 30 | 365 vs 7 | 365 vs 30 |",
        "|---|---|---|---|---|---|",
    ]
    for how, column in (
        ("50% nulls", "temp"),
        ("50% nulls", "weathersit"),
        ("constant", "hum"),
        ("constant", "weekday"),
        ("x1000 units", "windspeed"),
        ("30% new categories", "mnth"),
    ):
        cells = []
        for n_ref, n_cur in ((31, 7), (31, 30), (365, 7), (365, 30)):
            found = 0
            for _ in range(max(50, trials // 4)):
                order = rng.permutation(rows.height)
                ref, cur = rows[order[:n_ref]], rows[order[n_ref : n_ref + n_cur]]
                report = driftloop.detect(ref, _break(cur, column, how, rng), config=config)
                found += any(a.feature == column for a in report.degradation)
            cells.append(f"{found / max(50, trials // 4):.0%}")
        lines.append(f"| {how} | {column} | " + " | ".join(cells) + " |")
        print(lines[-1], flush=True)
    return lines


def section_power(trials: int) -> list[str]:
    shifts = (0.05, 0.1, 0.2, 0.3)
    cells = [
        f"{s:g} SD: {method_rate('ks', 'continuous', 1000, 1000, trials, s):.0%}" for s in shifts
    ]
    return ["", "## 5. Power of `ks` at 1,000 rows a side", "", "- " + ", ".join(cells)]


def section_calibration(trials: int, data: str | None) -> list[str]:
    """Calibrate on 20 references; measure the proposed thresholds on fresh no-drift windows."""
    from driftloop.drift.calibrate import calibrate

    rows = bike_rows(data).drop("with_nulls", "heavy_tailed", "rating")
    references, fresh = 20, max(100, trials // 2)
    lines = [
        "",
        "## 6. Calibration out of sample (target: one false alarm per 13 windows, 7.7%)",
        "",
        "20 references of 31 shuffled rows; calibrate (200 simulations) for windows of 7 rows; "
        f"then {fresh} fresh no-drift windows per reference judged with the proposed thresholds.",
        "",
        "| | mean | min | max |",
        "|---|---|---|---|",
    ]
    rng = np.random.default_rng(23)
    rates, claimed = [], []
    for _ in range(references):
        order = rng.permutation(rows.height)
        reference = rows[order[:31]]
        c = calibrate(
            reference, window_rows=7, reference_rows=24, simulations=200, target_rate=1 / 13
        )
        config = {"columns": c.thresholds(), "degradation": {"enabled": False}}
        alarms = 0
        for _ in range(fresh):
            window = rows[rng.choice(order[31:], 7, replace=False)]
            report = driftloop.detect(reference, window, config=config)
            alarms += bool(report.drifted_columns)
        rates.append(alarms / fresh)
        claimed.append(c.any_rate_proposed)
    for label, values in (("fresh-window rate", rates), ("rate calibrate printed", claimed)):
        lines.append(
            f"| {label} | {np.mean(values):.1%} | {np.min(values):.1%} | {np.max(values):.1%} |"
        )
        print(lines[-1], flush=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--data", help="a bike-sharing day.csv (default: the synthetic one)")
    parser.add_argument("--only", help="comma-separated sections to run (1-6)")
    args = parser.parse_args()
    started = time.perf_counter()
    only = set((args.only or "1,2,3,4,5,6").split(","))
    lines = [
        f"# No-drift rates and power ({args.trials} trials per cell; 100,000-row cells use a "
        f"tenth; alpha = {ALPHA}; ⚠ marks a rate above alpha + 1 pp)",
        "",
        f"Simulation error: at a true 5%, {args.trials} trials have a standard error of "
        f"{np.sqrt(0.05 * 0.95 / args.trials):.1%} (a tenth of the trials: "
        f"{np.sqrt(0.05 * 0.95 / max(100, args.trials // 10)):.1%}), so a ⚠ within two of them "
        "is noise; a method that truly exceeded its rate shows ⚠ across a row.",
        "",
    ]
    sections = {
        "1": lambda: section_methods(args.trials),
        "2": lambda: section_small_windows(args.trials),
        "3": lambda: section_distances(args.trials),
        "4": lambda: section_degradation(args.trials, args.data),
        "5": lambda: section_power(args.trials),
        "6": lambda: section_calibration(args.trials, args.data),
    }
    for key, section in sections.items():
        if key in only:
            lines += section()
    text = "\n".join(lines) + "\n"
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / ("false_alarms.md" if only == set(sections) else "false_alarms_partial.md")
    out.write_text(text)
    print(text)
    print(f"wrote {out} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
