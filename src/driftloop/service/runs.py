"""A trigger of the queue carried out: a new run under the trigger's id, the resumption of the
run it already started, or — when that run has ended — its outcome, so a trigger runs once."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from driftloop.config import PipelineConfig
from driftloop.pipeline.records import RunStore
from driftloop.pipeline.runner import Runner, RunOutcome, default_window
from driftloop.service.triggers import Trigger, final_state

__all__ = ["Ran", "execute"]

log = logging.getLogger("driftloop.serve")


@dataclass(frozen=True, slots=True)
class Ran:
    """What became of a trigger: its next state, and the run's outcome when one ran now."""

    state: str  # done, failed, empty; queued when the run was interrupted (resumed later)
    outcome: RunOutcome | None = None
    error: str | None = None

    @property
    def report_json(self) -> str | None:
        verdict = self.outcome.verdict if self.outcome is not None else None
        return verdict.report_json if verdict is not None else None


def execute(config: PipelineConfig, trigger: Trigger, stop: threading.Event) -> Ran:
    """Run ``trigger`` (LockedError when another process holds the pipeline's lock)."""
    record = RunStore(config.stores.warehouse.get_secret_value()).run(trigger.trigger_id)
    runner = Runner(config, printer=lambda text: log.info("%s", text))
    if record is None:
        start, end = trigger.start, trigger.end
        if start is None or end is None:
            start, end = default_window(config)
        outcome = runner.run(
            start=start, end=end, trigger=trigger.source, run_id=trigger.trigger_id, stop=stop
        )
    elif record["status"] in ("running", "interrupted"):
        outcome = runner.run(resume=trigger.trigger_id, stop=stop)
    else:  # the run ended; its server died before the trigger said so
        return Ran(final_state(record["status"]) or "failed", error=record.get("error"))
    return Ran(final_state(outcome.status) or "queued", outcome, outcome.error)
