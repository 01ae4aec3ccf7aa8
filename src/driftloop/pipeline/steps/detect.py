"""The detect step: the window against the reference, the reports, and whether it fires."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from driftloop.pipeline.steps.context import RunContext
from driftloop.pipeline.steps.loop_settings import loop_settings
from driftloop.pipeline.steps.result import StepResult

if TYPE_CHECKING:
    from driftloop.config import TriggerConfig
    from driftloop.drift.results import DriftReport

__all__ = ["DetectResult", "detect", "reasons_to_fire"]


@dataclass(frozen=True, slots=True)
class DetectResult(StepResult):
    """The drift verdict; ``fires`` when drift that matters (``on_drift.when``) was found."""

    dataset_drift: bool
    share_drifted: float
    drifted: tuple[str, ...]
    degradation: tuple[str, ...]
    fires: bool
    reasons: tuple[str, ...]
    report_html: str
    report_json: str
    seconds: float
    current_profile: str = ""  # the window's own profile, kept in the run's folder

    def summary(self) -> str:
        verdict = "dataset drift" if self.dataset_drift else "no dataset drift"
        return f"{verdict}; drifted: {', '.join(self.drifted) or '-'}"


def reasons_to_fire(report: DriftReport, when: TriggerConfig) -> tuple[str, ...]:
    """Why this report matters under the ``on_drift.when`` policy (empty: it does not).

    Only findings that survived the window's family adjustment count (``drift/family.py``),
    so a no-drift window makes the loop act with probability at most ``detection.family.rate``.
    """
    if report.family is None:
        return _legacy_reasons(report, when)
    family = report.family
    columns = {f.name for f in family.of("columns")}
    reasons = []
    hurt = _performance_reasons(report)
    if when.require_performance_drop and not hurt:
        return ()  # drift the model is not hurt by: reported, not acted on
    if when.performance_drop:
        reasons += hurt
    if when.dataset_drift and report.dataset_drift and columns:
        reasons.append("dataset drift")
    if when.degradation and family.of("degradation"):
        reasons.append("degradation")
    joint = [f.name for f in family.of("multivariate")]
    if when.multivariate and joint:
        reasons.append("multivariate drift (" + ", ".join(joint) + ")")
    named = sorted(set(when.features) & columns)
    if named:
        reasons.append("drift in " + ", ".join(named))
    if when.segments is not False:
        wanted = None if when.segments is True else set(when.segments)
        reasons += [
            f.line for f in family.of("segments") if wanted is None or f.segment_column in wanted
        ]
    return tuple(reasons)


def _performance_reasons(report: DriftReport) -> list[str]:
    """``estimated roc_auc 0.71 (95% 0.66-0.76) below the reference's 0.86``, for each
    performance drop (each alerted at its level in the window's family: a family finding)."""
    section = report.performance or {}
    if "skipped" in section:
        return []
    metric, reasons = section.get("metric", ""), []
    for name, result in (("estimated", section), ("realized", section.get("realized"))):
        if result is None or not result.get("alert"):
            continue
        reasons.append(
            f"{name} {metric} {result['value']:.3f} ({result['confidence']:.0%} "
            f"{result['lower']:.3f}-{result['upper']:.3f}) below the reference's "
            f"{result['reference_value']:.3f}"
        )
    return reasons


def _legacy_reasons(report: DriftReport, when: TriggerConfig) -> tuple[str, ...]:
    """A report written before the family (schema 1.5 and older): every alert counts."""
    reasons = []
    if when.dataset_drift and report.dataset_drift:
        reasons.append("dataset drift")
    if when.degradation and report.degradation:
        reasons.append("degradation")
    joint = [m.method for m in report.multivariate if m.drifted]
    if when.multivariate and joint:
        reasons.append("multivariate drift (" + ", ".join(joint) + ")")
    named = sorted(set(when.features) & set(report.drifted_columns))
    if named:
        reasons.append("drift in " + ", ".join(named))
    return (*reasons, *_segment_reasons(report, when.segments))


def _segment_reasons(report: DriftReport, segments: bool | list[str]) -> list[str]:
    """``windspeed drifted where workingday = 0``, for the segment columns ``segments`` names."""
    if segments is False:
        return []
    wanted = None if segments is True else set(segments)
    return [
        line
        for s in report.segments
        if wanted is None or s.column in wanted
        for line in s.findings()
    ]


def _reference(ctx: RunContext) -> Any:
    """The reference the fetch step left: a profile file, or the reference rows."""
    if ctx.config.reference.profile is not None:
        from driftloop.errors import ConfigError
        from driftloop.profiles.fileformat import load_profile

        path = ctx.file("reference.profile")
        if not path.exists():
            raise ConfigError(
                f"Step input '{path}' is missing: run the 'fetch_reference' step of run "
                f"{ctx.run_id} first."
            )
        return load_profile(path)
    return ctx.frame("reference.parquet", "fetch_reference")


def _with_impact(ctx: RunContext, report: DriftReport) -> DriftReport:
    """The report with the production model's reliance on each feature (``impact``), when the
    pipeline has a model whose production version recorded it; unchanged otherwise (a registry
    that cannot be read costs the ranking, never the window)."""
    from dataclasses import replace

    cfg = ctx.config
    if cfg.model is None or not any(c.drifted for c in report.columns):
        return report
    from pathlib import Path

    from driftloop.errors import DriftloopError
    from driftloop.model.registry import Registry

    uri = cfg.stores.mlflow.get_secret_value()
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).is_file():
        return report  # nothing registered yet (and a read creates no store)
    try:
        registry = Registry.open(uri, cfg.stores.mlflow_artifacts, cfg.stores.s3_endpoint_url)
        shares = registry.production_reliance(cfg.model.name)
    except DriftloopError:
        return report
    return report if not shares else replace(report, impact=shares)


