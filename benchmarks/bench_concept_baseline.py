"""Concept drift with one small baseline: the no-change alert rate *per baseline*.

A team has one baseline, so the rate that matters is the rate its own baseline gives, not the
average over baselines. For each of ``--baselines`` baselines of ``--baseline-pairs`` pairs
drawn from a no-change population, ``--windows`` windows of ``--window-pairs`` pairs are judged
against it; the benchmark prints the mean, the 90th percentile and the maximum of the
per-baseline alert rates, for error shapes a regression model has (normal, heavy-tailed t(3),
skewed lognormal errors, and the residuals of a model fitted on the bike-sharing data) and for
a classifier (80% accurate scores).

    python benchmarks/bench_concept_baseline.py --baselines 200 --windows 200
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from driftloop.drift.concept import concept_drift

Draw = Callable[[np.random.Generator, int], tuple[np.ndarray, np.ndarray]]


def _regression(noise: Callable[[np.random.Generator, int], np.ndarray]) -> Draw:
    def draw(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        pred = rng.normal(4500, 1500, n)
        return pred, pred + noise(rng, n)

    return draw


def _bike_residuals() -> Draw:
    """Prediction-outcome pairs of a linear model on the (synthetic) bike days, resampled."""
    from sklearn.linear_model import LinearRegression

    from driftloop.data.synthetic import bike_sharing

    frame = bike_sharing()
    features = ["temp", "atemp", "hum", "windspeed", "season", "workingday", "weathersit"]
    x = frame.select(features).to_numpy()
    y = frame["cnt"].to_numpy().astype(float)
    pred = LinearRegression().fit(x, y).predict(x)

    def draw(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        rows = rng.integers(0, y.size, n)
        return pred[rows], y[rows]

    return draw


def _classifier(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    y = rng.integers(0, 2, n).astype(float)
    right = rng.random(n) < 0.8
    score = np.where(right == (y == 1), rng.uniform(0.5, 1, n), rng.uniform(0, 0.5, n))
    return score, y


SHAPES: dict[str, tuple[str, Callable[[], Draw]]] = {
    "normal errors": ("regression", lambda: _regression(lambda r, n: r.normal(0, 600, n))),
    "t(3) errors": ("regression", lambda: _regression(lambda r, n: 400 * r.standard_t(3, n))),
    "lognormal errors": (
        "regression",
        lambda: _regression(lambda r, n: 400 * (r.lognormal(0, 1, n) - np.exp(0.5))),
    ),
    "bike residuals": ("regression", _bike_residuals),
    "classifier, 80% right": ("classification", lambda: _classifier),
}


def per_baseline_rates(
    draw: Draw, task: str, args: argparse.Namespace, seed: int, window: Draw | None = None
) -> np.ndarray:
    """Each baseline's alert rate over windows drawn by ``window`` (no change: ``draw``)."""
    rng = np.random.default_rng(seed)
    rates = np.empty(args.baselines)
    for b in range(args.baselines):
        bp, by = draw(rng, args.baseline_pairs)
        alerts = 0
        for w in range(args.windows):
            cp, cy = (window or draw)(rng, args.window_pairs)
            report = concept_drift(
                bp,
                by,
                cp,
                cy,
                task=task,
                confidence=args.confidence,
                baseline_confidence=args.baseline_confidence,
                n_boot=200,
                seed=w,
            )
            alerts += report.concept_drift
        rates[b] = alerts / args.windows
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baselines", type=int, default=100)
    parser.add_argument("--windows", type=int, default=100)
    parser.add_argument("--baseline-pairs", type=int, default=31)
    parser.add_argument("--window-pairs", type=int, default=31)
    parser.add_argument("--confidence", type=float, default=0.95)
    parser.add_argument("--baseline-confidence", type=float, default=0.9)
    args = parser.parse_args()
    print(
        f"{args.baselines} baselines of {args.baseline_pairs} pairs x {args.windows} windows of "
        f"{args.window_pairs} pairs; confidence {args.confidence}, baseline_confidence "
        f"{args.baseline_confidence}; SE of one baseline's rate "
        f"{100 * np.sqrt(0.05 * 0.95 / args.windows):.1f} pp at 5%"
    )
    print("| shape | mean | 90th pct | max | seconds |\n|---|---|---|---|---|")
    for i, (name, (task, make)) in enumerate(SHAPES.items()):
        began = time.perf_counter()
        rates = per_baseline_rates(make(), task, args, seed=i)
        print(
            f"| {name} | {100 * rates.mean():.1f}% | {100 * np.quantile(rates, 0.9):.1f}% | "
            f"{100 * rates.max():.1f}% | {time.perf_counter() - began:.0f} |",
            flush=True,
        )
    print("\nPower (mean alert rate over baselines), normal errors of SD 600 in the baseline:")
    print("| window's error SD | alerts |\n|---|---|")
    base = _regression(lambda r, n: r.normal(0, 600, n))
    for scale in (1.25, 1.5, 2.0, 3.0):
        shifted = _regression(lambda r, n, s=scale: r.normal(0, 600 * s, n))
        rates = per_baseline_rates(base, "regression", args, seed=99, window=shifted)
        print(f"| x{scale:g} | {100 * rates.mean():.1f}% |", flush=True)


if __name__ == "__main__":
    main()
