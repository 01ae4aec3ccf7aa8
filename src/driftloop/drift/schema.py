"""Schema check of a current window against the reference: missing, extra, retyped columns."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from driftloop.drift.columns import dtype_family
from driftloop.errors import SchemaError

__all__ = ["SchemaDiff", "compare_schemas"]


@dataclass(frozen=True, slots=True)
class SchemaDiff:
    """How the current schema differs from the reference's."""

    missing: tuple[str, ...]
    extra: tuple[str, ...]
    retyped: tuple[tuple[str, str, str], ...]  # (column, reference dtype, current dtype)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.retyped)

    def describe(self) -> str:
        parts = []
        if self.missing:
            parts.append(f"missing {', '.join(self.missing)}")
        if self.extra:
            parts.append(f"extra {', '.join(self.extra)}")
        parts += [f"'{c}' is {cur}, was {ref}" for c, ref, cur in self.retyped]
        return "; ".join(parts) or "identical"

    def raise_if_different(self, source: str = "current data") -> None:
        """Strict mode: any difference is an error naming all of them."""
        if not self.ok:
            raise SchemaError(
                f"The schema of {source} differs from the reference: {self.describe()}. "
                "Fix the source or turn strict_schema off to get degradation alerts instead."
            )


def compare_schemas(reference: pl.Schema, current: pl.Schema) -> SchemaDiff:
    """Compare by name; a dtype change counts when its family changes (not Int32 to Int64).

    Examples
    --------
    >>> ref = pl.Schema({"a": pl.Float64, "b": pl.String, "c": pl.Int64})
    >>> cur = pl.Schema({"a": pl.String, "c": pl.Int32, "d": pl.Boolean})
    >>> compare_schemas(ref, cur).describe()
    "missing b; extra d; 'a' is String, was Float64"
    """
    missing = tuple(c for c in reference if c not in current)
    extra = tuple(c for c in current if c not in reference)
    retyped = tuple(
        (c, str(reference[c]), str(current[c]))
        for c in reference
        if c in current and dtype_family(reference[c]) is not dtype_family(current[c])
    )
    return SchemaDiff(missing, extra, retyped)
