"""The loop's steps: plain functions from a run context to a JSON-serialisable result.

Data passes between steps as Parquet files in the run's folder (``stores.runs/RUN_ID/``), so each
step can run alone (``driftloop step NAME``), in the built-in runner, or as a task of an external
orchestrator, and a resumed run continues from the files its finished steps left.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from driftloop.config import PipelineConfig, SourceConfig
from driftloop.errors import ConfigError, EmptyDataError

__all__ = ["STEPS", "RunContext", "Skip"]


class Skip(Exception):
    """Raised by a step that has nothing to do; the message says why."""


@dataclass
class RunContext:
    """What a step may use: the config, the run's identity and window, earlier steps' results."""

    config: PipelineConfig
    run_id: str
    start: dt.date | None
    end: dt.date | None
    trigger: str = "manual"
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    printer: Callable[[str], None] = print

    @property
    def folder(self) -> Path:
        from driftloop.data.identifiers import check_run_id

        path = Path(self.config.stores.runs) / check_run_id(self.run_id)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def file(self, name: str) -> Path:
        return self.folder / name

    def frame(self, name: str, producer: str) -> pl.DataFrame:
        path = self.file(name)
        if not path.exists():
            raise ConfigError(
                f"Step input '{path}' is missing: run the '{producer}' step of run "
                f"{self.run_id} first."
            )
        return pl.read_parquet(path)

    @property
    def window(self) -> tuple[str, str]:
        return (str(self.start or "start"), str(self.end or "end"))


def _read(source: SourceConfig, start: dt.date | None, end: dt.date | None) -> pl.DataFrame:
    from driftloop.data.sources import read_table
    from driftloop.data.sql import read_sql

    start, end = start or source.start, end or source.end
    windowed = source.date_column is not None and (start is not None or end is not None)
    if source.url is not None:
        return read_sql(
            source.url.get_secret_value(),
            table=source.table,
            query=source.query,
            date_column=source.date_column if windowed else None,
            start=start,
            end=end,
        )
    assert source.uri is not None
    return read_table(
        source.uri, date_column=source.date_column if windowed else None, start=start, end=end
    )


def fetch_reference(ctx: RunContext) -> dict[str, Any]:
    """Read the reference into the run folder: its own fixed window, or the run's window moved
    back ``lag_days`` (e.g. the same weeks last year, for seasonal data)."""
    source = ctx.config.reference
    start = end = None
    if source.lag_days is not None and ctx.start is not None and ctx.end is not None:
        lag = dt.timedelta(days=source.lag_days)
        start, end = ctx.start - lag, ctx.end - lag
    frame = _read(source, start, end)
    frame.write_parquet(ctx.file("reference.parquet"))
    result: dict[str, Any] = {"rows": frame.height, "columns": frame.width}
    if start is not None:
        result |= {"window_start": str(start), "window_end": str(end)}
    return result


def fetch_current(ctx: RunContext) -> dict[str, Any]:
    """Read the current window; an empty window raises EmptyDataError (an empty run)."""
    frame = _read(ctx.config.current, ctx.start, ctx.end)
    frame.write_parquet(ctx.file("current.parquet"))
    return {
        "rows": frame.height,
        "columns": frame.width,
        "window_start": ctx.window[0],
        "window_end": ctx.window[1],
    }


def detect(ctx: RunContext) -> dict[str, Any]:
    """Compare the window against the reference; write the JSON and HTML reports."""
    from driftloop.drift import detect as run_detect
    from driftloop.history.store import record_report

    cfg = ctx.config
    current = ctx.frame("current.parquet", "fetch_current")
    report = run_detect(
        ctx.frame("reference.parquet", "fetch_reference"),
        current,
        columns=cfg.columns,
        config=cfg.detection,
    )
    folder = Path(cfg.stores.reports) / cfg.pipeline
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"{ctx.window[0]}_{ctx.window[1]}_{ctx.run_id}"
    report.to_json(stem.with_suffix(".json"))
    report.to_json(ctx.file("report.json"))
    report.to_html(
        stem.with_suffix(".html"), title=f"{cfg.pipeline}: {ctx.window[0]} to {ctx.window[1]}"
    )
    record_report(
        cfg.stores.warehouse.get_secret_value(),
        cfg.pipeline,
        ctx.run_id,
        (ctx.start, ctx.end),
        report,
        current,
        str(stem.with_suffix(".json")),
    )
    when = cfg.on_drift.when
    reasons = []
    if when.dataset_drift and report.dataset_drift:
        reasons.append("dataset drift")
    if when.degradation and report.degradation:
        reasons.append("degradation")
    named = sorted(set(when.features) & set(report.drifted_columns))
    if named:
        reasons.append("drift in " + ", ".join(named))
    return {
        "dataset_drift": report.dataset_drift,
        "share_drifted": round(report.share_drifted, 4),
        "drifted": report.drifted_columns,
        "degradation": [f"{a.feature}:{a.kind}" for a in report.degradation],
        "fires": bool(reasons),
        "reasons": reasons,
        "report_html": str(stem.with_suffix(".html")),
        "report_json": str(stem.with_suffix(".json")),
        "seconds": round(report.seconds, 4),
    }


def concept(ctx: RunContext) -> dict[str, Any]:
    """Judge the window's prediction-outcome pairs against the baseline period's."""
    from driftloop.data.predictions import PredictionStore, concept_series, record_window
    from driftloop.drift.concept import concept_drift
    from driftloop.report.concept import render_concept_html

    cfg = ctx.config
    c = cfg.concept
    if c is None or not c.enabled:
        raise Skip("concept monitoring is not configured")
    store = PredictionStore(cfg.stores.warehouse.get_secret_value())
    current = store.pairs(cfg.pipeline, ctx.start, ctx.end)
    if current.height < c.min_pairs:
        raise Skip(
            f"only {current.height} prediction-outcome pairs in the window "
            f"(min_pairs {c.min_pairs})"
        )
    baseline = store.pairs(cfg.pipeline, c.baseline.start, c.baseline.end)
    if baseline.height < c.min_pairs:
        raise Skip(
            f"only {baseline.height} prediction-outcome pairs in the baseline "
            f"{c.baseline.start}..{c.baseline.end} (min_pairs {c.min_pairs})"
        )
    report = concept_drift(
        baseline["prediction"].to_numpy(),
        baseline["actual"].to_numpy(),
        current["prediction"].to_numpy(),
        current["actual"].to_numpy(),
        task=c.task,
        error_metric=c.error_metric,
        max_error_increase=c.max_error_increase,
        max_correlation_drop=c.max_correlation_drop,
        max_score_drop=c.max_score_drop,
        confidence=c.confidence,
        detectors=c.detectors,
    ).to_dict()
    if ctx.start is not None and ctx.end is not None:
        record_window(store, cfg.pipeline, ctx.start, ctx.end, ctx.run_id, report)
    folder = Path(cfg.stores.reports) / cfg.pipeline
    folder.mkdir(parents=True, exist_ok=True)
    html = folder / f"{ctx.window[0]}_{ctx.window[1]}_{ctx.run_id}_concept.html"
    html.write_text(
        render_concept_html(cfg.pipeline, ctx.window, report, concept_series(store, cfg.pipeline))
    )
    ctx.file("concept.json").write_text(json.dumps(report))
    fires = bool(ctx.results.get("detect", {}).get("fires")) or (
        report["concept_drift"] and cfg.on_drift.when.concept_drift
    )
    metrics = {m["name"]: round(m["current"], 6) for m in report["metrics"]}
    alerted = [m["name"] for m in report["metrics"] if m["alerted"]]
    return {
        "concept_drift": report["concept_drift"],
        "alerted": alerted,
        "metrics": metrics,
        "pairs": current.height,
        "fires": fires,
        "report_html": str(html),
    }


def append(ctx: RunContext) -> dict[str, Any]:
    """Append the window to the warehouse exactly once."""
    from driftloop.data.warehouse import Warehouse

    cfg = ctx.config
    if not cfg.append.enabled:
        raise Skip("append is disabled")
    if ctx.start is None or ctx.end is None:
        raise ConfigError(
            "Appending needs a window: pass --start and --end (or set current.start/end)."
        )
    warehouse = Warehouse(cfg.stores.warehouse.get_secret_value())
    try:
        result = warehouse.append(
            ctx.frame("current.parquet", "fetch_current"),
            pipeline=cfg.pipeline,
            window_start=ctx.start,
            window_end=ctx.end,
            table=cfg.append.table,
            on_conflict=cfg.append.on_conflict,
            date_column=cfg.current.date_column,
        )
    finally:
        warehouse.close()
    return result.to_dict()


def _fires(ctx: RunContext, action: str) -> None:
    detected = ctx.results.get("detect")
    if detected is None:
        raise Skip("no drift verdict (detect did not finish)")
    concept_fires = bool((ctx.results.get("concept") or {}).get("fires"))
    if not detected["fires"] and not concept_fires:
        raise Skip("no drift that matters")
    if not getattr(ctx.config.on_drift, action):
        raise Skip(f"on_drift.{action} is off")


def training_frame(ctx: RunContext) -> pl.DataFrame:
    """The reference plus the windows this pipeline appended up to this run's window (a re-run
    of an old window never trains on later data), on the reference's columns."""
    from driftloop.data.warehouse import META_COLUMNS, Warehouse

    cfg = ctx.config
    reference = ctx.frame("reference.parquet", "fetch_reference")
    warehouse = Warehouse(cfg.stores.warehouse.get_secret_value())
    try:
        appended = warehouse.read(
            cfg.append.table,
            pipeline=cfg.pipeline,
            date_column=META_COLUMNS[2] if ctx.end is not None else None,
            end=ctx.end,
        )
    except EmptyDataError:  # nothing appended up to this window: train on the reference
        appended = reference.clear()
    finally:
        warehouse.close()
    common = [c for c in reference.columns if c in appended.columns]
    schema = reference.select(common).schema
    frame = pl.concat([reference.select(common), appended.select(common).cast(schema)])
    time_column = cfg.training.time_column if cfg.training else None
    if (
        ctx.end is not None
        and time_column in frame.columns
        and frame[time_column].dtype.is_temporal()
    ):
        frame = frame.filter(pl.col(time_column).cast(pl.Date) <= ctx.end)
    return frame


