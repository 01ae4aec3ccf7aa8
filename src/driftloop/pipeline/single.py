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
    force: bool = False,
) -> tuple[str, str, StepResult]:
    """Run step ``name`` of run ``run_id`` (a new run when None); returns (run id, status,
    result), the status one of done, skipped, failed, empty. ``rebuild_profile`` rebuilds a
    stored reference profile whatever its source says (read by ``fetch_reference``).

    Results of the run's earlier steps are loaded from its records, so steps can run one by one,
    each in its own process, as an orchestrator runs tasks. As in a whole run, a window an earlier
    run already acted on is not acted on twice unless ``force``; the last step records the run's
    verdict and model outcome.
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
    if not force and name in ("retrain", "publish", "alert"):
        ctx.decided_by = store.decided_run(config.pipeline, ctx.start, ctx.end, run_id)
    store.start_step(run_id, name)
    ended = execute(step, ctx)
    if ended.status in ("empty", "failed"):
        store.finish_step(run_id, name, ended.status, ended.seconds, error=ended.error)
        error = ended.error if ended.status == "empty" else f"{name}: {ended.error}"
        store.finish_run(run_id, ended.status, error=error)
        return run_id, ended.status, ended.result
    store.finish_step(run_id, name, ended.status, ended.seconds, ended.result.to_dict())
    if name == step_names()[-1]:
        _finish(store, ctx, ended.result)
    return run_id, ended.status, ended.result


def _finish(store: RunStore, ctx: RunContext, last: StepResult) -> None:
    """The run's record once its last step ran: verdict, model outcome, report (stamped)."""
    from pathlib import Path

    from driftloop.pipeline.steps.publish import model_outcome
    from driftloop.report.html import stamp_model_outcome

    ctx.results[step_names()[-1]] = last
    verdict = data_verdict(ctx.verdict_results())
    outcome = model_outcome(ctx)
    store.finish_run(
        ctx.run_id,
        "succeeded",
        verdict=verdict.to_dict() if verdict is not None else None,
        model_outcome=outcome or None,
        report_path=verdict.report_html if verdict is not None else None,
    )
    if verdict is not None:
        stamp_model_outcome(Path(verdict.report_html), outcome)


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
