"""One family per window: the findings that can make the loop act, at one bounded rate.

A window is many tests: every column, every degradation check, every segment x column, the
multivariate methods and the concept test. Each holds its own rate, but a no-drift window of 12
columns tested at 5% each raises *some* alert in about 40% of windows, and segments x columns in
over 90%. So the findings that can make the loop act are judged together:

- the family's rate ``detection.family.rate`` (default 0.05) is split between the parts the
  window runs (``columns``, ``degradation``, and when configured ``multivariate``, ``segments``,
  ``concept``, ``performance``) by ``detection.family.weights``, renormalised over those parts;
- within a part, Holm's step-down adjustment spans its p-values (valid under any dependence,
  never weaker than Bonferroni); a finding's ``p_family`` is its Holm-adjusted p-value divided
  by its part's share of the rate, so every finding is read against the same ``rate``;
- degradation checks have tail probabilities rather than reported p-values: each of the
  ``DEGRADATION_CHECKS`` statistical checks of each column runs at the part's level divided by
  their number (Bonferroni), unless ``degradation.alpha`` is set explicitly;
- a column (or a segment's column) is a finding when it drifted by its own method *and*
  ``p_family < rate``; a missing feature or a changed dtype is always one (no chance involved).

By the union bound the probability that a no-drift window yields any finding is at most the sum
of the parts' levels, ``bound``, which equals ``rate`` unless an explicit per-check alpha makes
the degradation part larger (then the report says so).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from driftloop.drift.results import (
    ColumnDrift,
    DegradationAlert,
    FamilyFinding,
    FamilyVerdict,
    MultivariateDrift,
    SegmentDrift,
)
from driftloop.drift.settings import DetectionSettings

__all__ = [
    "DEGRADATION_CHECKS",
    "STRUCTURAL",
    "FamilyPlan",
    "concept_level",
    "holm",
    "judge",
    "performance_level",
    "plan",
    "plan_for",
    "with_degradation_level",
]

DEGRADATION_CHECKS = 5  # per column: null rate, non-finite, constant, spread or new labels, range
STRUCTURAL = frozenset({"missing_feature", "dtype_change"})


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error, any dependence).

    Examples
    --------
    >>> holm([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(p_values, dtype=np.float64)
    if p.size == 0:
        return p
    order = np.argsort(p, kind="stable")
    scaled = p[order] * (p.size - np.arange(p.size))
    adjusted = np.empty_like(p)
    adjusted[order] = np.minimum(np.maximum.accumulate(scaled), 1.0)
    return adjusted


@dataclass(frozen=True, slots=True)
class FamilyPlan:
    """Each part's level for this window (the rate split by the weights)."""

    rate: float
    levels: dict[str, float]
    degradation_alpha: float | None = None  # per check; None when degradation.alpha is explicit
    explicit_alpha: float | None = None
    n_checks: int = 0
    tests: dict[str, int] = field(default_factory=dict)

    def share(self, part: str) -> float:
        return self.levels[part] / self.rate


def plan(
    rate: float,
    weights: dict[str, float],
    parts: Sequence[str],
    *,
    n_columns: int,
    explicit_alpha: float | None = None,
) -> FamilyPlan:
    """Split ``rate`` over ``parts`` by ``weights`` (renormalised over the parts present).

    Examples
    --------
    >>> p = plan(0.05, {"columns": 0.5, "degradation": 0.2}, ["columns", "degradation"],
    ...          n_columns=10)
    >>> round(p.levels["columns"], 4), round(p.degradation_alpha, 6)
    (0.0357, 0.000286)
    """
    total = sum(weights[p] for p in parts)
    levels = {p: rate * weights[p] / total for p in parts}
    n_checks = DEGRADATION_CHECKS * max(n_columns, 1)
    per_check = levels["degradation"] / n_checks if "degradation" in levels else None
    return FamilyPlan(
        rate,
        levels,
        None if explicit_alpha is not None else per_check,
        explicit_alpha,
        n_checks,
    )


def parts_of(settings: DetectionSettings) -> list[str]:
    """The parts of the family a window with these settings runs."""
    parts = ["columns"]
    if settings.degradation.enabled:
        parts.append("degradation")
    if settings.multivariate is not None:
        parts.append("multivariate")
    if settings.segments:
        parts.append("segments")
    if settings.family.concept:
        parts.append("concept")
    if settings.family.performance:
        parts.append("performance")
    return parts


def plan_for(settings: DetectionSettings, *, n_columns: int) -> FamilyPlan:
    """:func:`plan` for a window run with ``settings`` over ``n_columns`` columns."""
    parts = parts_of(settings)
    weights = {p: settings.family.weight(p) for p in parts}
    return plan(
        settings.family.rate,
        weights,
        parts,
        n_columns=n_columns,
        explicit_alpha=settings.degradation.alpha,
    )


def concept_level(settings: DetectionSettings) -> float:
    """The concept test's level when it shares the family (``family.concept``).

    Examples
    --------
    >>> s = DetectionSettings(family={"concept": True})
    >>> round(concept_level(s), 4)
    0.0071
    """
    return plan_for(settings, n_columns=1).levels.get("concept", settings.family.rate)


