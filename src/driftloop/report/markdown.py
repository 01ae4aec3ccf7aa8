"""A short Markdown summary of a drift report, for chat alerts and terminals."""

from __future__ import annotations

from typing import TYPE_CHECKING

from driftloop.report.format import fmt_moved, fmt_number, fmt_p

if TYPE_CHECKING:
    from driftloop.drift.results import DriftReport, MultivariateDrift

__all__ = ["render_markdown"]


def render_markdown(report: DriftReport, *, top: int = 5) -> str:
    """Verdict, the most drifted features with their statistics, and degradation alerts.

    Examples
    --------
    >>> import numpy as np, polars as pl, driftloop
    >>> rng = np.random.default_rng(0)
    >>> ref = pl.DataFrame({"x": rng.normal(size=300)})
    >>> cur = pl.DataFrame({"x": rng.normal(2.0, size=300)})
    >>> print(render_markdown(driftloop.detect(ref, cur)).splitlines()[0])
    *Dataset drift detected*: 1 of 1 tested features drifted (100%, threshold 50%).
    """
    verdict = "Dataset drift detected" if report.dataset_drift else "No dataset drift"
    drifted = [c for c in report.columns if c.drifted]
    lines = [
        f"*{verdict}*: {len(drifted)} of {report.n_tested} tested features drifted "
        f"({report.share_drifted:.0%}, threshold {report.drift_share:.0%})."
    ]
    ranked = sorted(drifted, key=lambda c: (c.p_value is None, c.p_value or -(c.statistic or 0)))
    for c in ranked[:top]:
        p = f", p={fmt_p(c.p_value)}" if c.p_value is not None else ""
        lines.append(f"• `{c.name}` ({c.kind}): {c.method} = {fmt_number(c.statistic)}{p}")
        if c.moved:
            lines.append(f"  {fmt_moved(c)}")
    if len(ranked) > top:
        lines.append(f"• … and {len(ranked) - top} more")
    lines += [f"⚠ `{c.name}`: {c.warning}" for c in report.columns if c.warning][:top]
    lines += [_multivariate_line(m) for m in report.multivariate]
    findings = report.segment_findings
    if findings:
        lines.append(f"*{len(findings)} segment finding(s)*:")
        lines += [f"• {line}" for line in findings[:top]]
        if len(findings) > top:
            lines.append(f"• … and {len(findings) - top} more")
    if report.family is not None:
        lines.append(_family_line(report))
    if report.degradation:
        lines.append(f"*{len(report.degradation)} degradation alert(s)*:")
        lines += [f"• `{a.feature}` {a.kind}: {a.message}" for a in report.degradation[:top]]
        if len(report.degradation) > top:
            lines.append(f"• … and {len(report.degradation) - top} more")
    return "\n".join(lines)


def _multivariate_line(m: MultivariateDrift) -> str:
    if m.skipped:
        return f"Multivariate {m.method}: skipped ({m.skipped})"
    verdict = f"*Multivariate drift*, {m.finding}" if m.drifted else "no multivariate drift"
    return (
        f"{m.method} = {fmt_number(m.statistic)} (threshold {fmt_number(m.threshold)}, "
        f"p={fmt_p(m.p_value)}): {verdict}"
    )


def _family_line(report: DriftReport) -> str:
    """What the loop acts on, after the window's family adjustment."""
    family = report.family
    assert family is not None
    tests = sum(n for _, _, n in family.parts)
    if not family.acted:
        return (
            f"Nothing for the loop to act on: no finding survives the window's family "
            f"({tests} tests, at most {family.bound:.1%} of no-drift windows act)."
        )
    shown = ", ".join(f.line for f in family.findings[:5])
    more = f" and {len(family.findings) - 5} more" if len(family.findings) > 5 else ""
    return f"*The loop acts on*: {shown}{more} (family of {tests} tests at {family.bound:.1%})."