def retrain(ctx: RunContext) -> dict[str, Any]:
    """Train with the team's code, register, and promote only if better than production."""
    _fires(ctx, "retrain")  # before the imports: a skipped retrain costs nothing
    from driftloop.model.lifecycle import retrain as run_retrain
    from driftloop.model.registry import Registry
    from driftloop.model.train import TrainingSpec

    cfg = ctx.config
    assert cfg.training is not None and cfg.model is not None
    t = cfg.training
    spec = TrainingSpec(
        target=t.target,
        entry_point=t.entry_point,
        features=tuple(t.features) if t.features else None,
        exclude=tuple(t.exclude),
        time_column=t.time_column,
        holdout=t.holdout,
        metric=t.metric,
        params=dict(t.params),
        slice_columns=tuple(t.slice_columns),
    )
    registry = Registry.open(
        cfg.stores.mlflow.get_secret_value(),
        cfg.stores.mlflow_artifacts,
        cfg.stores.s3_endpoint_url,
    )
    earlier = registry.decided_version_of_run(cfg.model.name, ctx.run_id)
    if earlier is not None:  # a resumed run: the version this run registered is already decided
        return earlier
    detected = ctx.results["detect"]
    reasons = list(detected["reasons"])
    if (ctx.results.get("concept") or {}).get("concept_drift"):
        reasons.append("concept drift in " + ", ".join(ctx.results["concept"]["alerted"]))
    trigger = f"{ctx.trigger} run {ctx.run_id}: " + "; ".join(reasons)
    if detected["drifted"]:
        trigger += " (" + ", ".join(detected["drifted"][:8]) + ")"
    result = run_retrain(
        training_frame(ctx),
        spec,
        registry,
        name=cfg.model.name,
        experiment=cfg.model.experiment or cfg.pipeline,
        trigger=trigger,
        drift=_load_report(ctx),
        margin=t.margin,
        intended_use=t.intended_use,
        report_path=Path(detected["report_html"]),
        run_id=ctx.run_id,
        trusted_types=tuple(cfg.model.trusted_types),
    )
    return result.to_dict()


