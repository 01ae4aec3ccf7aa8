"""A profile's uniform sample of whole rows: bottom-k by a seeded row hash, mergeable.

Every row gets a key, a 64-bit hash of its values under a fixed seed (Polars ``hash_rows``), and
the sample keeps the ``k`` rows with the smallest keys. The key is a function of the row alone,
so the bottom-k of two parts' bottom-k is the bottom-k of their rows together: merging the
samples of parts (batches, worker processes, Spark partitions) gives exactly the sample of the
whole, whatever the split. Rows are kept whole, so what a column-by-column profile loses —
how columns move together — survives in the sample: multivariate drift, embedding and text
columns read it (``drift/detection.py``).

The sample is uniform over distinct rows: an exact duplicate shares its original's key, so both
are kept or both are left out together (ties at the ``k``-th key may keep a few more). The hash
is Polars' and is stable within a Polars version; samples merged across versions stay random
samples, just not the one a single build would draw.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from driftloop.errors import ProfileError

if TYPE_CHECKING:
    import polars as pl

__all__ = ["KEY", "SAMPLE_ROWS", "RowSample"]

SAMPLE_ROWS = 2_000  # the default k: the multivariate methods' default rows a side (max_rows)
KEY = "__driftloop_row_key"
_SEED = 0x5EED_D81F


@dataclass(frozen=True, slots=True)
class RowSample:
    """Up to ``k`` rows with their keys (column ``KEY``), drawn from ``of`` rows.

    Examples
    --------
    >>> import polars as pl
    >>> frame = pl.DataFrame({"x": range(10_000), "y": [i % 7 for i in range(10_000)]})
    >>> whole = RowSample.of_frame(frame, 500)
    >>> parts = RowSample.of_frame(frame[:3000], 500).merge(RowSample.of_frame(frame[3000:], 500))
    >>> parts.rows().equals(whole.rows()), whole.of, whole.rows().height
    (True, 10000, 500)
    """

    frame: pl.DataFrame
    k: int
    of: int

    @classmethod
    def of_frame(cls, frame: pl.DataFrame, k: int = SAMPLE_ROWS) -> RowSample:
        """The bottom-``k`` rows of ``frame`` by key."""
        keys = frame.hash_rows(seed=_SEED).alias(KEY)
        keyed = frame.with_columns(keys)
        kept = keyed.bottom_k(k, by=KEY) if keyed.height > k else keyed
        return cls(kept.sort(KEY), k, frame.height)

    def merge(self, other: RowSample) -> RowSample:
        """The sample of both samples' rows together (the smaller ``k`` of the two)."""
        import polars as pl

        if set(self.frame.columns) != set(other.frame.columns):
            raise ProfileError(
                "Row samples with different columns cannot be merged. Profile sources with the "
                "same columns."
            )
        both = pl.concat(
            [self.frame, other.frame.select(self.frame.columns)], how="vertical_relaxed"
        )
        k = min(self.k, other.k)
        kept = both.bottom_k(k, by=KEY) if both.height > k else both
        return RowSample(kept.sort(KEY), k, self.of + other.of)

    def shrunk(self, k: int) -> RowSample:
        """The sample of ``k`` rows (at most this one's): the bottom-``k`` of a bottom-``k'``
        is the bottom-``k`` of the whole."""
        return RowSample(self.frame.head(k), min(k, self.k), self.of)

    def rows(self, columns: list[str] | None = None) -> pl.DataFrame:
        """The sampled rows (in key order, which is random), without their keys."""
        rows = self.frame.drop(KEY)
        return rows if columns is None else rows.select(columns)

    def to_bytes(self) -> bytes:
        """Arrow IPC bytes (zstd), for the profile file."""
        import io

        sink = io.BytesIO()
        self.frame.write_ipc(sink, compression="zstd")
        return sink.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes, k: int, of: int, sha256: str, where: str) -> RowSample:
        """The sample :meth:`to_bytes` wrote, checked against its recorded checksum."""
        import io

        import polars as pl

        if hashlib.sha256(data).hexdigest() != sha256:
            raise ProfileError(
                f"Profile file {where} has a damaged row sample (its checksum does not match). "
                "Rebuild it with `driftloop profile build`."
            )
        try:
            frame = pl.read_ipc(io.BytesIO(data))
        except Exception as err:  # Arrow's own errors for a malformed stream
            raise ProfileError(
                f"Profile file {where} has an unreadable row sample ({type(err).__name__}). "
                "Rebuild it with `driftloop profile build`."
            ) from None
        if KEY not in frame.columns or frame.height > k:
            raise ProfileError(
                f"Profile file {where} has a malformed row sample. Rebuild it with "
                "`driftloop profile build`."
            )
        return cls(frame, k, of)
