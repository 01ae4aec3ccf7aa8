"""What the engine reads of one side, from a frame or from a profile: a table of columns."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from driftloop.drift.columns import DtypeFamily
    from driftloop.drift.samples import Sample

__all__ = ["Column", "Table"]


class Column(Protocol):
    """One column of one side, as the engine reads it: from a frame, or from a profile."""

    @property
    def dtype_text(self) -> str: ...

    @property
    def family(self) -> DtypeFamily: ...

    def sample(self, family: DtypeFamily, *, side: str, nonfinite: str) -> Sample: ...


class Table(Protocol):
    """One side: its column names, its row count and each column."""

    @property
    def columns(self) -> list[str]: ...

    @property
    def height(self) -> int: ...

    def columns_by_name(self) -> dict[str, Column]: ...

    def segment_values(self, column: str) -> list[Any]: ...

    def segment(self, column: str, value: Any) -> Table: ...
