"""The demo: the whole loop on embedded defaults, over synthetic bike-sharing data.

Seeds the reference (January 2011) into a SQLite warehouse, then runs the loop for each month of
February-December 2011: fetch, detect, append; on drift alert (console), retrain with the default
bike trainer, register in MLflow (sqlite), promote only if better, publish to a local folder.
Everything lands under ``.driftloop/demo/``; no server is needed.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from pathlib import Path
from typing import Any

import polars as pl
from rich.console import Console

from driftloop.config import PipelineConfig, load_config
from driftloop.data.predictions import PredictionLogger, PredictionStore
from driftloop.data.sources import filter_window
from driftloop.data.synthetic import bike_sharing
from driftloop.data.warehouse import Warehouse
from driftloop.pipeline.runner import Runner, RunOutcome
from driftloop.pipeline.steps import (
    AlertResult,
    AppendResult,
    ConceptResult,
    PublishResult,
    RetrainResult,
)

__all__ = ["DEMO_COLUMNS", "demo_config", "run_demo"]

DEMO_COLUMNS = [
    "season", "holiday", "weekday", "workingday", "weathersit",
    "temp", "atemp", "hum", "windspeed", "casual", "registered", "cnt",
]  # fmt: skip
_MARKER = ".driftloop-demo"
CONCEPT_SHIFT = dt.date(2012, 6, 1)
FEATURES = [
    "season",
    "holiday",
    "weekday",
    "workingday",
    "weathersit",
    "temp",
    "atemp",
    "hum",
    "windspeed",
]


def month(year: int, number: int) -> tuple[dt.date, dt.date]:
    first = dt.date(year, number, 1)
    last = dt.date(year + (number == 12), number % 12 + 1, 1) - dt.timedelta(days=1)
    return first, last


def demo_config(root: Path) -> dict[str, Any]:
    """The demo pipeline's config (the same shape as examples/bike_sharing/driftloop.yaml)."""
    warehouse = f"sqlite:///{root / 'warehouse.db'}"
    return {
        "pipeline": "bike-sharing",
        "reference": {"url": warehouse, "table": "reference"},
        "current": {"uri": str(root / "data" / "day.csv"), "date_column": "dteday"},
        "columns": DEMO_COLUMNS,
        "detection": {
            "columns": {"season": {"kind": "categorical"}, "weathersit": {"kind": "categorical"}}
        },
        "append": {"table": "current"},
        "on_drift": {"when": {"dataset_drift": True, "degradation": False}},
        "alerts": {"console": True, "cooldown_hours": 24},
        "training": {
            "entry_point": "driftloop.model.bike:train",
            "target": "cnt",
            "time_column": "dteday",
            "exclude": ["instant", "casual", "registered"],
            "slice_columns": ["season", "weathersit"],
            "intended_use": "Daily bike-rental demand for fleet planning (synthetic demo).",
        },
        "model": {"name": "bike-demand"},
        "schedule": {"cron": "0 11 * * MON", "timezone": "UTC", "window_days": 7},
        "stores": {
            "warehouse": warehouse,
            "mlflow": f"sqlite:///{root / 'mlflow.db'}",
            "mlflow_artifacts": str(root / "mlartifacts"),
            "artifacts": str(root / "published"),
            "reports": str(root / "reports"),
            "runs": str(root / "runs"),
        },
    }


def concept_config(root: Path) -> dict[str, Any]:
    """Act two: features against the same month last year, predictions against outcomes."""
    raw = demo_config(root)
    raw["pipeline"] = "bike-sharing-concept"
    raw["reference"] = {
        "url": raw["stores"]["warehouse"],
        "table": "history",
        "date_column": "dteday",
        "lag_days": 364,
    }
    raw["columns"] = FEATURES
    raw["concept"] = {
        "baseline": {"start": "2012-05-01", "end": "2012-05-31"},
        "error_metric": "rmse",
        "max_error_increase": 0.25,
        "min_pairs": 20,
        "detectors": ["adwin"],
    }
    raw["on_drift"] = {
        "when": {"dataset_drift": True, "degradation": False, "concept_drift": True},
        "retrain": False,
    }
    return raw


