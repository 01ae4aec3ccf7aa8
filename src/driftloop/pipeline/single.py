"""Running one step alone (``driftloop step``), inside a recorded run."""

from __future__ import annotations

import datetime as dt
from typing import Any

from driftloop.config import PipelineConfig
from driftloop.data.identifiers import check_run_id
from driftloop.errors import ConfigError
from driftloop.pipeline.execution import execute
from driftloop.pipeline.records import RunStore
from driftloop.pipeline.runner import default_window
from driftloop.pipeline.steps import STEPS, RunContext

__all__ = ["run_step"]

# An empty run's answer to every step: nothing fires, so an orchestrator's outputs resolve.
_EMPTY = {"status": "empty", "fires": False, "dataset_drift": False}


def run_step(
    config: PipelineConfig,
    name: str,
    *,
    run_id: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> tuple[str, dict[str, Any]]:
    """Run step ``name`` of run ``run_id`` (a new run when None); returns (run id, result).

    Results of the run's earlier steps are loaded from its records, so steps can run one by one,
    each in its own process, as an orchestrator runs tasks.
    """
    if name not in STEPS:
        raise ConfigError(f"Unknown step '{name}'. Steps: {', '.join(STEPS)}.")
    if run_id is not None:
        check_run_id(run_id)
    store = RunStore(config.stores.warehouse.get_secret_value())
    if run_id is None or store.run(run_id) is None:
        if start is None or end is None:
            start, end = default_window(config)
        run_id = store.create_run(config.pipeline, "step", start, end, list(STEPS), run_id=run_id)
    record = store.run(run_id)
    assert record is not None
    if record["status"] == "empty":  # a later task of an empty run (Kestra runs them all)
        return run_id, {**_EMPTY, "message": record.get("error") or "the window has no rows"}
    done = {
        s["step"]: s["result"] or {} for s in record["steps"] if s["status"] in ("done", "skipped")
    }
    window = [
        dt.date.fromisoformat(record[k]) if record[k] else None
        for k in ("window_start", "window_end")
    ]
    ctx = RunContext(config, run_id, window[0], window[1], record["trigger"], done)
    store.start_step(run_id, name)
    ended = execute(name, STEPS[name], ctx)
    if ended.status == "empty":
        store.finish_step(run_id, name, "empty", ended.seconds, error=ended.error)
        store.finish_run(run_id, "empty", error=ended.error)
        return run_id, {**_EMPTY, "message": ended.error}
    if ended.status == "failed":
        store.finish_step(run_id, name, "failed", ended.seconds, error=ended.error)
        store.finish_run(run_id, "failed", error=f"{name}: {ended.error}")
        return run_id, {"status": "failed", "error": ended.error}
    store.finish_step(run_id, name, ended.status, ended.seconds, ended.result)
    if name == list(STEPS)[-1]:
        store.finish_run(
            run_id, "succeeded", verdict=ctx.results.get("detect") or done.get("detect")
        )
    return run_id, {"status": ended.status, **ended.result}
