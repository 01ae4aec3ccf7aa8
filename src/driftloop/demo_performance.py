"""The demo's third act: a classifier hurt by a covariate shift, caught before its labels arrive.

A "busy hour" classifier (``driftloop.model.busy``) is trained on January-March 2011 of the
synthetic hourly data (``driftloop.data.synthetic_hours``). Each month of April-July is checked:
spring warms the weather (the features drift) but the model is as good as before, so the drift
is reported and not acted on (``on_drift.when.require_performance_drop``); from July the feed
leaves out the night hours, the model's easy calls, and its estimated ROC AUC falls beyond the
interval before any July label has arrived, so the loop alerts and retrains. Where the labels
have arrived (April-June), the realized AUC is printed beside the estimate.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
from rich.console import Console

from driftloop.config import load_config
from driftloop.data.synthetic_hours import HOUR_FEATURES, busy_hours
from driftloop.data.warehouse import Warehouse
from driftloop.pipeline.runner import Runner, RunOutcome
from driftloop.pipeline.steps import RetrainResult

__all__ = ["NIGHT_HOURS_FROM", "performance_config", "run_act_three"]

NIGHT_HOURS_FROM = dt.date(2011, 7, 1)  # the feed leaves out the night from here
LABELS_UNTIL = dt.date(2011, 6, 30)  # July's labels have not arrived
_MONTHS = (4, 5, 6, 7)


def performance_config(root: Path, stores: dict[str, Any]) -> dict[str, Any]:
    """Act three's pipeline: act on drift only when the model is hurt."""
    return {
        "pipeline": "bike-busy-hours",
        "reference": {"url": stores["warehouse"], "table": "busy_reference"},
        "current": {"uri": str(root / "data" / "hours.csv"), "date_column": "dteday"},
        "columns": list(HOUR_FEATURES),
        "detection": {"columns": {"weathersit": {"kind": "categorical"}}},
        "append": {"table": "busy_hours"},
        "performance": {"metric": "roc_auc"},
        "on_drift": {
            "when": {
                "dataset_drift": True,
                "degradation": False,
                "performance_drop": True,
                "require_performance_drop": True,
            }
        },
        "alerts": {"console": True, "cooldown_hours": 24},
        "training": {
            "entry_point": "driftloop.model.busy:train",
            "target": "busy",
            "time_column": "dteday",
            "metric": "accuracy",
            "holdout": 0.25,
        },
        "model": {"name": "busy-hours", "experiment": "busy-hours"},
        "stores": stores,
    }


def run_act_three(root: Path, stores: dict[str, Any], console: Console) -> list[RunOutcome]:
    """Train the classifier on the first quarter, then run April-July; print each month."""
    from driftloop.model.lifecycle import retrain
    from driftloop.model.registry import Registry

    config = load_config(performance_config(root, stores))
    data = busy_hours(night_hours_from=NIGHT_HOURS_FROM, labels_until=LABELS_UNTIL)
    data.write_csv(root / "data" / "hours.csv")
    reference = data.filter(pl.col("dteday") < dt.date(2011, 4, 1))
    Warehouse(config.stores.warehouse.get_secret_value()).seed(reference, table="busy_reference")
    console.print(
        "\n[bold]act three: act on impact[/] · a busy-hour classifier; from July the feed leaves "
        "out the night hours and July's labels have not arrived"
    )
    assert config.training is not None
    registry = Registry.open(
        config.stores.mlflow.get_secret_value(), config.stores.mlflow_artifacts
    )
    first = retrain(reference, config.training, registry, name="busy-hours", trigger="demo")
    console.print(f"production model busy-hours v{first.version} trained on January-March 2011")
    alerts: list[str] = []
    runner = Runner(config, printer=alerts.append)
    outcomes = [_month(runner, number, console) for number in _MONTHS]
    acted = sum(1 for o in outcomes if o.verdict is not None and o.verdict.fires)
    console.print(
        f"{sum(1 for o in outcomes if o.verdict and o.verdict.dataset_drift)} of "
        f"{len(outcomes)} months drifted; the loop acted on {acted} (the model was hurt)"
    )
    return outcomes


def _month(runner: Runner, number: int, console: Console) -> RunOutcome:
    import calendar

    from driftloop.drift.results import DriftReport

    start = dt.date(2011, number, 1)
    end = start.replace(day=calendar.monthrange(2011, number)[1])
    outcome = runner.run(start=start, end=end, trigger="demo")
    verdict = outcome.verdict
    if verdict is None:
        console.print(f"{start:%Y-%m}  [red]failed[/]: {outcome.error}")
        return outcome
    performance = DriftReport.from_json(Path(verdict.report_json)).performance or {}
    flag = "[red]DRIFT   [/]" if verdict.dataset_drift else "[green]no drift[/]"
    console.print(f"{start:%Y-%m}  data {flag}  {_performance_line(performance)}")
    trained = outcome.results.get("retrain")
    if verdict.fires:
        done = "alert sent"
        if isinstance(trained, RetrainResult):
            done += f"; retrained: {trained.summary()}"
        console.print(f"         model hurt: {done}", style="dim")
    elif verdict.dataset_drift:
        console.print(
            "         drift that does not hurt the model: reported, not acted on", style="dim"
        )
    return outcome


def _performance_line(section: dict[str, Any]) -> str:
    """``AUC est. 0.804 [0.77, 0.83] ref 0.821 · realized 0.826``."""
    if not section or "skipped" in section:
        return f"performance not estimated: {section.get('skipped', '-')}"
    line = (
        f"AUC est. {section['value']:.3f} [{section['lower']:.2f}, {section['upper']:.2f}] "
        f"ref {section['reference_value']:.3f}"
    )
    if section["alert"]:
        line = f"[red]{line} DROP[/]"
    realized = section.get("realized")
    if realized is None:
        return line + " · no labels yet"
    return line + f" · realized {realized['value']:.3f}"
