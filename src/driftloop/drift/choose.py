"""``method="auto"``: a method whose stated false-alarm rate holds at the sizes of both samples.

Tests (a p-value controls false alarms at any size) are used unless both samples are large;
distances (which say how far apart the samples are, not how sure we are) only where their
fixed threshold is out of reach of sampling noise. Sizes enter through the effective size
``n_eff = n_ref * n_cur / (n_ref + n_cur)``, which is what a two-sample statistic's noise
depends on: a 7-row window against a 5,000-row reference has ``n_eff`` ≈ 7, not 5,000.

============================= ====================================== ==========================
sizes                         column                                 method (drift when)
============================= ====================================== ==========================
n_eff < 1000                  numerical, > 5 distinct values          ks (p < 0.05)
n_eff < 1000 or JS too noisy  any other, > 2 distinct values          chisquare (p < 0.05)
n_eff < 1000 or JS too noisy  any other, <= 2 distinct values         ztest (p < 0.05)
n_eff >= 1000                 numerical, > 5 distinct values          wasserstein (>= 0.1)
n_eff >= 1000, JS quiet       any other                               jensenshannon (>= 0.1)
============================= ====================================== ==========================

Why each branch:

- ``ks``, ``chisquare``, ``ztest`` hold their rate at every size: KS is exact up to 10,000 values
  a side and resampled when values repeat; chi-square and z-test switch to Monte Carlo and exact
  p-values when expected counts are small (see their modules).
- ``wasserstein >= 0.1`` (a tenth of a standard deviation of mass moved): its no-drift value is
  about ``3 / sqrt(n_eff)`` at the 99th percentile, so from ``n_eff`` = 1000 it stays under 0.1
  in more than 99% of no-drift windows (measured: 3-4% false alarms at 1,001 rows a side, where
  Evidently's rule already uses it; under 1% from ``n_eff`` = 1000).
- ``jensenshannon >= 0.1`` on k categories: its no-drift square is about
  ``chi2(k - 1) / (8 n_eff)``. It is chosen only when that 99th percentile stays below the
  threshold; otherwise the chi-square test is (50 categories at 1,001 rows a side put JS over 0.1
  in 84% of no-drift windows).

``method: evidently`` reproduces Evidently's DataDriftPreset table instead, for teams migrating
verdicts: tests when the reference has at most 1,000 values, distances above, whatever the window's
size, with Evidently's standard-deviation floor for Wasserstein and equal-width bins for JS.
"""

from __future__ import annotations

import math

from driftloop.drift.columns import ColumnKind
from driftloop.drift.method import column_test

__all__ = ["DISTANCE_MIN_EFFECTIVE", "SMALL_SAMPLE_MAX", "choose_method", "effective_size"]

SMALL_SAMPLE_MAX = 1000  # Evidently: tests while the reference has at most this many values
DISTANCE_MIN_EFFECTIVE = 1000
NUMERIC_MIN_UNIQUE = 6
_JS_THRESHOLD = 0.1


def effective_size(n_reference: int, n_current: int) -> float:
    """``n_ref * n_cur / (n_ref + n_cur)``: the size two-sample noise depends on."""
    total = n_reference + n_current
    return n_reference * n_current / total if total else 0.0


def choose_method(
    kind: ColumnKind,
    n_reference: int,
    n_unique: int,
    n_current: int | None = None,
    *,
    table: str = "auto",
) -> str:
    """The method ``auto`` (or ``evidently``) picks for a column.

    ``n_unique`` counts distinct values over both samples together; ``n_current`` defaults to
    the reference's size.

    Examples
    --------
    >>> num = ColumnKind.NUMERICAL
    >>> choose_method(num, 500, 40), choose_method(num, 5000, 40), choose_method(num, 5000, 40, 7)
    ('ks', 'wasserstein', 'ks')
    >>> choose_method(num, 5000, 40, 7, table="evidently")
    'wasserstein'
    >>> choose_method(ColumnKind.CATEGORICAL, 500, 4), choose_method(ColumnKind.BINARY, 500, 2)
    ('chisquare', 'ztest')
    >>> cat = ColumnKind.CATEGORICAL
    >>> choose_method(cat, 2500, 200), choose_method(cat, 9000, 50)
    ('chisquare', 'jensenshannon')
    """
    n_current = n_reference if n_current is None else n_current
    numeric = kind is ColumnKind.NUMERICAL and n_unique >= NUMERIC_MIN_UNIQUE
    test = column_test(numeric, n_unique)
    if table == "evidently":
        large = n_reference > SMALL_SAMPLE_MAX
        return test if not large else ("wasserstein" if numeric else "jensenshannon")
    n_eff = effective_size(n_reference, n_current)
    if n_eff < DISTANCE_MIN_EFFECTIVE:
        return test
    if numeric:
        return "wasserstein"
    return "jensenshannon" if _js_quiet(n_unique, n_eff) else test


def _js_quiet(n_categories: int, n_eff: float) -> bool:
    """Whether JS's no-drift 99th percentile, sqrt(chi2_0.99(k-1) / (8 n_eff)), is under 0.1."""
    df = max(n_categories - 1, 1)
    # Wilson-Hilferty: the chi-square quantile without importing scipy
    z99 = 2.3263
    q99 = df * (1 - 2 / (9 * df) + z99 * math.sqrt(2 / (9 * df))) ** 3
    return math.sqrt(q99 / (8 * n_eff)) < _JS_THRESHOLD
