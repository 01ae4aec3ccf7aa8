"""Exact category counts of a label (or boolean) column, capped.

A column keeps the count of every category while it has at most ``CATEGORY_MAX`` of them. Beyond
that it keeps the ``CATEGORY_MAX`` most frequent (ties broken by label) and counts the rest
together in ``other``, which the engine reads as one category labelled ``OTHER``. Merging adds
counts label by label and applies the cap again, so a merge equals the profile of the union
exactly whenever the union has at most ``CATEGORY_MAX`` categories.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

__all__ = ["CATEGORY_MAX", "OTHER", "LabelCounts"]

CATEGORY_MAX = 1000
OTHER = "(other)"


@dataclass(frozen=True, slots=True)
class LabelCounts:
    """Categories (sorted), their counts, and the count of rows in categories beyond the cap.

    Examples
    --------
    >>> a = LabelCounts.from_pairs(["b", "a"], [2, 1])
    >>> m = a.merge(LabelCounts.from_pairs(["c", "a"], [1, 1]))
    >>> m.labels, m.counts.tolist(), m.other, m.total
    (('a', 'b', 'c'), [2, 2, 1], 0, 5)
    """

    labels: tuple[str, ...]
    counts: npt.NDArray[np.int64] = field(compare=False)
    other: int = 0

    @classmethod
    def from_pairs(
        cls, labels: list[str] | tuple[str, ...], counts: list[int] | npt.NDArray[np.int64]
    ) -> LabelCounts:
        """Counts of distinct labels (any order), capped."""
        pairs = sorted(zip(labels, np.asarray(counts, dtype=np.int64).tolist(), strict=True))
        return _capped(pairs, 0)

    @property
    def total(self) -> int:
        return int(self.counts.sum()) + self.other

    def merge(self, other: LabelCounts) -> LabelCounts:
        merged = dict(zip(self.labels, self.counts.tolist(), strict=True))
        for label, count in zip(other.labels, other.counts.tolist(), strict=True):
            merged[label] = merged.get(label, 0) + count
        return _capped(sorted(merged.items()), self.other + other.other)

    def as_counts(self) -> tuple[list[str], list[int]]:
        """Labels and counts as the engine reads them, ``OTHER`` last when there is one."""
        labels, counts = list(self.labels), self.counts.tolist()
        if self.other:
            labels.append(OTHER)
            counts.append(self.other)
        return labels, counts

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LabelCounts):
            return NotImplemented
        return (self.labels, self.counts.tolist(), self.other) == (
            other.labels,
            other.counts.tolist(),
            other.other,
        )

    __hash__ = None  # type: ignore[assignment]


def _capped(pairs: list[tuple[str, int]], other: int) -> LabelCounts:
    if len(pairs) > CATEGORY_MAX:
        by_count = sorted(pairs, key=lambda p: (-p[1], p[0]))
        other += sum(c for _, c in by_count[CATEGORY_MAX:])
        pairs = sorted(by_count[:CATEGORY_MAX])
    labels = tuple(label for label, _ in pairs)
    counts = np.array([c for _, c in pairs], dtype=np.int64)
    return LabelCounts(labels, counts, other)
