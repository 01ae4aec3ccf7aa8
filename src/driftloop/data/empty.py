"""The message a source gives for an empty window (the pipeline records an empty run)."""

from __future__ import annotations

import datetime as dt

__all__ = ["no_rows"]


def no_rows(source: str, start: dt.date | None, end: dt.date | None) -> str:
    """The message for an empty window (the pipeline records it as an empty run).

    Examples
    --------
    >>> no_rows("table 'current'", dt.date(2030, 1, 1), None)
    "table 'current': no rows between 2030-01-01 and the end of the data."
    """
    low = start.isoformat() if start else "the start of the data"
    high = end.isoformat() if end else "the end of the data"
    return f"{source}: no rows between {low} and {high}."
