"""``detect``: compare a current sample against a reference sample, column by column."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import polars as pl

from driftloop.drift import degradation, family
from driftloop.drift.binning import binned_counts, equal_width_edges
from driftloop.drift.choose import (
    DISTANCE_MIN_EFFECTIVE,
    NUMERIC_MIN_UNIQUE,
    choose_method,
    effective_size,
)
from driftloop.drift.columns import ColumnKind, DtypeFamily, dtype_family, infer_kind
from driftloop.drift.frames import as_polars, to_sample
from driftloop.drift.methods import (
    AUTOMATIC,
    Family,
    Method,
    MethodOptions,
    check_applies,
    column_test,
    get_method,
)
from driftloop.drift.results import (
    ColumnDrift,
    DegradationAlert,
    DriftReport,
    ExcludedColumn,
    Histogram,
    MultivariateDrift,
    SegmentDrift,
)
from driftloop.drift.samples import NumericSample, Sample, category_counts, label_text
from driftloop.drift.settings import DetectionSettings, load_settings
from driftloop.drift.table import Column, Table
from driftloop.drift.vectors import is_vector_dtype
from driftloop.errors import ConfigError, SchemaError, ValueQualityError

__all__ = [
    "Column",
    "FrameTable",
    "PreparedColumn",
    "PreparedTable",
    "SeriesColumn",
    "Table",
    "detect",
    "detect_tables",
    "prepare",
]

_PARALLEL_MIN_ROWS = 50_000
_HISTOGRAM_BINS = 20
_HISTOGRAM_LABELS = 20
_NOISY_RATE = 0.10


def detect(
    reference: Any,
    current: Any,
    *,
    columns: Sequence[str] | None = None,
    config: DetectionSettings | dict[str, Any] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> DriftReport:
    """Compare ``current`` against ``reference``: per-column drift, dataset verdict, degradation.

    Parameters
    ----------
    reference, current
        pandas or Polars DataFrames, or Arrow tables; or either side as returned by
        :func:`prepare` (reduced once, e.g. a reference compared with many windows).
    columns
        Columns to compare (default: every reference column). A listed column absent from the
        current data is reported as a ``missing_feature`` degradation.
    config
        :class:`DetectionSettings` or a dict of them (methods, thresholds, ``drift_share``...).
    progress
        Called as ``progress(done, total)`` each time a column is finished (from worker
        threads, one call at a time), e.g. to drive a progress bar on wide data.

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> rng = np.random.default_rng(0)
    >>> ref = pl.DataFrame({"x": rng.normal(size=500), "y": rng.normal(size=500)})
    >>> cur = pl.DataFrame({"x": rng.normal(1.0, size=500), "y": rng.normal(size=500)})
    >>> report = detect(ref, cur)
    >>> report.drifted_columns, report.share_drifted, report.dataset_drift
    (['x'], 0.5, True)
    >>> report.column("x").method, report.column("x").p_value < 0.05
    ('ks', True)
    """
    started = time.perf_counter()
    settings = load_settings(config)
    ref, cur = _frame_table(reference, "reference"), _frame_table(current, "current")
    if settings.strict_schema:
        from driftloop.drift.schema import compare_schemas

        names = _select_columns(ref.columns, columns, settings)
        compare_schemas(ref.frame.select(names).schema, cur.frame.schema).raise_if_different()
    return detect_tables(
        ref,
        cur,
        columns=columns,
        settings=settings,
        progress=progress,
        started=started,
    )


@dataclass(frozen=True, slots=True)
class SeriesColumn:
    """A column of a data frame: reduced to its sample when it is compared."""

    series: pl.Series

    @property
    def dtype_text(self) -> str:
        return str(self.series.dtype)

    @property
    def family(self) -> DtypeFamily:
        return dtype_family(self.series.dtype)

    def sample(self, family: DtypeFamily, *, side: str, nonfinite: str) -> Sample:
        return to_sample(self.series, family, side=side, nonfinite=nonfinite)


@dataclass(frozen=True, slots=True)
class FrameTable:
    """A Polars data frame as one side of a comparison."""

    frame: pl.DataFrame

    @property
    def columns(self) -> list[str]:
        return self.frame.columns

    @property
    def height(self) -> int:
        return self.frame.height

    def columns_by_name(self) -> dict[str, Column]:
        """Every column by name, read once (a lookup per column would be linear in the width)."""
        return {series.name: SeriesColumn(series) for series in self.frame.get_columns()}

    def segment_values(self, column: str) -> list[Any]:
        """The distinct non-null values of ``column`` (NaN names no segment)."""
        values = self.frame.get_column(column).drop_nulls()
        if values.dtype.is_float():
            values = values.drop_nans()
        return values.unique().to_list()

    def segment(self, column: str, value: Any) -> FrameTable:
        return replace(self, frame=self.frame.filter(pl.col(column) == value))


def prepare(
    data: Any, *, config: DetectionSettings | dict[str, Any] | None = None, side: str = "reference"
) -> PreparedTable:
    """Reduce each column of ``data`` once (numbers sorted, labels counted), on every core, so
    that :func:`detect` against it skips that work: for a reference compared with many windows.

    The prepared side holds a sorted copy of each numeric column (about the data's own size).
    Reports are those of the data itself.

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> rng = np.random.default_rng(0)
    >>> ref = pl.DataFrame({"x": rng.normal(size=500)})
    >>> cur = pl.DataFrame({"x": rng.normal(1.0, size=500)})
    >>> prepared = prepare(ref)
    >>> detect(prepared, cur).column("x").p_value == detect(ref, cur).column("x").p_value
    True
    """
    settings = load_settings(config)
    table = PreparedTable.of(as_polars(data, side))
    testable = (DtypeFamily.NUMBER, DtypeFamily.BOOLEAN, DtypeFamily.LABEL)

    def reduce(column: PreparedColumn) -> None:
        if column.family in testable:
            column.sample(column.family, side=side, nonfinite=settings.nonfinite)

    columns = list(table.prepared.values())
    if table.height < _PARALLEL_MIN_ROWS or (settings.workers or os.cpu_count() or 1) == 1:
        for column in columns:
            reduce(column)
    else:
        workers = settings.workers or min(os.cpu_count() or 1, len(columns))
        with ThreadPoolExecutor(workers, thread_name_prefix="driftloop") as pool:
            list(pool.map(reduce, columns))
    return table


@dataclass(frozen=True, slots=True)
class PreparedColumn(SeriesColumn):
    """A data frame's column that keeps its samples once made."""

    made: dict[tuple[DtypeFamily, str], Sample] = field(default_factory=dict)

    def sample(self, family: DtypeFamily, *, side: str, nonfinite: str) -> Sample:
        key = (family, nonfinite)
        if key not in self.made:  # one task reads a column: no two threads make the same key
            self.made[key] = to_sample(self.series, family, side=side, nonfinite=nonfinite)
        return self.made[key]


@dataclass(frozen=True, slots=True)
class PreparedTable(FrameTable):
    """A data frame whose columns keep their samples (:func:`prepare`)."""

    prepared: dict[str, PreparedColumn] = field(default_factory=dict)

    @classmethod
    def of(cls, frame: pl.DataFrame) -> PreparedTable:
        return cls(frame, {s.name: PreparedColumn(s) for s in frame.get_columns()})

    def columns_by_name(self) -> dict[str, Column]:
        return dict(self.prepared)


def _frame_table(data: Any, side: str) -> FrameTable | PreparedTable:
    return data if isinstance(data, PreparedTable) else FrameTable(as_polars(data, side))


def detect_tables(
    ref: Table,
    cur: Table,
    *,
    columns: Sequence[str] | None,
    settings: DetectionSettings,
    progress: Callable[[int, int], None] | None = None,
    started: float | None = None,
) -> DriftReport:
    """:func:`detect` on two sides already read: data frames or profiles (``Table``)."""
    started = time.perf_counter() if started is None else started
    names = _select_columns(ref.columns, columns, settings)
    current_names = set(cur.columns)
    present = [n for n in names if n in current_names]
    if not present:
        raise SchemaError(
            "Reference and current data have no columns in common (reference: "
            f"{_list(ref.columns)}; current: {_list(cur.columns)}). Rename columns to match."
        )
    alerts = [degradation.missing_feature(n) for n in names if n not in current_names]
    ref_columns, cur_columns = ref.columns_by_name(), cur.columns_by_name()
    family_plan = family.plan_for(settings, n_columns=len(present))
    column_settings = family.with_degradation_level(settings, family_plan)
    ref_rows, cur_rows = _sampled_rows(ref), _sampled_rows(cur)
    tasks = [
        _Task(n, ref_columns[n], cur_columns[n], column_settings, ref_rows.get(n), cur_rows.get(n))
        for n in present
    ]
    parallel = max(ref.height, cur.height) >= _PARALLEL_MIN_ROWS
    outcomes = _run(tasks, settings, parallel=parallel, progress=progress)
    results = [o.result for o in outcomes if o.result is not None]
    excluded = [o.excluded for o in outcomes if o.excluded is not None]
    alerts += [a for o in outcomes for a in o.alerts]
    if settings.fdr:
        results = _benjamini_hochberg(results)
    tested = [r for r in results if r.skipped is None]
    share = sum(r.drifted for r in tested) / len(tested) if tested else 0.0
    multivariate: tuple[MultivariateDrift, ...] = ()
    if settings.multivariate is not None:
        sides = _rows(ref, cur, "multivariate", sampled=True)
        _check_sample_size(ref, cur, settings.multivariate.max_rows)
        multivariate = _multivariate(*sides, results, excluded, settings)
    segments: tuple[SegmentDrift, ...] = ()
    if settings.segments:
        segments = _segments(ref, cur, present, column_settings)
    results, multivariate, segments, verdict = family.judge(
        family_plan, results, alerts, multivariate, segments
    )
    return DriftReport(
        dataset_drift=bool(tested) and share >= settings.drift_share,
        drift_share=settings.drift_share,
        share_drifted=share,
        columns=tuple(results),
        degradation=tuple(alerts),
        excluded=tuple(excluded),
        reference_rows=ref.height,
        current_rows=cur.height,
        fdr=settings.fdr,
        seconds=time.perf_counter() - started,
        multivariate=multivariate,
        segments=segments,
        family=verdict,
    )


def _rows(
    ref: Table, cur: Table, what: str, *, sampled: bool = False
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Both sides' rows, for the checks that need them: a frame's own, or (``sampled``) a
    profile's uniform row sample (``profiles/rowsample.py``)."""
    sides = []
    for table in (ref, cur):
        if isinstance(table, FrameTable):
            sides.append(table.frame)
            continue
        sample = getattr(table, "sample", None)
        if not sampled:
            raise ConfigError(
                f"detection.{what} needs the rows of both sides, and a profile keeps none. "
                f"Compare data frames, or remove detection.{what} from the settings."
            )
        if sample is None:
            raise ConfigError(
                f"detection.{what} reads a profile's row sample, and this profile was built "
                "without one. Rebuild it with a row sample (the default, sample_rows > 0), or "
                f"remove detection.{what} from the settings."
            )
        sides.append(sample.rows())
    return sides[0], sides[1]


def _check_sample_size(ref: Table, cur: Table, max_rows: int) -> None:
    """One line when a profile's row sample holds fewer rows than ``multivariate.max_rows``
    asks of a side that has them: the test would run on fewer rows than configured."""
    for side, table in (("reference", ref), ("current", cur)):
        sample = None if isinstance(table, FrameTable) else getattr(table, "sample", None)
        if sample is None or sample.k >= min(max_rows, table.height):
            continue
        raise ConfigError(
            f"detection.multivariate.max_rows is {max_rows:,}, and the {side} profile's row "
            f"sample holds {sample.k:,} of its {table.height:,} rows. Rebuild the profile with "
            f"--sample-rows {max_rows} (or more), or lower max_rows to {sample.k}."
        )


def _sampled_rows(table: Table) -> dict[str, pl.Series]:
    """A profile side's sampled rows by column (empty for a frame, or a profile without a
    sample): what the embedding and text tests read in place of rows."""
    sample = getattr(table, "sample", None)
    if isinstance(table, FrameTable) or sample is None:
        return {}
    return {s.name: s for s in sample.rows().get_columns()}


def _multivariate(
    ref: pl.DataFrame,
    cur: pl.DataFrame,
    results: list[ColumnDrift],
    excluded: list[ExcludedColumn],
    settings: DetectionSettings,
) -> tuple[MultivariateDrift, ...]:
    """The configured multivariate methods over the listed (or every tested) column."""
    if settings.multivariate is None:
        return ()
    from driftloop.drift.multivariate import run_multivariate

    kinds = {r.name: r.kind for r in results if r.skipped is None}
    wanted = settings.multivariate.columns
    for name in wanted or ():
        if name not in kinds:
            why = next(
                (e.reason for e in excluded if e.name == name), "not among the compared columns"
            )
            raise ConfigError(
                f"Column '{name}' in detection.multivariate.columns cannot be used: {why}. "
                f"Use tested columns: {_list(list(kinds))}."
            )
    names = wanted or [n for n in kinds if kinds[n] not in ("text", "embedding")]
    columns = [(n, kinds[n]) for n in names]
    return run_multivariate(ref, cur, columns, settings.multivariate)


def _segments(
    ref: Table, cur: Table, names: list[str], settings: DetectionSettings
) -> tuple[SegmentDrift, ...]:
    """Each segment through the same column analysis as the whole data (no charts, no alerts:
    the whole-data report carries those); a profile side reads its segments' own profiles."""
    from driftloop.drift.segments import segment_drift

    def compare(r: Table, c: Table, columns: list[str]) -> list[ColumnDrift]:
        r_columns, c_columns = r.columns_by_name(), c.columns_by_name()
        results = []
        for name in columns:
            task = _Task(name, r_columns[name], c_columns[name], settings)
            try:
                outcome = _analyse_in_segment(task)
            except ValueQualityError:  # no valid reference values in this segment: nothing to test
                continue
            if outcome.result is not None:
                results.append(outcome.result)
        return results

    return segment_drift(ref, cur, names, settings, compare)


def _analyse_in_segment(task: _Task) -> _Outcome:
    """A column inside one segment; a method pinned for the column that does not fit the
    segment's slice (a numeric column with two values there) gives way to the automatic choice
    in that segment instead of aborting the whole check."""
    try:
        return _analyse(task)
    except ConfigError:
        override = task.settings.columns.get(task.name)
        if override is None or override.method in (None, "auto"):
            raise
        columns = {**task.settings.columns, task.name: override.model_copy(update={"method": None})}
        settings = task.settings.model_copy(update={"columns": columns})
        return _analyse(replace(task, settings=settings))


@dataclass(frozen=True, slots=True)
class _Task:
    name: str
    reference: Column
    current: Column
    settings: DetectionSettings
    reference_rows: pl.Series | None = None  # a profile side's sampled rows of the column
    current_rows: pl.Series | None = None


@dataclass(frozen=True, slots=True)
class _Outcome:
    result: ColumnDrift | None = None
    excluded: ExcludedColumn | None = None
    alerts: tuple[DegradationAlert, ...] = ()


def _run(
    tasks: list[_Task],
    settings: DetectionSettings,
    *,
    parallel: bool,
    progress: Callable[[int, int], None] | None,
) -> list[_Outcome]:
    analyse = _analyse if progress is None else _Counter(len(tasks), progress).wrap(_analyse)
    workers = settings.workers or min(os.cpu_count() or 1, len(tasks))
    if not parallel or workers == 1:
        return [analyse(t) for t in tasks]
    # numpy's sorts and Polars' kernels release the GIL: threads use every core.
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="driftloop") as pool:
        return list(pool.map(analyse, tasks))


class _Counter:
    """Reports finished columns to a progress callback, one call at a time."""

    def __init__(self, total: int, callback: Callable[[int, int], None]) -> None:
        self.total, self.callback, self.done = total, callback, 0
        self.lock = threading.Lock()

    def wrap(self, analyse: Callable[[_Task], _Outcome]) -> Callable[[_Task], _Outcome]:
        def counted(task: _Task) -> _Outcome:
            outcome = analyse(task)
            with self.lock:
                self.done += 1
                self.callback(self.done, self.total)
            return outcome

        return counted


def _check_not_empty(task: _Task) -> None:
    """Refuse a reference column with no valid value (CSV reads an empty column as text)."""
    family = task.reference.family
    if family not in (DtypeFamily.NUMBER, DtypeFamily.LABEL, DtypeFamily.BOOLEAN):
        return
    sample = task.reference.sample(family, side="reference", nonfinite=task.settings.nonfinite)
    if sample.n_valid == 0:
        raise ValueQualityError(
            f"Column '{task.name}' in reference data has no valid values (all {sample.n_rows} "
            "are null, NaN or inf). Drop it from columns or fix the reference."
        )


def _analyse(task: _Task) -> _Outcome:
    name, settings = task.name, task.settings
    ref_family, cur_family = task.reference.family, task.current.family
    ref_dtype = task.reference.dtype_text
    override = settings.columns.get(name)
    forced = override.kind if override else None
    if ref_family is not cur_family and not _compatible(ref_family, cur_family):
        _check_not_empty(task)  # an all-missing reference column has no dtype to have changed
        ref_type = f"{ref_family} ({ref_dtype})"
        cur_type = f"{cur_family} ({task.current.dtype_text})"
        alert = degradation.dtype_change(name, ref_type, cur_type)
        kind = forced or infer_kind(ref_family, 3, 3)
        return _Outcome(excluded=ExcludedColumn(name, kind, "dtype changed"), alerts=(alert,))
    if ref_family is DtypeFamily.VECTOR or forced is ColumnKind.EMBEDDING:
        return _unstructured(task, ColumnKind.EMBEDDING, forced)
    if ref_family in (DtypeFamily.TEMPORAL, DtypeFamily.OTHER):
        kind = infer_kind(ref_family, 0, 0)
        reason = f"{kind} columns are not tested (dtype {ref_dtype})"
        return _Outcome(excluded=ExcludedColumn(name, kind, reason))
    if ref_family is DtypeFamily.LABEL:
        _check_cells(task)
    nonfinite = settings.nonfinite
    ref_sample = task.reference.sample(ref_family, side="reference", nonfinite=nonfinite)
    cur_sample = task.current.sample(ref_family, side="current", nonfinite=nonfinite)
    if ref_sample.n_valid == 0:
        raise ValueQualityError(
            f"Column '{name}' in reference data has no valid values (all {ref_sample.n_rows} are "
            "null, NaN or inf). Drop it from columns or fix the reference."
        )
    kind = forced or infer_kind(ref_family, ref_sample.n_unique, ref_sample.n_valid)
    if kind is ColumnKind.NUMERICAL and not isinstance(ref_sample, NumericSample):
        raise ConfigError(
            f"Column '{name}' holds labels (dtype {ref_dtype}); kind 'numerical' needs "
            "numbers. Cast it upstream or set its kind to 'categorical'."
        )
    if kind is ColumnKind.TEXT:
        return _unstructured(task, kind, forced)
    if not kind.testable:
        reason = f"{kind} columns are not tested ({ref_sample.n_unique} distinct values)"
        return _Outcome(excluded=ExcludedColumn(name, kind, reason))
    alerts = degradation.check_column(name, kind, ref_sample, cur_sample, settings.degradation)
    return _Outcome(
        result=_test(name, kind, ref_sample, cur_sample, settings), alerts=tuple(alerts)
    )


def _unstructured(task: _Task, kind: ColumnKind, forced: ColumnKind | None) -> _Outcome:
    """An embedding or text column: tested on both sides' rows (a profile's sampled rows)."""
    from driftloop.drift import unstructured

    name = task.name
    if forced not in (None, kind):
        reason = (
            f"kind {forced} does not apply to a column of vectors ({task.reference.dtype_text})"
        )
        return _Outcome(excluded=ExcludedColumn(name, str(forced), reason))
    override = task.settings.columns.get(name)
    if override is not None and override.method not in (None, *AUTOMATIC):
        raise ConfigError(
            f"Column '{name}' is kind {kind}, tested by its own test; method "
            f"'{override.method}' does not apply to it. Remove the column's method."
        )
    ref = getattr(task.reference, "series", task.reference_rows)
    cur = getattr(task.current, "series", task.current_rows)
    if kind is ColumnKind.EMBEDDING and ref is not None and not is_vector_dtype(ref.dtype):
        raise ConfigError(
            f"Column '{name}' has dtype {ref.dtype}; kind 'embedding' needs a column of vectors "
            "(lists or arrays of numbers). Remove the kind or fix the column."
        )
    if ref is None or cur is None:
        reason = (
            f"{kind} columns need rows on both sides; a profile built without a row sample has none"
        )
        return _Outcome(excluded=ExcludedColumn(name, str(kind), reason))
    alpha = task.settings.alpha
    if kind is ColumnKind.EMBEDDING:
        return _Outcome(result=unstructured.embedding_drift(name, ref, cur, alpha))
    if forced is None and not unstructured.looks_like_prose(ref):
        reason = "identifier-like text (mostly single words) is not tested; set its kind to text"
        return _Outcome(excluded=ExcludedColumn(name, str(kind), reason))
    return _Outcome(result=unstructured.text_drift(name, ref, cur, alpha))


def _check_cells(task: _Task) -> None:
    """Label cells too long to count (a document pasted into a cell) are one line, not
    gigabytes of fixed-width strings."""
    from driftloop.drift.unstructured import check_cell_lengths

    for side, column in (("reference", task.reference), ("current", task.current)):
        series = getattr(column, "series", None)
        if isinstance(series, pl.Series):
            check_cell_lengths(series, side)


def _compatible(a: DtypeFamily, b: DtypeFamily) -> bool:
    return {a, b} == {DtypeFamily.NUMBER, DtypeFamily.BOOLEAN}


def _test(
    name: str, kind: ColumnKind, ref: Sample, cur: Sample, settings: DetectionSettings
) -> ColumnDrift:
    n_unique = _union_unique(ref, cur)
    method = _method_for(name, kind, (ref.n_valid, cur.n_valid), n_unique, settings)
    threshold = settings.threshold_for(method.name, name)
    result = ColumnDrift(
        name=name,
        kind=str(kind),
        method=method.name,
        statistic=None,
        p_value=None,
        threshold=threshold,
        drifted=False,
        family=str(method.family),
        n_reference=ref.n_valid,
        n_current=cur.n_valid,
        error_bound=_cdf_error(ref) + _cdf_error(cur),
    )
    if cur.n_valid == 0:
        return replace(result, skipped="no valid values in the current data")
    numeric = kind is ColumnKind.NUMERICAL and n_unique >= NUMERIC_MIN_UNIQUE
    evidently = settings.method == "evidently"
    bins = getattr(settings, method.bins_option) if method.bins_option else None
    options = MethodOptions(name, numeric, bins, evidently)
    statistic, p_value = method.compute(ref, cur, options)
    warning, test, alpha = None, None, None
    if method.family is Family.DISTANCE and not evidently:
        test, p_value, alpha, warning = _significance(
            method, ref, cur, options, (threshold, n_unique), settings
        )
    error: float | None = 0.0
    if result.error_bound > 0:
        error = method.statistic_error(statistic, ref, cur, options)
        warning = _join(warning, _sketch_warning(method, statistic, error, threshold))
    return replace(
        result,
        statistic=statistic,
        p_value=p_value,
        drifted=method.drifted(statistic, p_value, threshold)
        and (alpha is None or (p_value is not None and p_value < alpha)),
        warning=warning,
        test=test,
        statistic_error=error,
        histogram=_histogram(ref, cur, numeric=kind is ColumnKind.NUMERICAL),
    )


def _sketch_warning(
    method: Method, statistic: float, error: float | None, threshold: float
) -> str | None:
    """Say so when a distance read from a profile is too close to its threshold to call."""
    if error is None:
        return f"read from a profile: how far {method.name} may be from the raw data's is unknown"
    if method.family is not Family.DISTANCE or abs(statistic - threshold) > error:
        return None
    return (
        f"read from a profile, {method.name} is {statistic:.4g} ± {error:.2g}: within its error "
        f"of the threshold {threshold:g}, the raw data could give the other verdict"
    )


def _join(*warnings: str | None) -> str | None:
    return "; ".join(w for w in warnings if w) or None


def _cdf_error(sample: Sample) -> float:
    """How far a sketched side's empirical CDF may be from the data's (0 for exact values)."""
    return sample.error if isinstance(sample, NumericSample) else 0.0


def _significance(
    method: Method,
    ref: Sample,
    cur: Sample,
    options: MethodOptions,
    limits: tuple[float, int],
    settings: DetectionSettings,
) -> tuple[str, float | None, float, str | None]:
    """A distance flags only when the change is past its threshold *and* significant: the
    test on the same samples, its p-value and level, and a warning.

    The threshold is an effect size, not a test: normed Wasserstein >= 0.1 flags 90% of
    no-drift lognormal windows at 2,000 rows a side. Below ``n_eff`` = 1000 the test is the
    distance's own resampled null distribution; above, the column's natural test (KS for
    numbers, chi-square or the z-test for labels), judged at that test's threshold.
    """
    threshold, n_unique = limits
    if effective_size(ref.n_valid, cur.n_valid) < DISTANCE_MIN_EFFECTIVE:
        p_value, warning = _distance_noise(method, ref, cur, options, threshold)
        return "resampled", p_value, settings.alpha, warning
    name = (method.test or column_test)(options.numeric, n_unique)
    test = get_method(name)
    _, test_p = test.compute(ref, cur, options)
    return name, test_p, settings.threshold_for(name, options.column), None


def _distance_noise(
    method: Method, ref: Sample, cur: Sample, options: MethodOptions, threshold: float
) -> tuple[float, str | None]:
    """A distance at sizes where noise alone can pass its threshold: its resampled p-value, and
    a warning when the fixed threshold flags over 10% of no-drift windows of this size."""
    from driftloop.drift import resampling

    p_value, rate = resampling.distance_noise(
        ref, cur, lambda r, c: method.compute(r, c, options)[0], threshold
    )
    if rate <= _NOISY_RATE:
        return p_value, None
    return p_value, (
        f"{method.name} >= {threshold:g} flags about {rate:.0%} of no-drift windows at "
        f"{cur.n_valid:,} vs {ref.n_valid:,} rows; judge it by its p-value ({p_value:.3g}) or "
        "use method 'auto' for windows this small."
    )


def _method_for(
    name: str,
    kind: ColumnKind,
    sizes: tuple[int, int],
    n_unique: int,
    settings: DetectionSettings,
) -> Method:
    table = "evidently" if settings.method == "evidently" else "auto"
    auto = get_method(choose_method(kind, sizes[0], n_unique, sizes[1], table=table))
    override = settings.columns.get(name)
    if override and override.method not in (None, "auto", "evidently"):
        method = get_method(override.method)
        _check_applies(method, name, kind, n_unique)
        return method
    if settings.method in AUTOMATIC:
        return auto
    # A global method applies where it can; other columns keep the automatic choice.
    method = get_method(settings.method)
    try:
        _check_applies(method, name, kind, n_unique)
    except ConfigError:
        return auto
    return method


def _check_applies(method: Method, name: str, kind: ColumnKind, n_unique: int) -> None:
    check_applies(method, name, str(kind), kind is ColumnKind.NUMERICAL, n_unique)


def _union_unique(ref: Sample, cur: Sample) -> int:
    """Distinct values over both sides; exact only where the method choice depends on it."""
    bound = max(ref.n_unique, cur.n_unique)
    if bound >= NUMERIC_MIN_UNIQUE:
        return bound
    return int(category_counts(ref, cur)[0].size)


def _histogram(ref: Sample, cur: Sample, *, numeric: bool) -> Histogram:
    if numeric and isinstance(ref, NumericSample) and isinstance(cur, NumericSample):
        low = min(ref.values[0], cur.values[0])
        high = max(ref.values[-1], cur.values[-1])
        try:
            edges = equal_width_edges(low, high, _HISTOGRAM_BINS)
        except ValueError:  # a sub-normal range: chart the distinct values instead
            return _histogram(ref, cur, numeric=False)
        return Histogram(
            reference=_shares(binned_counts(ref.values, edges), ref.values.size),
            current=_shares(binned_counts(cur.values, edges), cur.values.size),
            edges=tuple(float(e) for e in edges),
        )
    labels, ref_counts, cur_counts = category_counts(ref, cur)
    order = np.argsort(-(ref_counts / ref.n_valid + cur_counts / cur.n_valid), kind="stable")
    top, rest = order[:_HISTOGRAM_LABELS], order[_HISTOGRAM_LABELS:]
    names = [label_text(x) for x in labels[top]]
    ref_top, cur_top = list(ref_counts[top]), list(cur_counts[top])
    if rest.size:
        names.append(f"(other {rest.size})")
        ref_top.append(ref_counts[rest].sum())
        cur_top.append(cur_counts[rest].sum())
    return Histogram(
        reference=_shares(np.asarray(ref_top), ref.n_valid),
        current=_shares(np.asarray(cur_top), cur.n_valid),
        labels=tuple(names),
    )


def _shares(counts: np.ndarray, total: int) -> tuple[float, ...]:
    return tuple(round(float(c) / total, 6) for c in counts)


def _benjamini_hochberg(results: list[ColumnDrift]) -> list[ColumnDrift]:
    """Judge p-value columns on Benjamini-Hochberg adjusted p-values (false discovery rate)."""
    idx = [i for i, r in enumerate(results) if r.family == Family.P_VALUE and r.p_value is not None]
    if not idx:
        return results
    from scipy import stats  # deferred: importing scipy.stats costs ~0.5 s

    adjusted = stats.false_discovery_control([results[i].p_value for i in idx], method="bh")
    out = list(results)
    for i, p_adj in zip(idx, adjusted, strict=True):
        r = results[i]
        out[i] = replace(r, p_adjusted=float(p_adj), drifted=bool(p_adj < r.threshold))
    return out


def _select_columns(
    reference_names: list[str], columns: Sequence[str] | None, s: DetectionSettings
) -> list[str]:
    known = set(reference_names)
    wanted = list(columns) if columns is not None else reference_names
    for name in [*wanted, *s.columns]:
        if name not in known:
            raise SchemaError(
                f"Column '{name}' is not in the reference data. "
                f"Reference columns: {_list(reference_names)}."
            )
    if not wanted:
        raise ConfigError("columns is empty: name at least one column to compare.")
    return wanted


def _list(names: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(names[:limit])
    return (shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")) or "none"
