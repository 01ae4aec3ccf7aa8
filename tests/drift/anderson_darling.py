"""A drift method added in one place: the k-sample Anderson-Darling test, registered as a user
would register it. Its p-value is capped to [0.001, 0.25] (scipy's interpolation table), and its
record says so; nothing else is edited.

``tests/drift/test_method_recipe.py`` loads this module as a pytest plugin before the contract
suites are collected, so they run over it as over every built-in method.
"""

from __future__ import annotations

import warnings

from scipy import stats

from driftloop.drift.method import MethodOptions
from driftloop.drift.methods import register_method
from driftloop.drift.samples import NumericSample


def anderson(ref: NumericSample, cur: NumericSample, options: MethodOptions) -> tuple[float, float]:
    with warnings.catch_warnings():  # scipy warns each time it caps the p-value
        warnings.simplefilter("ignore", UserWarning)
        result = stats.anderson_ksamp([ref.values, cur.values])
    return float(result.statistic), float(result.pvalue)


ANDERSON = register_method("anderson", anderson, p_range=(0.001, 0.25))  # type: ignore[arg-type]
