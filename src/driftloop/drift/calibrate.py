"""Calibration: thresholds for a target false-alarm rate, from the data's own no-drift behaviour.

For a window of ``window_rows`` rows, the no-drift distribution of each column's statistic is
estimated by resampling: the pool (reference, plus history when given) is split at random, many
times, into a pseudo-reference and a pseudo-window, and each column is tested as the real run
would test it (same method). The columns share one per-column rate, chosen on the simulations
so that *any* feature alerting happens in ``target_rate`` of no-drift windows (a
Westfall-Young-style joint calibration: ``target_rate / n_columns`` each, the union bound,
landed at 5.0% for a 7.7% target on the correlated bike columns):

- a p-value method's threshold is that share itself: driftloop's p-values hold their level at
  every size (exact, resampled or exact-test p-values where asymptotics fail), so a column's
  own rate needs no estimate — an estimated 0.6% quantile of 500 simulations rests on about
  three order statistics and moved from 0.002 to 0.025 between runs;
- a distance's threshold is the simulated quantile one no-drift window exceeds with that
  probability (the order statistic whose expected exceedance is at most the share, so
  estimation errs on the quiet side). A distance flags only when its change is also
  significant (``detection.py``), so a window whose companion test did not reject counts as
  below any threshold;
- the share is fitted on the first half of the simulations;
- the rates printed for the current and the proposed thresholds are measured on the *other*
  half (held out), so the proposed rate is not flattered by having been fitted;
- a column constant in the pool (one season in a January reference), or whose statistic never
  varies across the simulations, is reported and left alone: there is nothing to calibrate.

The split is exchangeable: it treats the pool as one population. Where the data has seasons or
trends, calibrate on a pool from a period that should count as "no drift".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import polars as pl

from driftloop.drift.detection import detect
from driftloop.drift.methods import Family, get_method
from driftloop.drift.settings import DetectionSettings, load_settings
from driftloop.errors import ConfigError, DataError

__all__ = ["Calibration", "ColumnCalibration", "calibrate", "calibrate_drawn"]

_MAX_POOL_REFERENCE = 50_000


@dataclass(frozen=True, slots=True)
class ColumnCalibration:
    name: str
    kind: str
    method: str
    family: str
    current_threshold: float
    proposed_threshold: float
    current_rate: float
    proposed_rate: float
    null_median: float
    null_p99: float
    note: str = ""

    @property
    def calibrated(self) -> bool:
        return not self.note

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Calibration:
    window_rows: int
    reference_rows: int
    simulations: int
    target_rate: float
    columns: tuple[ColumnCalibration, ...]
    dataset_rate_current: float
    dataset_rate_proposed: float
    any_rate_current: float
    any_rate_proposed: float

    def thresholds(self) -> dict[str, dict[str, Any]]:
        """Per-column settings to write into ``detection.columns``."""
        return {
            c.name: {"method": c.method, "threshold": float(f"{c.proposed_threshold:.6g}")}
            for c in self.columns
            if c.calibrated
        }

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["columns"] = [c.to_dict() for c in self.columns]
        return out


def _stable(column: Any, pool: pl.DataFrame) -> Any:
    """The method calibration pins for a column: the one its record names in its place (a
    z-test picked on a window with two values breaks on a later window with three, a one-season
    January reference, then spring: chi-square fits any count of values)."""
    from dataclasses import replace

    pinned = get_method(column.method).calibrate_as
    return replace(column, method=pinned) if pinned else column


def _settings_for(
    report_columns: Any, base: DetectionSettings, thresholds: dict[str, float] | None
) -> DetectionSettings:
    columns = dict(base.columns)
    for c in report_columns:
        override = {"kind": c.kind, "method": c.method}
        override["threshold"] = thresholds[c.name] if thresholds else c.threshold
        columns[c.name] = override  # type: ignore[assignment]
    data = base.model_dump() | {"columns": columns, "degradation": {"enabled": False}, "workers": 1}
    data.pop("threshold", None)
    return DetectionSettings.model_validate(data)


def _simulated_value(c: Any, settings: DetectionSettings) -> float:
    """What decides a simulated window: a p-value, or a distance where its companion test
    rejected (``-inf`` where it did not: no threshold can make that window flag)."""
    value = c.p_value if c.family == Family.P_VALUE else c.statistic
    if value is None:
        return float("nan")
    if c.family == Family.P_VALUE or c.test is None:
        return float(value)
    level = settings.alpha if c.test == "resampled" else settings.threshold_for(c.test, c.name)
    return float(value) if c.p_value is not None and c.p_value < level else -np.inf


def _alarms(c: Any, raw: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Alarms at the current and at ``threshold`` in each simulated window (NaN never alarms)."""
    with np.errstate(invalid="ignore"):
        if c.family == Family.P_VALUE:
            return raw < c.threshold, raw < threshold
        return raw >= c.threshold, raw >= threshold


