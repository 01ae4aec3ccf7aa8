"""What a profile holds, column by column, as people read it (``driftloop profile show``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from driftloop.drift.columns import DtypeFamily
from driftloop.drift.samples import NumericSample
from driftloop.profiles.column import ColumnProfile
from driftloop.profiles.dataset import Profile

__all__ = ["describe", "describe_column"]

QUANTILES = (0.01, 0.5, 0.99)
TOP = 3


def describe(profile: Profile) -> dict[str, Any]:
    """Rows and, per column, its counts and summary (JSON-ready).

    Examples
    --------
    >>> import polars as pl
    >>> from driftloop.profiles import profile
    >>> d = describe(profile(pl.DataFrame({"x": [1.0, 2.0, None], "c": ["a", "a", "b"]})))
    >>> d["rows"], d["columns"][0]["summary"]["mean"], d["columns"][1]["summary"]["top"]
    (3, 1.5, [['a', 2], ['b', 1]])
    """
    return {"rows": profile.n_rows, "columns": [describe_column(c) for c in profile.profiles]}


def describe_column(column: ColumnProfile) -> dict[str, Any]:
    """One column: dtype, family, rows, nulls, infs, how it is kept and its summary."""
    out: dict[str, Any] = {
        "name": column.name,
        "dtype": column.dtype,
        "family": str(column.family),
        "rows": column.n_rows,
        "nulls": column.n_null,
        "inf": column.n_inf,
    }
    if column.numeric is not None and column.numeric.count:
        return out | _numeric(column)
    if column.labels is not None:
        labels, counts = column.labels.as_counts()
        pairs = sorted(zip(labels, counts, strict=True), key=lambda p: (-p[1], p[0]))
        summary = {"categories": len(labels), "other": column.labels.other}
        return out | {"kept": "exact counts", "summary": summary | {"top": _top(pairs)}}
    return out | {"kept": "counts only", "summary": {}}


def _numeric(column: ColumnProfile) -> dict[str, Any]:
    s = column.numeric
    assert s is not None
    sample = column.sample(DtypeFamily.NUMBER, side="described", nonfinite="drop")
    assert isinstance(sample, NumericSample)
    quantiles = np.quantile(sample.values, QUANTILES)
    std = float(np.sqrt(max(s.m2, 0.0) / s.count))
    if column.sketched:
        kept = f"quantile sketch (rank error {column.rank_error:.4f})"
    else:
        kept = "exact values" if s.values is not None else "exact value counts"
    summary = {"count": s.count, "mean": s.mean, "std": std, "min": s.minimum, "max": s.maximum}
    summary |= {f"p{round(q * 100)}": float(v) for q, v in zip(QUANTILES, quantiles, strict=True)}
    return {"kept": kept, "summary": summary}


def _top(pairs: list[tuple[str, int]]) -> list[list[Any]]:
    return [[label, int(count)] for label, count in pairs[:TOP]]