def _prepare(root: Path) -> PipelineConfig:
    if root.exists() and (root / _MARKER).exists():
        shutil.rmtree(root)  # a previous demo: start afresh
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / _MARKER).write_text("created by driftloop demo; safe to delete\n")
    data = bike_sharing(concept_shift_from=CONCEPT_SHIFT)
    data.write_csv(root / "data" / "day.csv")
    config = load_config(demo_config(root))
    reference = filter_window(data, "dteday", *month(2011, 1), source="synthetic data")
    Warehouse(config.stores.warehouse.get_secret_value()).seed(reference, table="reference")
    return config


def _actions(outcome: RunOutcome) -> str:
    r = outcome.results
    parts = []
    appended = r.get("append")
    if isinstance(appended, AppendResult):
        parts.append(f"appended {appended.rows} rows ({appended.action})")
    trained = r.get("retrain")
    if isinstance(trained, RetrainResult):
        verdict = "promoted" if trained.promoted else "rejected"
        champion = trained.champion_score
        vs = f" vs {champion:.3f}" if champion is not None else ""
        score = f"{trained.score:.3f}" if trained.score is not None else "-"
        parts.append(f"model v{trained.version} {verdict} ({trained.metric} {score}{vs})")
    published = r.get("publish")
    if isinstance(published, PublishResult) and published.files:
        parts.append(f"published v{published.version}")
    alert = r.get("alert")
    queued = alert.queued if isinstance(alert, AlertResult) else {}
    if (
        any(s == "pending" for s in queued.values())
        and isinstance(alert, AlertResult)
        and alert.sent
    ):
        parts.append("alert sent (" + ", ".join(queued) + ")")
    elif queued:
        parts.append("alert " + ", ".join(f"{c}: {s}" for c, s in queued.items()))
    return "; ".join(parts)


def run_demo(root: Path, *, console: Console) -> list[RunOutcome]:
    """Run the demo loop; print each window's verdict and actions; return the outcomes."""
    started = time.perf_counter()
    console.print(
        "[bold]driftloop demo[/] · the whole loop on synthetic bike-sharing data "
        "(UCI day.csv schema)"
    )
    config = _prepare(root)
    console.print(
        f"reference: January 2011 seeded into {config.stores.warehouse.get_secret_value()}"
    )
    alerts: list[str] = []
    runner = Runner(config, printer=alerts.append)
    outcomes = []
    for number in range(2, 13):
        start, end = month(2011, number)
        outcome = runner.run(start=start, end=end, trigger="demo")
        verdict = outcome.verdict
        drift = verdict is not None and verdict.dataset_drift
        flag = "[red]DRIFT   [/]" if drift else "[green]no drift[/]"
        drifted = ", ".join(verdict.drifted if verdict else ()) or "-"
        share = verdict.share_drifted if verdict else 0
        console.print(f"{start:%Y-%m}  {flag} {share:4.0%}  features: {drifted}")
        console.print(
            f"         {_actions(outcome) or 'appended; nothing else to do'}", style="dim"
        )
        if outcome.status == "failed":
            console.print(f"         [red]failed[/]: {outcome.error}")
        outcomes.append(outcome)
    drifted_months = sum(1 for o in outcomes if o.verdict and o.verdict.dataset_drift)
    console.print(
        f"\n{len(outcomes)} windows, {drifted_months} with dataset drift, "
        f"{len(alerts)} alert(s) delivered (console), in {time.perf_counter() - started:.1f} s"
    )
    if alerts:
        console.print("[bold]first alert:[/]")
        console.print(alerts[0], markup=False)
    outcomes += _act_two(root, console)
    from driftloop.demo_performance import run_act_three

    stores = demo_config(root)["stores"]
    outcomes += run_act_three(root, stores, console)
    console.print(f"reports: {config.stores.reports}/{config.pipeline}*/*.html")
    console.print(f"runs:    driftloop runs --config {root / 'driftloop.yaml'}")
    console.print(f"history: driftloop ui --config {root / 'driftloop.yaml'}  (then open /ui/)")
    console.print(
        "models:  driftloop model list bike-demand --registry "
        + config.stores.mlflow.get_secret_value()
    )
    _write_yaml(root)
    return outcomes