def detect(ctx: RunContext) -> DetectResult:
    """Compare the window against the reference; write the JSON and HTML reports."""
    from driftloop.history.store import record_report
    from driftloop.pipeline.steps.performance import with_performance
    from driftloop.profiles.detection import detect as run_detect
    from driftloop.report.html import render_html

    cfg = ctx.config
    current = _window(ctx)
    report = run_detect(
        _reference(ctx),
        current,
        columns=cfg.columns,
        config=loop_settings(cfg),
    )
    report = with_performance(ctx, _with_impact(ctx, report), current)
    stem = ctx.report_folder() / ctx.report_stem
    html, json_path = stem.with_suffix(".html"), stem.with_suffix(".json")
    report.to_json(json_path)
    report.to_json(ctx.file("report.json"))
    title = f"{cfg.pipeline}: {ctx.window[0]} to {ctx.window[1]}"
    html.write_text(render_html(report, title=title, run_id=ctx.run_id), encoding="utf-8")
    record_report(
        cfg.stores.warehouse.get_secret_value(),
        cfg.pipeline,
        ctx.run_id,
        (ctx.start, ctx.end),
        report,
        current,
        str(json_path),
    )
    reasons = reasons_to_fire(report, cfg.on_drift.when)
    window_profile = ctx.file("current.profile")
    if cfg.current.engine == "rows":
        _save_window_profile(ctx, current)
    return DetectResult(
        dataset_drift=report.dataset_drift,
        share_drifted=round(report.share_drifted, 4),
        drifted=tuple(report.drifted_columns),
        degradation=tuple(f"{a.feature}:{a.kind}" for a in report.degradation),
        fires=bool(reasons),
        reasons=reasons,
        report_html=str(html),
        report_json=str(json_path),
        seconds=round(report.seconds, 4),
        current_profile=str(window_profile),
    )


def _window(ctx: RunContext) -> Any:
    """The window's rows, or its profile when ``current.engine`` profiled it out of core."""
    if ctx.config.current.engine == "rows":
        return ctx.frame("current.parquet", "fetch_current")
    from driftloop.errors import ConfigError
    from driftloop.profiles.fileformat import load_profile

    path = ctx.file("current.profile")
    if not path.exists():
        raise ConfigError(
            f"Step input '{path}' is missing: run the 'fetch_current' step of run "
            f"{ctx.run_id} first."
        )
    return load_profile(path)


def _save_window_profile(ctx: RunContext, current: Any) -> Any:
    """The window's own profile (``current.profile``; the compared columns when ``columns``
    names them), what later readers (history, calibration) can merge and compare without the
    window's rows."""
    from driftloop.profiles.dataset import profile
    from driftloop.profiles.fileformat import save_profile

    names = [c for c in ctx.config.columns or current.columns if c in current.columns]
    return save_profile(profile(current, columns=names), ctx.file("current.profile"))
