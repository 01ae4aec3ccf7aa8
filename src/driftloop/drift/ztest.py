"""Z-test for two proportions (pooled variance), for binary columns.

The proportion tested is that of the first value in sorted order (``0`` of ``0/1``, ``"false"``
of booleans); the p-value is two-sided, so the choice only sets the statistic's sign, which is
positive when that value became more frequent in the current data.
"""

from __future__ import annotations

import math

from driftloop.drift.samples import Sample, category_counts
from driftloop.errors import ConfigError

__all__ = ["ztest"]


def ztest(reference: Sample, current: Sample, *, column: str = "?") -> tuple[float, float]:
    """Return ``(z, p_value)`` of the two-sided two-proportion z-test.

    Examples
    --------
    >>> from driftloop.drift.samples import CategoricalSample
    >>> r = CategoricalSample.from_counts(["no", "yes"], [70, 30], n_rows=100)
    >>> c = CategoricalSample.from_counts(["no", "yes"], [50, 50], n_rows=100)
    >>> z, p = ztest(r, c)
    >>> round(z, 3), round(p, 4)
    (-2.887, 0.0039)
    """
    labels, ref_counts, cur_counts = category_counts(reference, current)
    if labels.size > 2:
        raise ConfigError(
            f"Method 'ztest' needs a binary column; column '{column}' has {labels.size} distinct "
            "values. Use 'chisquare' or 'jensenshannon' for it."
        )
    n1, n2 = reference.n_valid, current.n_valid
    if labels.size < 2:
        return 0.0, 1.0
    p1, p2 = ref_counts[0] / n1, cur_counts[0] / n2
    pooled = (ref_counts[0] + cur_counts[0]) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 0.0, 1.0
    z = float((p2 - p1) / se)
    # 2 * norm.sf(|z|) = erfc(|z| / sqrt 2): the same value, without importing scipy.stats
    return z, math.erfc(abs(z) / math.sqrt(2.0))
