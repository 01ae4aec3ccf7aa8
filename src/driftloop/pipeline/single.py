"""Running one step alone (``driftloop step``), inside a recorded run."""

from __future__ import annotations

import datetime as dt
from typing import Any

from driftloop.config import PipelineConfig
from driftloop.data.identifiers import check_run_id
from driftloop.pipeline.execution import execute
from driftloop.pipeline.records import RunStore
from driftloop.pipeline.runner import default_window
from driftloop.pipeline.steps import (
    Empty,
    RunContext,
    StepResult,
    data_verdict,
    read_result,
    step_named,
    step_names,
    verdict_steps,
)

__all__ = ["run_step"]


def run_step(
    config: PipelineConfig,
    name: str,
    *,
    run_id: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    rebuild_profile: bool = False,
) -> tuple[str, str, StepResult]:
    """Run step ``name`` of run ``run_id`` (a new run when None); returns (run id, status,
    result), the status one of done, skipped, failed, empty. ``rebuild_profile`` rebuilds a
    stored reference profile whatever its source says (read by ``fetch_reference``).

    Results of the run's earlier steps are loaded from its records, so steps can run one by one,
    each in its own process, as an orchestrator runs tasks.
    """
    step = step_named(name)
    if run_id is not None:
        check_run_id(run_id)
    store = RunStore(config.stores.warehouse.get_secret_value())
    if run_id is None or store.run(run_id) is None:
        if start is None or end is None:
            start, end = default_window(config)
        run_id = store.create_run(config.pipeline, "step", start, end, step_names(), run_id=run_id)
    record = store.run(run_id)
    assert record is not None  # just created
    if record["status"] == "empty":  # a later task of an empty run (Kestra runs them all)
        return run_id, "empty", Empty(record.get("error") or "the window has no rows")
    ctx = _context(config, run_id, record, rebuild_profile)
    store.start_step(run_id, name)
    ended = execute(step, ctx)
    if ended.status in ("empty", "failed"):
        store.finish_step(run_id, name, ended.status, ended.seconds, error=ended.error)
        error = ended.error if ended.status == "empty" else f"{name}: {ended.error}"
        store.finish_run(run_id, ended.status, error=error)
        return run_id, ended.status, ended.result
    store.finish_step(run_id, name, ended.status, ended.seconds, ended.result.to_dict())
    if name == step_names()[-1]:
        verdict = data_verdict(ctx.verdict_results())
        store.finish_run(
            run_id, "succeeded", verdict=verdict.to_dict() if verdict is not None else None
        )
    return run_id, ended.status, ended.result


def _context(
    config: PipelineConfig, run_id: str, record: dict[str, Any], rebuild_profile: bool
) -> RunContext:
    done = {
        s["step"]: read_result(s["step"], s["status"], s["result"])
        for s in record["steps"]
        if s["status"] in ("done", "skipped")
    }
    window = [
        dt.date.fromisoformat(record[k]) if record[k] else None
        for k in ("window_start", "window_end")
    ]
    return RunContext(
        config,
        run_id,
        window[0],
        window[1],
        record["trigger"],
        done,
        rebuild_profile=rebuild_profile,
        verdicts=verdict_steps(config),
    )
