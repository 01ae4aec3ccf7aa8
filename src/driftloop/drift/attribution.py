"""Attribution: the columns carrying a multivariate method's signal, and their shares."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["attribution"]

_TOP = 5
_MIN_SHARE = 0.1  # a column below a tenth of the leading one's weight is not named


def attribution(
    names: tuple[str, ...], weights: npt.NDArray[np.float64]
) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """The columns carrying a method's signal, most first, with their share of the total.

    Examples
    --------
    >>> attribution(("temp", "atemp", "hum"), np.array([0.2, 0.3, 0.01]))
    (('atemp', 'temp'), (0.5882, 0.3922))
    """
    total = float(weights.sum())
    if total <= 0:
        return (), ()
    order = [int(i) for i in np.argsort(-weights, kind="stable")[:_TOP]]
    kept = [i for i in order if weights[i] >= _MIN_SHARE * weights[order[0]]]
    return tuple(names[i] for i in kept), tuple(round(float(weights[i]) / total, 4) for i in kept)