def _load_report(ctx: RunContext) -> Any:
    from driftloop.drift.results import ColumnDrift, DegradationAlert, DriftReport, ExcludedColumn

    data = json.loads(ctx.file("report.json").read_text())
    columns = tuple(
        ColumnDrift(**{k: v for k, v in c.items() if k != "histogram"}) for c in data["columns"]
    )
    return DriftReport(
        dataset_drift=data["dataset_drift"],
        drift_share=data["drift_share"],
        share_drifted=data["share_drifted"],
        columns=columns,
        degradation=tuple(DegradationAlert(**a) for a in data["degradation"]),
        excluded=tuple(ExcludedColumn(**e) for e in data["excluded"]),
        reference_rows=data["reference_rows"],
        current_rows=data["current_rows"],
        fdr=data["fdr"],
    )


def publish(ctx: RunContext) -> dict[str, Any]:
    """Publish the promoted version (S3 or a local folder)."""
    _fires(ctx, "publish")
    from driftloop.model.lifecycle import publish_version
    from driftloop.model.registry import Registry

    trained = ctx.results.get("retrain") or {}
    if "version" not in trained:
        raise Skip("nothing was retrained")
    if not trained["promoted"]:
        raise Skip(f"version {trained['version']} was not promoted")
    cfg = ctx.config
    registry = Registry.open(
        cfg.stores.mlflow.get_secret_value(),
        cfg.stores.mlflow_artifacts,
        cfg.stores.s3_endpoint_url,
    )
    published = publish_version(registry, publisher_for(cfg), trained["name"], trained["version"])
    return {"version": trained["version"], "files": [p.to_dict() for p in published]}