def _calibrate_column(
    c: Any, raw: np.ndarray, per_column: float, fit: slice, held_out: slice, constant: bool
) -> ColumnCalibration | None:
    v = raw[np.isfinite(raw)]
    if v.size == 0 and not np.isneginf(raw).any():
        return None
    note = ""
    if constant:
        note = "constant in the pool: left alone"
    elif v.size == 0:
        note = "its change was never significant in the simulations: left alone"
    elif np.ptp(v) == 0 and not np.isneginf(raw).any():
        note = f"its statistic never varied across the simulations ({v[0]:.4g}): left alone"
    if note:
        proposed = c.threshold
    elif c.family == Family.P_VALUE:
        # exact: the p-value holds its level (module docstring), inside the values it can take
        proposed = get_method(c.method).p_threshold(per_column)
    else:
        proposed = _distance_threshold(c, raw[fit], per_column)
    now, new = _alarms(c, raw[held_out], proposed)
    return ColumnCalibration(
        c.name,
        c.kind,
        c.method,
        c.family,
        c.threshold,
        proposed,
        float(now.mean()),
        float((new if not note else now).mean()),
        float(np.median(v)) if v.size else float("nan"),
        float(np.quantile(v, 0.99)) if v.size else float("nan"),
        note,
    )


def _distance_threshold(c: Any, fitted: np.ndarray, share: float) -> float:
    """The threshold a no-drift window passes (significantly) with probability ``share``; the
    method's own minimum positive value when significant windows are rarer than that."""
    gated = fitted[~np.isnan(fitted)]
    quantile = _upper_quantile(gated, share) if gated.size else -np.inf
    if not np.isfinite(quantile):  # significant windows rarer than the share: flag each one
        finite = gated[np.isfinite(gated)]
        return float(np.nextafter(finite.min(), -np.inf)) if finite.size else c.threshold
    return float(min(np.nextafter(quantile, np.inf), get_method(c.method).threshold_max))


def _upper_quantile(values: np.ndarray, share: float) -> float:
    """The k-th smallest of n values with k = ceil((n + 1)(1 - share)): a new value exceeds it
    with probability (n + 1 - k) / (n + 1) <= ``share`` on average (an interpolated quantile
    exceeds ``share``: 4% instead of 3.3% at 150 values).

    Examples
    --------
    >>> _upper_quantile(np.arange(1.0, 151.0), 1 / 30)
    146.0
    """
    ordered = np.sort(values)
    k = min(int(np.ceil((ordered.size + 1) * (1 - share))), ordered.size)
    return float(ordered[max(k, 1) - 1])


