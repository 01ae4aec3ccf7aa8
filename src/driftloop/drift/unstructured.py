"""Embedding and text columns in ``detect``: their values read from each side's rows, tested
(:mod:`driftloop.drift.embedding`, :mod:`driftloop.drift.text`) and reported as a column.

A profile keeps no vectors or documents, so these columns need data frames on both sides.
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from driftloop.drift.columns import ColumnKind
from driftloop.drift.results import ColumnDrift, Movement
from driftloop.drift.vectors import vector_matrix
from driftloop.errors import ValueQualityError

__all__ = [
    "MAX_TEXT_CHARS",
    "check_cell_lengths",
    "embedding_drift",
    "looks_like_prose",
    "text_drift",
]

MAX_TEXT_CHARS = 1_000_000  # a longer cell is a document dumped by mistake, not a text value
PROSE_MIN_SHARE = 0.5  # free text, not identifiers: most values hold several words


def embedding_drift(name: str, ref: pl.Series, cur: pl.Series, alpha: float) -> ColumnDrift:
    """The MMD test of one vector column, as the column's result.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> ref = pl.Series("e", rng.normal(size=(200, 4)).tolist())
    >>> cur = pl.Series("e", (rng.normal(size=(200, 4)) + [0, 0, 1, 0]).tolist())
    >>> result = embedding_drift("e", ref, cur, 0.05)
    >>> result.method, result.drifted, result.moved[0].name
    ('mmd', True, 'dim 2')
    """
    from driftloop.drift.embedding import mmd_test

    reference = vector_matrix(ref, "reference")
    if len(reference) == 0:
        raise ValueQualityError(
            f"Column '{name}' in reference data has no vectors (all {ref.len()} rows are null). "
            "Drop it from columns or fix the reference."
        )
    current = vector_matrix(cur, "current", width=reference.shape[1])
    result = _column(name, ColumnKind.EMBEDDING, "mmd", alpha, len(reference), len(current))
    if len(current) < 2 or len(reference) < 2:
        return _skipped(result, len(current))
    test = mmd_test(reference, current)
    return _judged(result, test.statistic, test.p_value, alpha, moved=test.moved)


def text_drift(name: str, ref: pl.Series, cur: pl.Series, alpha: float) -> ColumnDrift:
    """The n-gram and descriptor tests of one text column, as the column's result.

    Examples
    --------
    >>> ref = pl.Series("t", ["the parcel arrived late", "refund my order please"] * 50)
    >>> cur = pl.Series("t", ["refund my order please"] * 80 + ["where is my parcel"] * 20)
    >>> result = text_drift("t", ref, cur, 0.05)
    >>> result.method, result.drifted, len(result.descriptors)
    ('text', True, 4)
    """
    from driftloop.drift.text import text_test

    reference, current = _documents(ref, "reference"), _documents(cur, "current")
    result = _column(name, ColumnKind.TEXT, "text", alpha, len(reference), len(current))
    if len(current) < 2 or len(reference) < 2:
        return _skipped(result, len(current))
    test = text_test(reference, current)
    return _judged(
        result, test.statistic, test.p_value, alpha, moved=test.moved, described=test.descriptors
    )


def looks_like_prose(series: pl.Series) -> bool:
    """Whether most values hold several words (free text rather than identifiers or codes).

    Examples
    --------
    >>> looks_like_prose(pl.Series(["a late parcel", "refund please", "A-1093"]))
    True
    >>> looks_like_prose(pl.Series(["A-1093", "B-2201", "late parcel"]))
    False
    """
    values = series.cast(pl.String).drop_nulls()
    if values.len() == 0:
        return False
    spaced = values.str.strip_chars().str.contains(r"\s").sum()
    return spaced >= PROSE_MIN_SHARE * values.len()


def _documents(series: pl.Series, side: str) -> list[str]:
    values = series.cast(pl.String)
    check_cell_lengths(values, side)
    return [str(v) for v in values.drop_nulls().to_list()]


def check_cell_lengths(series: pl.Series, side: str) -> None:
    """A label or text cell over ``MAX_TEXT_CHARS`` characters is one line naming its row
    (checked before the column is counted: a few such cells would cost gigabytes).

    Examples
    --------
    >>> check_cell_lengths(pl.Series("t", ["short", None]), "current")
    """
    values = series.cast(pl.String)
    longest = values.str.len_bytes().max()  # bytes >= characters: a cheap first look
    if not isinstance(longest, int) or longest <= MAX_TEXT_CHARS:
        return
    lengths = values.str.len_chars()
    too_long = (lengths > MAX_TEXT_CHARS).arg_true()
    if too_long.len():
        row = int(too_long[0])
        raise ValueQualityError(
            f"Column '{series.name}' in {side} data has a text of {lengths[row]:,} characters at "
            f"row {row}; text columns take cells of at most {MAX_TEXT_CHARS:,}. Truncate or drop "
            "such cells upstream."
        )


def _column(
    name: str, kind: ColumnKind, method: str, alpha: float, n_ref: int, n_cur: int
) -> ColumnDrift:
    return ColumnDrift(
        name=name,
        kind=str(kind),
        method=method,
        statistic=None,
        p_value=None,
        threshold=alpha,
        drifted=False,
        family="p_value",
        n_reference=n_ref,
        n_current=n_cur,
    )


def _skipped(result: ColumnDrift, n_current: int) -> ColumnDrift:
    why = "no valid values" if n_current == 0 else "fewer than two valid values"
    return replace(result, skipped=f"{why} on a side: nothing to test")


def _judged(
    result: ColumnDrift,
    statistic: float,
    p_value: float,
    alpha: float,
    *,
    moved: tuple[Movement, ...] = (),
    described: tuple[Movement, ...] = (),
) -> ColumnDrift:
    return replace(
        result,
        statistic=statistic,
        p_value=p_value,
        drifted=p_value < alpha,
        moved=moved,
        descriptors=described,
    )
