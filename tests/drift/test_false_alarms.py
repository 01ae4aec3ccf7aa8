"""Under no drift, every p-value method flags at most alpha + 1 percentage point of the time."""

from __future__ import annotations

import numpy as np
import pytest

from driftloop.drift import METHODS
from driftloop.drift.methods import Family, MethodOptions
from driftloop.drift.samples import CategoricalSample, NumericSample

ALPHA = 0.05
TRIALS = 2000  # the rate to within 0.5 pp (one standard error at 5%)
P_VALUE_METHODS = sorted(n for n, m in METHODS.items() if m.family is Family.P_VALUE)


def draw(name: str, rng: np.random.Generator, n: int):
    method = METHODS[name]
    if method.numeric_only:
        return NumericSample.from_values(rng.normal(size=n))
    if not method.applies(False, 5):  # a method for few distinct values: two of them
        return NumericSample.from_values(rng.binomial(1, 0.3, size=n).astype(float))
    labels = rng.choice(5, size=n, p=[0.35, 0.25, 0.2, 0.15, 0.05])
    values, counts = np.unique(labels.astype(str), return_counts=True)
    return CategoricalSample.from_counts(values, counts, n_rows=n)


@pytest.mark.parametrize("n", [100, 1000], ids=lambda n: f"n={n}")
@pytest.mark.parametrize("name", P_VALUE_METHODS)
def test_false_alarm_rate_is_at_most_alpha(name: str, n: int) -> None:
    rng = np.random.default_rng(20261122)
    method = METHODS[name]
    options = MethodOptions(name, numeric=method.numeric_only)
    alarms = 0
    for _ in range(TRIALS):
        stat, p = method.compute(draw(name, rng, n), draw(name, rng, n), options)
        alarms += method.drifted(stat, p, ALPHA)
    rate = alarms / TRIALS
    assert rate <= ALPHA + 0.01, f"{name} at n={n}: false-alarm rate {rate:.3f}"


ZIPF = 1 / np.arange(1, 51)
ZIPF /= ZIPF.sum()
SHAPES = {
    "continuous": lambda rng, n: rng.normal(size=n),
    "poisson": lambda rng, n: rng.poisson(3, n).astype(float),
    "zipf50": lambda rng, n: rng.choice(50, size=n, p=ZIPF).astype(float),
    "binary3": lambda rng, n: rng.binomial(1, 0.03, n).astype(float),
}


@pytest.mark.parametrize("window", [7, 30])
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_auto_on_a_small_window_against_a_large_reference(shape: str, window: int) -> None:
    # Before: 'auto' chose by the reference's size alone and gave a 7-row window a fixed-threshold
    # distance: 100% of no-drift windows flagged (Wasserstein/JS), 70-99% at 30 rows.
    import polars as pl

    import driftloop

    rng = np.random.default_rng(window)
    draw, alarms, trials = SHAPES[shape], 0, 300
    config = {"degradation": {"enabled": False}}
    for _ in range(trials):
        ref = pl.DataFrame({"x": draw(rng, 5000)})
        cur = pl.DataFrame({"x": draw(rng, window)})
        alarms += driftloop.detect(ref, cur, config=config).columns[0].drifted
    assert alarms / trials <= 0.06 + 0.02  # target 6%, with room for 300 trials' error (1.4 pp)
