"""``method="auto"``: the choice Evidently's DataDriftPreset makes, so verdicts carry over.

======================= ========================================== ===================
reference valid values  column                                     method (drift when)
======================= ========================================== ===================
<= 1000                 numerical, > 5 distinct values (both sides) ks (p < 0.05)
<= 1000                 any other, > 2 distinct values             chisquare (p < 0.05)
<= 1000                 any other, <= 2 distinct values            ztest (p < 0.05)
> 1000                  numerical, > 5 distinct values             wasserstein (>= 0.1)
> 1000                  any other                                  jensenshannon (>= 0.1)
======================= ========================================== ===================

Small samples get tests (a p-value controls false alarms); large samples get distances, because
with a million rows any test rejects for shifts too small to matter.
"""

from __future__ import annotations

from driftloop.drift.columns import ColumnKind

__all__ = ["SMALL_SAMPLE_MAX", "choose_method"]

SMALL_SAMPLE_MAX = 1000
NUMERIC_MIN_UNIQUE = 6


def choose_method(kind: ColumnKind, n_reference: int, n_unique: int) -> str:
    """The method ``auto`` picks for a column.

    ``n_unique`` counts distinct values over both samples together.

    Examples
    --------
    >>> choose_method(ColumnKind.NUMERICAL, 500, 40), choose_method(ColumnKind.NUMERICAL, 5000, 40)
    ('ks', 'wasserstein')
    >>> choose_method(ColumnKind.CATEGORICAL, 500, 4), choose_method(ColumnKind.BINARY, 500, 2)
    ('chisquare', 'ztest')
    >>> choose_method(ColumnKind.NUMERICAL, 5000, 3)
    'jensenshannon'
    """
    numeric = kind is ColumnKind.NUMERICAL and n_unique >= NUMERIC_MIN_UNIQUE
    if n_reference <= SMALL_SAMPLE_MAX:
        if numeric:
            return "ks"
        return "chisquare" if n_unique > 2 else "ztest"
    return "wasserstein" if numeric else "jensenshannon"
