"""Running one step alone (``driftloop step``), inside a recorded run."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from driftloop.config import PipelineConfig
from driftloop.errors import ConfigError, DriftloopError, EmptyDataError
from driftloop.pipeline.records import RunStore
from driftloop.pipeline.runner import default_window
from driftloop.pipeline.steps import STEPS, RunContext, Skip

__all__ = ["run_step"]


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
    store = RunStore(config.stores.warehouse.get_secret_value())
    if run_id is None or store.run(run_id) is None:
        if start is None or end is None:
            start, end = default_window(config)
        run_id = store.create_run(config.pipeline, "step", start, end, list(STEPS), run_id=run_id)
    record = store.run(run_id)
    assert record is not None
    done = {
        s["step"]: s["result"] or {} for s in record["steps"] if s["status"] in ("done", "skipped")
    }
    window = [
        dt.date.fromisoformat(record[k]) if record[k] else None
        for k in ("window_start", "window_end")
    ]
    ctx = RunContext(config, run_id, window[0], window[1], record["trigger"], done)
    store.start_step(run_id, name)
    started = time.perf_counter()
    try:
        result = STEPS[name](ctx)
        status = "done"
    except Skip as why:
        result, status = {"skipped": str(why)}, "skipped"
    except EmptyDataError as empty:
        store.finish_step(run_id, name, "empty", time.perf_counter() - started, error=str(empty))
        store.finish_run(run_id, "empty", error=str(empty))
        return run_id, {"status": "empty", "message": str(empty)}
    except DriftloopError as err:
        store.finish_step(run_id, name, "failed", time.perf_counter() - started, error=str(err))
        store.finish_run(run_id, "failed", error=f"{name}: {err}")
        return run_id, {"status": "failed", "error": str(err)}
    store.finish_step(run_id, name, status, time.perf_counter() - started, result)
    if name == list(STEPS)[-1]:
        store.finish_run(
            run_id, "succeeded", verdict=ctx.results.get("detect") or done.get("detect")
        )
    return run_id, {"status": status, **result}