def publisher_for(cfg: PipelineConfig) -> Any:
    from driftloop.actions.publish import LocalPublisher, S3Publisher

    target = cfg.stores.artifacts
    if target.startswith("s3://"):
        bucket, _, prefix = target.removeprefix("s3://").partition("/")
        stores = cfg.stores
        return S3Publisher(
            bucket,
            prefix,
            endpoint_url=stores.s3_endpoint_url,
            max_attempts=stores.s3_attempts,
            connect_timeout=stores.s3_timeout_seconds,
            read_timeout=stores.s3_timeout_seconds,
        )
    return LocalPublisher(target)


def model_outcome(results: dict[str, dict[str, Any]], run_id: str | None = None) -> str:
    """What happened to the model, in one line for the alert and the run record."""
    trained = results.get("retrain")
    if not trained or "skipped" in trained:
        return ""
    if trained.get("error"):
        return f"retrain failed: {trained['error']}"
    verdict = "promoted to production" if trained["promoted"] else "rejected"
    text = f"v{trained['version']} {verdict} ({trained['reason']})"
    published = results.get("publish") or {}
    if published.get("files"):
        text += f"; published {len(published['files'])} files"
    elif published.get("error") and trained["promoted"]:
        text = (
            f"v{trained['version']} promoted in MLflow but NOT published: {published['error']}"
            + (f" — resume with: driftloop run --resume {run_id}" if run_id else "")
        )
    return text


def report_link(cfg: PipelineConfig, path: str) -> str:
    """Where people open a report: ``reports.base_url`` + its path under the reports folder
    (a dashboard or an S3 website), or the runner's local path when no base URL is set."""
    base = cfg.reports.base_url
    if not base:
        return path
    try:
        relative = Path(path).resolve().relative_to(Path(cfg.stores.reports).resolve())
    except ValueError:
        relative = Path(Path(path).name)
    return base.rstrip("/") + "/" + relative.as_posix()


def senders_for(cfg: PipelineConfig, printer: Callable[[str], None] = print) -> list[Any]:
    """The alert channels a config names: console, Slack, generic webhooks."""
    from driftloop.actions.notify import ConsoleSender, SlackSender, WebhookSender

    senders: list[Any] = []
    if cfg.alerts.console:
        senders.append(ConsoleSender(printer))
    if cfg.alerts.slack is not None:
        s = cfg.alerts.slack
        senders.append(
            SlackSender(s.webhook_url.get_secret_value(), retries=s.retries, timeout=s.timeout)
        )
    for i, hook in enumerate(cfg.alerts.webhooks):
        sender = WebhookSender(
            hook.url.get_secret_value(),
            {k: v.get_secret_value() for k, v in hook.headers.items()},
            retries=hook.retries,
        )
        sender.channel = f"webhook{i}"
        senders.append(sender)
    return senders


def alert(ctx: RunContext) -> dict[str, Any]:
    """Queue the alert in the outbox (once per run and channel), then deliver everything pending."""
    import datetime as _dt

    import sqlalchemy as sa

    from driftloop.actions.notify import build_alert
    from driftloop.actions.outbox import Outbox

    cfg = ctx.config
    senders = senders_for(cfg, ctx.printer)
    engine = sa.create_engine(cfg.stores.warehouse.get_secret_value())
    try:
        outbox = Outbox(engine)
        statuses: dict[str, str] = {}
        try:
            _fires(ctx, "alert")
            report = ctx.results["detect"]
            full = json.loads(ctx.file("report.json").read_text())
            concept_file = ctx.file("concept.json")
            message = build_alert(
                cfg.pipeline,
                ctx.run_id,
                ctx.window,
                full,
                report_location=report_link(cfg, report["report_html"]),
                model_outcome=model_outcome(ctx.results, ctx.run_id),
                top=cfg.alerts.top_features,
                concept=json.loads(concept_file.read_text()) if concept_file.exists() else None,
            )
            cooldown = _dt.timedelta(hours=cfg.alerts.cooldown_hours)
            statuses = outbox.enqueue(
                cfg.pipeline, ctx.run_id, message, [s.channel for s in senders], cooldown
            )
        except Skip:
            pass  # nothing new to say; still deliver what earlier runs left pending
        drained = outbox.drain(cfg.pipeline, senders)
    finally:
        engine.dispose()
    if not statuses and not drained.sent and not drained.failed:
        raise Skip("no drift that matters and nothing pending")
    return {"queued": statuses, **drained.to_dict()}


STEPS: dict[str, Callable[[RunContext], dict[str, Any]]] = {
    "fetch_reference": fetch_reference,
    "fetch_current": fetch_current,
    "detect": detect,
    "concept": concept,
    "append": append,
    "retrain": retrain,
    "publish": publish,
    "alert": alert,
}
