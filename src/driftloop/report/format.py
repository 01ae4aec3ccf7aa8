"""Number formatting shared by the renderers."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from driftloop.drift.results import ColumnDrift

__all__ = ["fmt_moved", "fmt_number", "fmt_p"]


def fmt_number(value: float | None, digits: int = 4) -> str:
    """Compact, readable number; ``-`` for missing.

    Examples
    --------
    >>> fmt_number(0.123456), fmt_number(None), fmt_number(12345.678)
    ('0.1235', '-', '1.235e+04')
    """
    if value is None:
        return "-"
    return f"{value:.{digits}g}"


def fmt_p(value: float | None) -> str:
    """A p-value as people read them.

    Examples
    --------
    >>> fmt_p(3e-31), fmt_p(0.0312), fmt_p(None)
    ('<1e-16', '0.0312', '-')
    """
    if value is None:
        return "-"
    return "<1e-16" if value < 1e-16 else f"{value:.3g}"


def fmt_moved(column: ColumnDrift, top: int = 3, alpha: float = 0.05) -> str:
    """What moved in an embedding or text column, in words (empty for other columns).

    Examples
    --------
    >>> from driftloop.drift.results import ColumnDrift, Movement
    >>> c = ColumnDrift("t", "text", "text", 9.0, 0.001, 0.05, True, "p_value", 500, 500,
    ...                 moved=(Movement("parc", 0.01, 0.03, 0.8),),
    ...                 descriptors=(Movement("length", 60.0, 90.0, 0.7, 0.0004),))
    >>> fmt_moved(c)
    'moved most: `parc` +0.80 SD; descriptors: length 60 → 90 (p=0.0004)'
    """
    if not column.moved:
        return ""
    moved = ", ".join(f"`{m.name}` {m.score:+.2f} SD" for m in column.moved[:top])
    shifted = [d for d in column.descriptors if d.p_value is not None and d.p_value < alpha]
    if not shifted:
        return f"moved most: {moved}"
    described = ", ".join(
        f"{d.name} {fmt_number(d.reference, 3)} → {fmt_number(d.current, 3)} (p={fmt_p(d.p_value)})"
        for d in shifted
    )
    return f"moved most: {moved}; descriptors: {described}"
