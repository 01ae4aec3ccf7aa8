"""Under no drift, every p-value method flags at most alpha + 1 percentage point of the time."""

from __future__ import annotations

import numpy as np
import pytest

from driftloop.drift import METHODS
from driftloop.drift.methods import Family, MethodOptions
from driftloop.drift.samples import CategoricalSample, NumericSample

ALPHA = 0.05
TRIALS = 600
P_VALUE_METHODS = sorted(n for n, m in METHODS.items() if m.family is Family.P_VALUE)


def draw(name: str, rng: np.random.Generator, n: int):
    if name == "ks":
        return NumericSample.from_values(rng.normal(size=n))
    if name == "ztest":
        return NumericSample.from_values(rng.binomial(1, 0.3, size=n).astype(float))
    labels = rng.choice(5, size=n, p=[0.35, 0.25, 0.2, 0.15, 0.05])
    values, counts = np.unique(labels.astype(str), return_counts=True)
    return CategoricalSample.from_counts(values, counts, n_rows=n)


@pytest.mark.parametrize("n", [100, 1000], ids=lambda n: f"n={n}")
@pytest.mark.parametrize("name", P_VALUE_METHODS)
def test_false_alarm_rate_is_at_most_alpha(name: str, n: int) -> None:
    rng = np.random.default_rng(20261122)
    method = METHODS[name]
    options = MethodOptions(name, numeric=name == "ks")
    alarms = 0
    for _ in range(TRIALS):
        stat, p = method.compute(draw(name, rng, n), draw(name, rng, n), options)
        alarms += method.drifted(stat, p, ALPHA)
    rate = alarms / TRIALS
    assert rate <= ALPHA + 0.01, f"{name} at n={n}: false-alarm rate {rate:.3f}"
