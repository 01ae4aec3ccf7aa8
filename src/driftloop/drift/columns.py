"""Column kinds: what a column is decides which methods apply to it.

========== ===================================================== ===============
kind       inferred when                                         tested
========== ===================================================== ===============
numerical  numbers with more than two distinct reference values  yes
binary     numbers, booleans or labels with at most two values   yes
categorical labels (strings, categoricals) with more values       yes
datetime   dates, datetimes, times, durations                    no (reported)
text       labels that are mostly distinct (> 50 values and more  yes, when most
           than half of the rows): free text, identifiers          values have
                                                                   several words
embedding  lists or arrays per row (vectors of numbers)          yes
unsupported structs, binary blobs, objects                        no (reported)
========== ===================================================== ===============

Any inferred kind can be overridden per column (``columns: {season: {kind: categorical}}``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

__all__ = ["ColumnKind", "DtypeFamily", "dtype_family", "infer_kind"]

TEXT_MIN_UNIQUE = 50
TEXT_MIN_UNIQUE_SHARE = 0.5


class ColumnKind(StrEnum):
    NUMERICAL = "numerical"
    CATEGORICAL = "categorical"
    BINARY = "binary"
    DATETIME = "datetime"
    TEXT = "text"
    EMBEDDING = "embedding"
    UNSUPPORTED = "unsupported"

    @property
    def testable(self) -> bool:
        return self in (ColumnKind.NUMERICAL, ColumnKind.CATEGORICAL, ColumnKind.BINARY)


class DtypeFamily(StrEnum):
    NUMBER = "number"
    BOOLEAN = "boolean"
    LABEL = "label"
    TEMPORAL = "temporal"
    VECTOR = "vector"
    OTHER = "other"


def dtype_family(dtype: pl.DataType) -> DtypeFamily:
    """Group a Polars dtype into the family that decides how a column is summarised.

    Examples
    --------
    >>> import polars as pl
    >>> [str(dtype_family(t)) for t in (pl.Int32, pl.String, pl.Date, pl.Boolean)]
    ['number', 'label', 'temporal', 'boolean']
    """
    if dtype.is_numeric():
        return DtypeFamily.NUMBER
    import polars as pl  # deferred: the command line reads column kinds without Polars

    if dtype == pl.Boolean:
        return DtypeFamily.BOOLEAN
    if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum | pl.Categorical):
        return DtypeFamily.LABEL
    if dtype.is_temporal():
        return DtypeFamily.TEMPORAL
    if isinstance(dtype, pl.List | pl.Array):
        return DtypeFamily.VECTOR
    return DtypeFamily.OTHER


def infer_kind(family: DtypeFamily, n_unique: int, n_valid: int) -> ColumnKind:
    """The kind of a column from its dtype family and its reference values.

    Examples
    --------
    >>> infer_kind(DtypeFamily.NUMBER, 2, 100), infer_kind(DtypeFamily.NUMBER, 7, 100)
    (<ColumnKind.BINARY: 'binary'>, <ColumnKind.NUMERICAL: 'numerical'>)
    >>> infer_kind(DtypeFamily.LABEL, 900, 1000)
    <ColumnKind.TEXT: 'text'>
    """
    if family is DtypeFamily.TEMPORAL:
        return ColumnKind.DATETIME
    if family is DtypeFamily.OTHER:
        return ColumnKind.UNSUPPORTED
    if family is DtypeFamily.VECTOR:
        return ColumnKind.EMBEDDING
    if n_unique <= 2:
        return ColumnKind.BINARY
    if family is DtypeFamily.NUMBER:
        return ColumnKind.NUMERICAL
    if n_unique > TEXT_MIN_UNIQUE and n_unique > TEXT_MIN_UNIQUE_SHARE * n_valid:
        return ColumnKind.TEXT
    return ColumnKind.CATEGORICAL
