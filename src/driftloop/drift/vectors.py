"""Vector (embedding) columns: a column of equal-length numeric arrays read as a matrix.

A pandas object column of lists or arrays arrives as a Polars ``List``, an Arrow
fixed-size list as an ``Array``; both are read here, row by row checked to be vectors of one
length with finite numbers. Null rows are missing values, as in any column; anything else that
is not such a vector is one line naming the column, the row and the fix.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from driftloop.errors import ValueQualityError

__all__ = ["check_pandas_vectors", "check_vector_elements", "is_vector_dtype", "vector_matrix"]


def is_vector_dtype(dtype: pl.DataType) -> bool:
    """Whether a Polars dtype holds one sequence per row (``List`` or ``Array``).

    Examples
    --------
    >>> is_vector_dtype(pl.List(pl.Float64)), is_vector_dtype(pl.Float64)
    (True, False)
    """
    return isinstance(dtype, pl.List | pl.Array)


def vector_matrix(series: pl.Series, side: str, *, width: int | None = None) -> np.ndarray:
    """The non-null rows of a vector column as a float matrix (rows x dimensions).

    ``width`` is the reference's dimension, which the current side must match.

    Examples
    --------
    >>> vector_matrix(pl.Series("e", [[1.0, 2.0], None, [3.0, 4.0]]), "reference").tolist()
    [[1.0, 2.0], [3.0, 4.0]]
    >>> try:
    ...     vector_matrix(pl.Series("e", [[1.0, 2.0], [3.0]]), "current")
    ... except ValueQualityError as err:
    ...     print(str(err)[:71])
    Column 'e' in current data has a vector of length 1 at row 1; row 0 has
    """
    inner = series.dtype.inner if is_vector_dtype(series.dtype) else None  # type: ignore[attr-defined]
    if inner is None or not (inner.is_numeric() or inner == pl.Boolean):
        valid = series.is_not_null().arg_true()
        row = (
            f" (row {int(valid[0])}: {str(series[int(valid[0])].to_list())[:40]})"
            if valid.len()
            else ""
        )
        raise ValueQualityError(
            f"Column '{series.name}' in {side} data holds {series.dtype}{row}, not vectors of "
            "numbers. Give each row a list or array of numbers, or set the column's kind to "
            "something else."
        )
    rows = series.drop_nulls()
    if rows.len() == 0:
        return np.empty((0, width or 0))
    lengths = rows.list.len() if isinstance(series.dtype, pl.List) else None
    if lengths is not None:
        _check_lengths(series, lengths, side, width)
    elif width is not None and series.dtype.size != width:  # type: ignore[attr-defined]
        size = series.dtype.size  # type: ignore[attr-defined]
        _length_error(series, side, 0, size, f"the reference's vectors have length {width}")
    flat = rows.explode() if lengths is not None else rows.arr.explode()
    values = flat.cast(pl.Float64).to_numpy()
    dims = int(values.size // rows.len())
    if not np.isfinite(values).all():
        _nonfinite_error(series, values, dims, side)
    return values.reshape(rows.len(), dims)


def _check_lengths(series: pl.Series, lengths: pl.Series, side: str, width: int | None) -> None:
    first = int(lengths[0]) if width is None else width
    bad = (lengths != first).arg_true()
    if bad.len():
        row, length = _row_of(series, int(bad[0])), int(lengths[int(bad[0])])
        whose = (
            "the reference's vectors have" if width is not None else f"row {_row_of(series, 0)} has"
        )
        _length_error(series, side, row, length, f"{whose} length {first}")
    if first == 0:
        _length_error(series, side, _row_of(series, 0), 0, "a vector needs at least one")


def _length_error(series: pl.Series, side: str, row: int, length: int, expected: str) -> None:
    raise ValueQualityError(
        f"Column '{series.name}' in {side} data has a vector of length {length} at row {row}; "
        f"{expected}. Give every row the same number of dimensions (or null)."
    )


def _nonfinite_error(series: pl.Series, values: np.ndarray, dims: int, side: str) -> None:
    position = int(np.flatnonzero(~np.isfinite(values))[0])
    row = _row_of(series, position // max(dims, 1))
    what = "NaN or null" if np.isnan(values[position]) else "inf"
    raise ValueQualityError(
        f"Column '{series.name}' in {side} data has a vector with a {what} value at row {row} "
        f"(dimension {position % max(dims, 1)}). Fix or drop that row; a whole missing vector "
        "may be null."
    )


def _row_of(series: pl.Series, valid_index: int) -> int:
    """The row number of the ``valid_index``-th non-null row."""
    return int(series.is_not_null().arg_true()[valid_index])


def check_pandas_vectors(column: Any, name: str, side: str) -> bool:
    """Whether a pandas object column holds vectors; a column that mixes vectors with other
    values is one line naming its first such row.

    Examples
    --------
    >>> import pandas as pd
    >>> check_pandas_vectors(pd.Series([[1.0], [2.0]]), "e", "reference")
    True
    >>> try:
    ...     check_pandas_vectors(pd.Series([[1.0], 2.0]), "e", "reference")
    ... except ValueQualityError as err:
    ...     print(str(err)[:79])
    Column 'e' in reference data mixes vectors with other values: row 1 holds float
    """
    values = column.to_numpy()
    vector = np.fromiter(
        (isinstance(v, list | tuple | np.ndarray) for v in values), bool, len(values)
    )
    if not vector.any():
        return False
    missing = np.fromiter((v is None or (isinstance(v, float) and v != v) for v in values), bool)
    other = np.flatnonzero(~vector & ~missing)
    if other.size:
        row = int(other[0])
        value = values[row]
        raise ValueQualityError(
            f"Column '{name}' in {side} data mixes vectors with other values: row {row} holds "
            f"{type(value).__name__} ({str(value)[:40]}). Make every row a list or array of "
            "numbers (or null)."
        )
    return True


def check_vector_elements(column: Any, name: str, side: str) -> None:
    """A pandas column of vectors in which a vector holds something other than numbers is one
    line naming its first such row (looked for only once the column failed to convert).

    Examples
    --------
    >>> import pandas as pd
    >>> try:
    ...     check_vector_elements(pd.Series([[1.0, 2.0], ["a", "b"]]), "e", "current")
    ... except ValueQualityError as err:
    ...     print(str(err)[:71])
    Column 'e' in current data has a vector holding str values at row 1 (['
    """
    for row, value in enumerate(column.to_numpy()):
        if isinstance(value, np.ndarray):
            bad = (
                [] if value.dtype.kind in "biuf" else [v for v in value.tolist() if not _number(v)]
            )
        elif isinstance(value, list | tuple):
            bad = [v for v in value if not _number(v)]
        else:
            continue
        if bad:
            shown = value.tolist() if isinstance(value, np.ndarray) else list(value)
            raise ValueQualityError(
                f"Column '{name}' in {side} data has a vector holding {type(bad[0]).__name__} "
                f"values at row {row} ({str(shown)[:40]}); a vector column takes numbers "
                "only. Cast that row's values to numbers or drop the row."
            )


def _number(value: Any) -> bool:
    return value is None or isinstance(value, int | float | bool | np.number)