def _act_two(root: Path, console: Console) -> list[RunOutcome]:
    """A concept shift in June 2012: the features look as they did a year before, but demand no
    longer follows temperature. The production model's predictions stop tracking outcomes."""
    from driftloop.config import TrainingConfig
    from driftloop.model.lifecycle import retrain
    from driftloop.model.registry import Registry

    config = load_config(concept_config(root))
    warehouse = config.stores.warehouse.get_secret_value()
    data = bike_sharing(concept_shift_from=CONCEPT_SHIFT)
    Warehouse(warehouse).seed(data.filter(pl.col("yr") == 0), table="history")
    console.print(
        "\n[bold]act two: concept drift[/] · from June 2012 demand no longer follows temperature; "
        "features are compared with the same month of 2011"
    )
    spec = TrainingConfig(
        target="cnt", time_column="dteday", exclude=("instant", "casual", "registered")
    )
    registry = Registry.open(
        config.stores.mlflow.get_secret_value(), config.stores.mlflow_artifacts
    )
    trained = retrain(
        data.filter(pl.col("dteday") <= dt.date(2012, 4, 30)),
        spec,
        registry,
        name="bike-demand",
        trigger="demo: spring refresh before the summer",
        margin=-10,
    )
    model = registry.load("bike-demand")
    console.print(
        f"production model v{trained.version} trained through April 2012; serving from May"
    )
    served = data.filter(pl.col("dteday") >= dt.date(2012, 5, 1))
    with PredictionLogger(
        warehouse, pipeline=config.pipeline, model_version=str(trained.version)
    ) as log:
        for row, predicted in zip(
            served.iter_rows(named=True), model.predict(served.to_pandas()), strict=True
        ):
            log.prediction(
                str(row["dteday"]),
                float(predicted),
                timestamp=dt.datetime.combine(row["dteday"], dt.time()),
            )
    PredictionStore(warehouse).log_outcomes(
        config.pipeline,
        [{"id": str(r["dteday"]), "actual": r["cnt"]} for r in served.iter_rows(named=True)],
    )
    alerts: list[str] = []
    runner = Runner(config, printer=alerts.append)
    outcomes = []
    for number in range(6, 13):
        start, end = month(2012, number)
        outcome = runner.run(start=start, end=end, trigger="demo")
        verdict = outcome.verdict
        concept = outcome.results.get("concept")
        drift = verdict is not None and verdict.dataset_drift
        shifted = isinstance(concept, ConceptResult) and concept.concept_drift
        data_flag = "[red]DRIFT   [/]" if drift else "[green]no drift[/]"
        concept_flag = "[red]CONCEPT DRIFT[/]" if shifted else "[green]concept ok   [/]"
        rmse = concept.metrics.get("rmse") if isinstance(concept, ConceptResult) else None
        alerted = concept.alerted if isinstance(concept, ConceptResult) else ()
        console.print(
            f"{start:%Y-%m}  data {data_flag}  {concept_flag}  rmse {rmse:,.0f} "
            f"(baseline May 2012)  alerted: {', '.join(alerted) or '-'}"
        )
        outcomes.append(outcome)
    caught = sum(
        1
        for o in outcomes
        if isinstance(c := o.results.get("concept"), ConceptResult) and c.concept_drift
    )
    data_only = sum(1 for o in outcomes if o.verdict and o.verdict.dataset_drift)
    console.print(
        f"concept drift caught in {caught} of {len(outcomes)} months; "
        f"data drift alone in {data_only}"
    )
    return outcomes


def _write_yaml(root: Path) -> None:
    """The demo's config as a file, its paths relative to the file's own folder (as every
    config's are read), so ``driftloop runs --config .driftloop/demo/driftloop.yaml`` works from
    anywhere."""
    import yaml

    (root / "driftloop.yaml").write_text(yaml.safe_dump(demo_config(Path(".")), sort_keys=False))
