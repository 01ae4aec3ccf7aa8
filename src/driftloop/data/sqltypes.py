"""Column types between Polars and SQL: the type of a column driftloop creates, and the cast of
a frame's values to an existing table's columns (the first value that does not fit is an error)."""

from __future__ import annotations

from typing import Any

import polars as pl
import sqlalchemy as sa

from driftloop.errors import ValueQualityError

__all__ = ["conform", "polars_type", "sql_type", "storable"]


def sql_type(dtype: pl.DataType) -> sa.types.TypeEngine[Any]:
    """The SQL column type for a Polars dtype, when driftloop creates a table."""
    if dtype in (pl.Int8, pl.Int16, pl.UInt8):
        return sa.SmallInteger()
    if dtype in (pl.Int32, pl.UInt16):
        return sa.Integer()
    if dtype.is_integer():
        return sa.BigInteger()
    if dtype == pl.Float32:
        return sa.Float(24)
    if dtype.is_float():
        return sa.Double()
    if dtype.is_decimal():
        return sa.Numeric()
    if dtype == pl.Boolean:
        return sa.Boolean()
    if dtype == pl.Date:
        return sa.Date()
    if isinstance(dtype, pl.Datetime):
        return sa.DateTime(timezone=dtype.time_zone is not None)
    if dtype == pl.Time:
        return sa.Time()
    return sa.Text()


def polars_type(column: sa.Column[Any]) -> pl.DataType | None:
    """The Polars dtype values of a table column are cast to (None: leave them as they are)."""
    kind = column.type
    if isinstance(kind, sa.Integer):
        return pl.Int64()
    if isinstance(kind, sa.Float | sa.Numeric):
        return pl.Float64()
    if isinstance(kind, sa.DateTime):
        return pl.Datetime("us", "UTC" if kind.timezone else None)
    if isinstance(kind, sa.Date):
        return pl.Date()
    if isinstance(kind, sa.Boolean):
        return pl.Boolean()
    if isinstance(kind, sa.String):
        return pl.String()
    return None


def conform(frame: pl.DataFrame, target: sa.Table, doing: str) -> pl.DataFrame:
    """Cast each column to its table column's type; the first value that does not fit is an error.

    Checked here rather than left to the database, because SQLite stores anything anywhere.
    Columns no SQL type holds are first turned into text (:func:`storable`).
    """
    frame = storable(frame)
    casts = []
    for name in frame.columns:
        want = polars_type(target.c[name])
        if want is None or frame.schema[name] == want:
            continue
        source = frame[name]
        converted = source.cast(want, strict=False)
        bad = source.is_not_null() & converted.is_null()
        if bad.any():
            row = int(bad.arg_true()[0])
            raise ValueQualityError(
                f"Failed {doing} at row {row + 1}, column '{name}': {source[row]!r} is not a "
                f"valid {target.c[name].type}. Nothing was written; fix the data and re-run."
            )
        casts.append(converted)
    return frame.with_columns(casts) if casts else frame


def storable(frame: pl.DataFrame) -> pl.DataFrame:
    """Columns no SQL type holds, as text (their tables' columns are TEXT, see ``sql_type``):
    durations in ISO 8601 (``PT1H``), lists, arrays and structs as JSON; nulls stay null."""
    texts = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if isinstance(dtype, pl.Duration):
            texts.append(column.dt.to_string("iso"))
        elif isinstance(dtype, pl.List | pl.Array | pl.Struct):
            wrapped = pl.struct(column.alias("v")).struct.json_encode()
            text = wrapped.str.slice(5, wrapped.str.len_bytes() - 6)  # '{"v":' ... '}'
            texts.append(pl.when(column.is_null()).then(None).otherwise(text).alias(name))
    return frame.with_columns(texts) if texts else frame
