"""One run at a time per pipeline; triggers that arrive during a run coalesce into one follow-up.

A trigger (cron, webhook, resume at start-up) either starts a run at once, or — while a run is in
progress — becomes *the* follow-up run, whose id is fixed when the first such trigger arrives, so
every later trigger is told which run it joined. None is lost (the follow-up starts when the
current run ends) and none is doubled (fifty triggers make one follow-up).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from driftloop.config import PipelineConfig
from driftloop.pipeline.records import RunStore, new_run_id
from driftloop.pipeline.runner import Runner, default_window
from driftloop.service.metrics import LoopMetrics

__all__ = ["Coordinator", "Joined"]

log = logging.getLogger("driftloop.serve")


@dataclass(frozen=True, slots=True)
class Joined:
    """What a trigger joined: a run that starts now, or the follow-up of the running one."""

    action: str  # started, queued, coalesced
    run_id: str
    running: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "run_id": self.run_id, "running": self.running}


@dataclass
class _Request:
    run_id: str
    trigger: str
    start: dt.date | None
    end: dt.date | None
    resume: str | None = None
    triggers: int = 1


@dataclass
class _State:
    running: _Request | None = None
    follow_up: _Request | None = None
    thread: threading.Thread | None = None
    history: list[str] = field(default_factory=list)


class Coordinator:
    """Serialises the runs of each pipeline and records their metrics."""

    def __init__(self, configs: dict[str, PipelineConfig], metrics: LoopMetrics) -> None:
        self.configs = configs
        self.metrics = metrics
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._states = {name: _State() for name in configs}
        self.on_finish: Callable[[str, Any], None] | None = None

    def trigger(
        self, pipeline: str, trigger: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> Joined:
        with self._lock:
            state = self._states[pipeline]
            if state.running is None:
                request = _Request(new_run_id(), trigger, start, end)
                self._start(pipeline, state, request)
                return Joined("started", request.run_id)
            if state.follow_up is None:
                state.follow_up = _Request(new_run_id(), trigger, start, end)
                return Joined("queued", state.follow_up.run_id, state.running.run_id)
            state.follow_up.triggers += 1
            if trigger not in state.follow_up.trigger.split("+"):  # e.g. webhook+cron
                state.follow_up.trigger += "+" + trigger
            if start is not None:  # the latest window asked for wins
                state.follow_up.start, state.follow_up.end = start, end
            return Joined("coalesced", state.follow_up.run_id, state.running.run_id)

    def resume_unfinished(self) -> list[Joined]:
        """At start-up: continue runs an earlier process left interrupted or running."""
        joined = []
        for pipeline, config in self.configs.items():
            store = RunStore(config.stores.warehouse.get_secret_value())
            for record in store.runs(pipeline, limit=20):
                if (
                    record["status"] in ("interrupted", "running")
                    and store.holder(pipeline) is None
                ):
                    with self._lock:
                        state = self._states[pipeline]
                        if state.running is None:
                            request = _Request(
                                record["run_id"],
                                record["trigger"],
                                None,
                                None,
                                resume=record["run_id"],
                            )
                            self._start(pipeline, state, request)
                            joined.append(Joined("resumed", record["run_id"]))
                    break
        return joined

    def status(self, pipeline: str) -> dict[str, Any]:
        with self._lock:
            state = self._states[pipeline]
            return {
                "running": state.running.run_id if state.running else None,
                "follow_up": state.follow_up.run_id if state.follow_up else None,
                "follow_up_triggers": state.follow_up.triggers if state.follow_up else 0,
                "finished": list(state.history[-20:]),
            }

    def wait_idle(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                threads = [s.thread for s in self._states.values() if s.thread is not None]
            if not any(t.is_alive() for t in threads):
                return True
            time.sleep(0.05)
        return False

    def _start(self, pipeline: str, state: _State, request: _Request) -> None:
        state.running = request
        state.thread = threading.Thread(
            target=self._work, args=(pipeline, request), name=f"run-{pipeline}", daemon=True
        )
        state.thread.start()

    def _work(self, pipeline: str, request: _Request) -> None:
        config = self.configs[pipeline]
        while request is not None:
            started = time.perf_counter()
            status, verdict = "failed", None
            try:
                start, end = request.start, request.end
                if request.resume is None and (start is None or end is None):
                    start, end = default_window(config)
                outcome = Runner(config, printer=lambda text: log.info("%s", text)).run(
                    start=start,
                    end=end,
                    trigger=request.trigger,
                    resume=request.resume,
                    run_id=None if request.resume else request.run_id,
                    stop=self.stop,
                )
                status, verdict = outcome.status, outcome.verdict
            except Exception:  # a run must never take the server down; it is recorded as failed
                log.exception("run %s of %s failed", request.run_id, pipeline)
            self.metrics.record_run(pipeline, status, time.perf_counter() - started, verdict)
            with self._lock:
                state = self._states[pipeline]
                state.history.append(request.run_id)
                follow_up = state.follow_up if not self.stop.is_set() else None
                state.follow_up = None
                state.running = follow_up
                request = follow_up  # type: ignore[assignment]