def performance_level(settings: DetectionSettings) -> float:
    """The performance estimate's level when it shares the family (``family.performance``):
    the estimated drop and, once labels arrived, the realized one split it (Bonferroni).

    Examples
    --------
    >>> s = DetectionSettings(family={"performance": True})
    >>> round(performance_level(s), 4)
    0.005
    """
    level = plan_for(settings, n_columns=1).levels.get("performance", settings.family.rate)
    return level / 2


def with_degradation_level(
    settings: DetectionSettings, family_plan: FamilyPlan
) -> DetectionSettings:
    """``settings`` whose degradation checks run at the family's per-check level."""
    alpha = family_plan.degradation_alpha
    if alpha is None:
        return settings
    checks = settings.degradation
    update = {"alpha": alpha, "constant_probability": min(checks.constant_probability, alpha)}
    return settings.model_copy(update={"degradation": checks.model_copy(update=update)})


def judge(
    family_plan: FamilyPlan,
    columns: list[ColumnDrift],
    alerts: Sequence[DegradationAlert],
    multivariate: Sequence[MultivariateDrift],
    segments: Sequence[SegmentDrift],
) -> tuple[list[ColumnDrift], tuple[MultivariateDrift, ...], tuple[SegmentDrift, ...], Any]:
    """Adjust every part and collect the findings: ``(columns, multivariate, segments,
    FamilyVerdict)``, the results carrying their ``p_family``."""
    rate, findings = family_plan.rate, []
    columns = _adjust_columns(columns, family_plan.share("columns"))
    findings += [
        FamilyFinding("columns", c.name, "", c.p_family or 0.0)
        for c in columns
        if _significant(c, rate)
    ]
    findings += [_degradation_finding(a) for a in alerts]
    if "multivariate" in family_plan.levels:
        multivariate = _adjust_multivariate(multivariate, family_plan.share("multivariate"))
        findings += [
            FamilyFinding("multivariate", m.method, "", m.p_family)
            for m in multivariate
            if m.p_family is not None and m.drifted and m.p_family < rate
        ]
    if "segments" in family_plan.levels:
        segments = _adjust_segments(segments, family_plan.share("segments"))
        findings += [
            FamilyFinding("segments", c.name, s.where, c.p_family or 0.0, s.column)
            for s in segments
            for c in s.columns
            if _significant(c, rate)
        ]
    tests = {
        "columns": sum(c.p_value is not None for c in columns),
        "degradation": family_plan.n_checks,
        "multivariate": sum(m.p_value is not None for m in multivariate),
        "segments": sum(c.p_value is not None for s in segments for c in s.columns),
    }
    verdict = _verdict(family_plan, tests, findings)
    return columns, tuple(multivariate), tuple(segments), verdict


def _verdict(
    family_plan: FamilyPlan, tests: dict[str, int], findings: list[FamilyFinding]
) -> FamilyVerdict:
    levels = dict(family_plan.levels)
    warning = None
    if family_plan.explicit_alpha is not None and "degradation" in levels:
        spent = family_plan.explicit_alpha * family_plan.n_checks
        if spent > levels["degradation"]:
            warning = (
                f"degradation.alpha = {family_plan.explicit_alpha:g} per check over "
                f"{family_plan.n_checks} checks spends up to {spent:.3g}, more than the "
                f"degradation part's {levels['degradation']:.3g}: leave degradation.alpha unset "
                "to keep the family's rate"
            )
        levels["degradation"] = max(levels["degradation"], spent)
    return FamilyVerdict(
        rate=family_plan.rate,
        bound=min(sum(levels.values()), 1.0),
        parts=tuple((part, round(level, 8), tests.get(part, 0)) for part, level in levels.items()),
        findings=tuple(findings),
        warning=warning,
    )


def _significant(column: ColumnDrift, rate: float) -> bool:
    return column.drifted and column.p_family is not None and column.p_family < rate


def _adjust_columns(columns: list[ColumnDrift], share: float) -> list[ColumnDrift]:
    where = [i for i, c in enumerate(columns) if c.p_value is not None and c.skipped is None]
    adjusted = holm([columns[i].p_value or 0.0 for i in where])
    out = list(columns)
    for i, p in zip(where, adjusted, strict=True):
        out[i] = replace(out[i], p_family=min(float(p) / share, 1.0))
    return out


def _adjust_multivariate(
    results: Sequence[MultivariateDrift], share: float
) -> list[MultivariateDrift]:
    where = [i for i, m in enumerate(results) if m.p_value is not None]
    adjusted = holm([results[i].p_value or 0.0 for i in where])
    out = list(results)
    for i, p in zip(where, adjusted, strict=True):
        out[i] = replace(out[i], p_family=min(float(p) / share, 1.0))
    return out


def _adjust_segments(segments: Sequence[SegmentDrift], share: float) -> list[SegmentDrift]:
    where = [
        (i, j)
        for i, s in enumerate(segments)
        for j, c in enumerate(s.columns)
        if c.p_value is not None and c.skipped is None
    ]
    adjusted = holm([segments[i].columns[j].p_value or 0.0 for i, j in where])
    columns = [list(s.columns) for s in segments]
    for (i, j), p in zip(where, adjusted, strict=True):
        columns[i][j] = replace(columns[i][j], p_family=min(float(p) / share, 1.0))
    return [replace(s, columns=tuple(cs)) for s, cs in zip(segments, columns, strict=True)]


def _degradation_finding(alert: DegradationAlert) -> FamilyFinding:
    return FamilyFinding("degradation", alert.feature, alert.kind, None)
