"""Number formatting shared by the renderers."""

from __future__ import annotations

__all__ = ["fmt_number", "fmt_p"]


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
