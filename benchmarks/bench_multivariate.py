"""Multivariate drift on bike-sharing data: a broken join that shuffles ``atemp``.

Each trial splits the days at random into a reference and a current window of the same size
(``--rows``, default 365, drawn with replacement when larger than the data) and runs
``driftloop.detect`` with both multivariate methods three times: on the window as it is (no
drift: the false-alarm rate), with ``atemp`` shuffled within the window (every marginal unchanged,
its 0.99 correlation with ``temp`` gone: the detection rate), and with a quarter of the rows'
``atemp`` shuffled among themselves (a subtler break). Univariate drift is counted two ways:
the dataset verdict and any of ``temp``/``atemp`` flagged. A last run times the multivariate
methods on 100,000 x 25 rows per side at the default row cap.

    python benchmarks/bench_multivariate.py [--trials 200] [--rows 365] [--data day.csv] [--out F]

``--rows 31`` is a month of days: the classifier's leaves shrink with the rows it trains on
(at sklearn's default of 20 rows a leaf, 31 training rows allowed no split at all).

Prints the figures and writes ``benchmarks/results/multivariate.md``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import polars as pl

import driftloop
from driftloop.data.synthetic import bike_sharing
from driftloop.drift.encoding import encode
from driftloop.drift.settings import MultivariateSettings

COLUMNS = ["season", "yr", "mnth", "holiday", "weekday", "workingday", "weathersit",
           "temp", "atemp", "hum", "windspeed"]  # fmt: skip
METHODS = ("domain_classifier", "pca_reconstruction")
RESULTS = Path(__file__).parent / "results" / "multivariate.md"


def trial(
    data: pl.DataFrame, rows: int, rng: np.random.Generator, shuffle: float
) -> dict[str, bool]:
    if 2 * rows <= data.height:
        order = rng.permutation(data.height)
        ref, cur = data[order[:rows]], data[order[rows : 2 * rows]]
    else:
        ref, cur = (
            data[rng.integers(0, data.height, rows)],
            data[rng.integers(0, data.height, rows)],
        )
    if shuffle:  # a share of the rows mis-keyed: their atemp values swapped among themselves
        atemp = cur["atemp"].to_numpy().copy()
        broken = rng.choice(rows, size=round(shuffle * rows), replace=False)
        atemp[broken] = atemp[rng.permutation(broken)]
        cur = cur.with_columns(pl.Series("atemp", atemp))
    report = driftloop.detect(ref, cur, columns=COLUMNS, config={"multivariate": {}})
    out = {
        "univariate dataset drift": report.dataset_drift,
        "univariate temp or atemp": bool({"temp", "atemp"} & set(report.drifted_columns)),
    }
    for m in report.multivariate:
        out[m.method] = m.drifted
        out[m.method + " names the pair"] = m.drifted and set(m.top_features[:2]) == {
            "temp",
            "atemp",
        }
    return out


def rates(data: pl.DataFrame, trials: int, rows: int, shuffle: float) -> dict[str, float]:
    rng = np.random.default_rng(int(2011 + 1000 * shuffle))
    counts: dict[str, int] = {}
    for _ in range(trials):
        for key, hit in trial(data, rows, rng, shuffle).items():
            counts[key] = counts.get(key, 0) + hit
    return {key: n / trials for key, n in counts.items()}


def wide_timing(rows: int = 100_000) -> dict[str, float]:
    """Seconds per method on rows x (20 numerical + 5 categorical) per side, default cap."""
    rng = np.random.default_rng(5)

    def frame() -> pl.DataFrame:
        cols = {f"x{i}": rng.normal(size=rows) for i in range(20)}
        cols |= {f"c{i}": rng.choice(["a", "b", "c", "d"], size=rows) for i in range(5)}
        return pl.DataFrame(cols)

    ref, cur = frame(), frame()
    columns = [(f"x{i}", "numerical") for i in range(20)] + [
        (f"c{i}", "categorical") for i in range(5)
    ]
    settings = MultivariateSettings()
    out = {}
    started = time.perf_counter()
    encoded = encode(ref, cur, columns, settings.max_rows, settings.seed)
    out["encode"] = time.perf_counter() - started
    from driftloop.drift.domain_classifier import domain_classifier
    from driftloop.drift.pca_reconstruction import pca_reconstruction

    for name, run in (
        ("domain_classifier", domain_classifier),
        ("pca_reconstruction", pca_reconstruction),
    ):
        run(encoded, settings)  # warm: imports
        started = time.perf_counter()
        run(encoded, settings)
        out[name] = time.perf_counter() - started
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--rows", type=int, default=365)
    parser.add_argument(
        "--data", help="a day.csv of the UCI bike-sharing data (default: synthetic)"
    )
    parser.add_argument("--out", help="the results file (default: by the data's source)")
    args = parser.parse_args()
    data = pl.read_csv(args.data) if args.data else bike_sharing()
    source = Path(args.data).name if args.data else "driftloop.data.synthetic.bike_sharing()"
    corr = data.select(pl.corr("temp", "atemp")).item()
    started = time.perf_counter()
    quiet = rates(data, args.trials, args.rows, shuffle=0.0)
    broken = rates(data, args.trials, args.rows, shuffle=1.0)
    partly = rates(data, args.trials, args.rows, shuffle=0.25)
    seconds = time.perf_counter() - started
    timing = wide_timing()
    lines = [
        "# Multivariate drift: `atemp` shuffled in the current window",
        "",
        f"Data: {source}, {data.height} rows, corr(temp, atemp) = {corr:.3f}. {args.trials} trials "
        f"per scenario, reference and current windows of {args.rows} rows, default settings "
        f"(alpha 0.05, {MultivariateSettings().permutations} permutations). "
        f"{seconds:.0f} s in all.",
        "",
        "| detector | no drift (false alarms) | atemp shuffled (detected) | 25% of rows shuffled |",
        "|---|---|---|---|",
    ]
    for key in quiet:
        lines.append(f"| {key} | {quiet[key]:.1%} | {broken[key]:.1%} | {partly[key]:.1%} |")
    lines += [
        "",
        "Time on 100,000 x 25 rows per side (20 numerical, 5 categorical), default cap of "
        f"{MultivariateSettings().max_rows} rows per side, 2 shared cores: "
        + ", ".join(f"{k} {v:.2f} s" for k, v in timing.items())
        + ".",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    elif not args.data:
        RESULTS.write_text(text, encoding="utf-8")
    else:
        RESULTS.with_name("multivariate_real.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
