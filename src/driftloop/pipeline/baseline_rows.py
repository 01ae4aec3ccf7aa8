"""A reference baseline's rows: each of its windows read through the source, pooled."""

from __future__ import annotations

from typing import TYPE_CHECKING

from driftloop.errors import EmptyDataError

if TYPE_CHECKING:
    import polars as pl

    from driftloop.config import SourceConfig
    from driftloop.pipeline.baseline import Bounds

__all__ = ["read_windows"]


def read_windows(source: SourceConfig, windows: list[Bounds] | None, kind: str) -> pl.DataFrame:
    """Each window read through the source (pushed down to SQL or the file filter), pooled;
    an empty window is fine as long as one is not."""
    import polars as pl

    from driftloop.data.sources import read_source

    if windows is None:
        return read_source(source)
    frames = []
    for start, end in windows:
        try:
            frames.append(read_source(source, start, end))
        except EmptyDataError:
            continue
    if not frames:
        shown = ", ".join(f"{a or ''}..{b or ''}" for a, b in windows) or "none (all excluded)"
        raise EmptyDataError(
            f"The {kind} reference baseline has no rows in its window(s) {shown}. Choose a "
            "baseline with data there (e.g. fewer years) or a later run window."
        )
    return pl.concat(frames, how="vertical_relaxed") if len(frames) > 1 else frames[0]