def calibrate(
    pool: pl.DataFrame,
    *,
    window_rows: int,
    reference_rows: int,
    columns: list[str] | None = None,
    settings: DetectionSettings | dict[str, Any] | None = None,
    target_rate: float = 1 / 13,
    simulations: int = 500,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> Calibration:
    """Estimate no-drift distributions and propose thresholds (see the module docstring).

    ``progress(done, total)`` is called after each simulated window."""
    base = load_settings(settings)
    if window_rows < 3:
        raise DataError(f"window_rows must be at least 3. Got {window_rows}.")
    if reference_rows < 2:
        raise DataError(f"reference_rows must be at least 2. Got {reference_rows}.")
    if not 0 < target_rate < 1:
        raise ConfigError(f"target_rate must be in (0, 1), e.g. 1/13. Got {target_rate!r}.")
    if simulations < 20:
        raise ConfigError(f"simulations must be at least 20 (two halves of 10). Got {simulations}.")
    if pool.height < window_rows + 10:
        raise DataError(
            f"Too few rows to calibrate windows of {window_rows} rows: the pool has {pool.height}. "
            "Add history (earlier windows) or calibrate smaller windows."
        )
    rng = np.random.default_rng(seed)
    ref_size = min(reference_rows, pool.height - window_rows, _MAX_POOL_REFERENCE)
    # The methods a real run would use, judged on one representative split of the pool.
    first = rng.permutation(pool.height)
    probe = detect(
        pool[first[window_rows : window_rows + ref_size].tolist()],
        pool[first[:window_rows].tolist()],
        columns=columns,
        config=base,
    )
    tested = [_stable(c, pool) for c in probe.columns if c.skipped is None]
    fixed = _settings_for(tested, base, None)
    names = [c.name for c in tested]
    values = {n: np.empty(simulations) for n in names}
    for s in range(simulations):
        order = rng.permutation(pool.height)
        window = pool[order[:window_rows].tolist()]
        reference = pool[order[window_rows : window_rows + ref_size].tolist()]
        report = detect(reference, window, columns=names, config=fixed)
        for c in report.columns:
            values[c.name][s] = _simulated_value(c, fixed)
        if progress is not None:
            progress(s + 1, simulations)
    constant = {n for n in names if pool[n].n_unique() < 2}
    return _summarise(
        tested, values, constant, base, (window_rows, ref_size), target_rate, simulations
    )


def _summarise(
    tested: list[Any],
    values: dict[str, np.ndarray],
    constant: set[str],
    base: DetectionSettings,
    sizes: tuple[int, int],
    target_rate: float,
    simulations: int,
) -> Calibration:
    """Thresholds from the simulated statistics (``sizes``: window and reference rows), rates
    measured on the held-out half."""
    window_rows, reference_rows = sizes
    fit, held_out = slice(0, simulations // 2), slice(simulations // 2, simulations)
    per_column = _joint_share(tested, values, constant, fit, target_rate)
    calibrated, alarms_now, alarms_new = [], [], []
    for c in tested:
        column = _calibrate_column(c, values[c.name], per_column, fit, held_out, c.name in constant)
        if column is None:  # never testable in a window this size: left alone, not calibrated
            continue
        now, new = _alarms(c, values[c.name], column.proposed_threshold)
        alarms_now.append(now[held_out])
        alarms_new.append((new if column.calibrated else now)[held_out])
        calibrated.append(column)
    n_held = simulations - simulations // 2
    now_matrix = np.vstack(alarms_now) if alarms_now else np.zeros((0, n_held))
    new_matrix = np.vstack(alarms_new) if alarms_new else np.zeros((0, n_held))
    share_now, share_new = now_matrix.mean(axis=0), new_matrix.mean(axis=0)
    return Calibration(
        window_rows=window_rows,
        reference_rows=reference_rows,
        simulations=simulations,
        target_rate=target_rate,
        columns=tuple(calibrated),
        dataset_rate_current=float((share_now >= base.drift_share).mean()),
        dataset_rate_proposed=float((share_new >= base.drift_share).mean()),
        any_rate_current=float(now_matrix.any(axis=0).mean()),
        any_rate_proposed=float(new_matrix.any(axis=0).mean()),
    )


def _joint_share(
    tested: list[Any],
    values: dict[str, np.ndarray],
    constant: set[str],
    fit: slice,
    target_rate: float,
) -> float:
    """The largest per-column share at which *any* column flags in at most ``target_rate`` of
    the fitted simulations (bisection in log space; from ``target_rate / n``, the union bound,
    up to ``target_rate``, one column alone)."""
    columns = [c for c in tested if c.name not in constant and values[c.name].size]
    if not columns:
        return target_rate

    def rate(share: float) -> float:
        flags = np.zeros(values[columns[0].name][fit].size, dtype=bool)
        for c in columns:
            raw = values[c.name][fit]
            if c.family == Family.P_VALUE:
                threshold = share
            elif np.isfinite(raw).any():
                threshold = _distance_threshold(c, raw, share)
            else:
                continue
            with np.errstate(invalid="ignore"):
                flags |= raw < threshold if c.family == Family.P_VALUE else raw >= threshold
        return float(flags.mean())

    low, high = np.log(target_rate / len(columns)), np.log(target_rate)
    if rate(float(np.exp(high))) <= target_rate:
        return target_rate
    for _ in range(30):
        middle = (low + high) / 2
        low, high = (middle, high) if rate(float(np.exp(middle))) <= target_rate else (low, middle)
    return float(np.exp(low))


def calibrate_drawn(
    reference: Any,
    draw: Callable[[int, np.random.Generator], pl.DataFrame],
    *,
    window_rows: int,
    constant: set[str] | frozenset[str] = frozenset(),
    columns: list[str] | None = None,
    settings: DetectionSettings | dict[str, Any] | None = None,
    target_rate: float = 1 / 13,
    simulations: int = 500,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
    detector: Callable[..., Any] = detect,
) -> Calibration:
    """Calibrate against a fixed ``reference`` with no-drift windows drawn by ``draw(rows, rng)``
    from the reference's own population; ``detector`` is the ``detect`` that reads the reference
    (:func:`driftloop.profiles.detection.detect` for a profile).

    Unlike :func:`calibrate`, the reference is not resampled: each simulated window is tested
    against ``reference`` itself, as a real run would be. That leaves out the reference's own
    sampling noise, so it is honest only when the reference is much larger than a window (the
    caller checks); the rest (methods as a real run picks them, p-value thresholds exact,
    distance thresholds fitted on half the simulations and rates measured on the other half)
    is :func:`calibrate`'s.
    """
    base = load_settings(settings)
    if window_rows < 3:
        raise DataError(f"window_rows must be at least 3. Got {window_rows}.")
    if not 0 < target_rate < 1:
        raise ConfigError(f"target_rate must be in (0, 1), e.g. 1/13. Got {target_rate!r}.")
    if simulations < 20:
        raise ConfigError(f"simulations must be at least 20 (two halves of 10). Got {simulations}.")
    rng = np.random.default_rng(seed)
    probe = detector(reference, draw(window_rows, rng), columns=columns, config=base)
    tested = [_stable(c, pl.DataFrame()) for c in probe.columns if c.skipped is None]
    fixed = _settings_for(tested, base, None)
    names = [c.name for c in tested]
    values = {n: np.empty(simulations) for n in names}
    for s in range(simulations):
        report = detector(reference, draw(window_rows, rng), columns=names, config=fixed)
        for c in report.columns:
            values[c.name][s] = _simulated_value(c, fixed)
        if progress is not None:
            progress(s + 1, simulations)
    sizes = (window_rows, int(getattr(reference, "height", 0)))
    chosen = set(constant) & set(names)
    return _summarise(tested, values, chosen, base, sizes, target_rate, simulations)
