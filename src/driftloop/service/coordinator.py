"""One run at a time per pipeline; triggers that arrive during a run queue, and coalesce when
they ask for the same thing.

A trigger (cron, webhook, resume at start-up) either starts a run at once, or — while a run is in
progress — joins the queue of follow-up runs, in arrival order. A trigger asking for a window
(``start``/``end``) joins the queued run of that very window, or becomes a new queued run: two
distinct windows are two runs, so no requested window is lost. A trigger without a window ("check
now", cron) joins the queued windowless run if there is one. Each answer names the run it joined
and the window that run will check. The queue is bounded (``MAX_QUEUED``); beyond it a trigger is
refused (the HTTP side answers 429 with Retry-After) rather than silently dropped.
"""

from __future__ import annotations

import collections
import datetime as dt
import logging
import threading
import time
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

    action: str  # started, queued, coalesced, refused (the queue is full)
    run_id: str
    running: str | None = None
    window: tuple[str, str] | None = None  # None: the default window when the run starts

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "run_id": self.run_id,
            "running": self.running,
            "window": list(self.window) if self.window else None,
        }


@dataclass
class _Request:
    run_id: str
    trigger: str
    start: dt.date | None
    end: dt.date | None
    resume: str | None = None
    triggers: int = 1

    @property
    def window(self) -> tuple[str, str] | None:
        if self.start is None or self.end is None:
            return None
        return (self.start.isoformat(), self.end.isoformat())


MAX_QUEUED = 32


@dataclass
class _State:
    running: _Request | None = None
    queue: collections.deque[_Request] = field(default_factory=collections.deque)
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

    def trigger(
        self, pipeline: str, trigger: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> Joined:
        with self._lock:
            state = self._states[pipeline]
            if state.running is None:
                request = _Request(new_run_id(), trigger, start, end)
                self._start(pipeline, state, request)
                return Joined("started", request.run_id, window=request.window)
            running = state.running.run_id
            same = next((r for r in state.queue if (r.start, r.end) == (start, end)), None)
            if same is not None:
                same.triggers += 1
                if trigger not in same.trigger.split("+"):  # e.g. webhook+cron
                    same.trigger += "+" + trigger
                return Joined("coalesced", same.run_id, running, same.window)
            if len(state.queue) >= MAX_QUEUED:
                return Joined("refused", "", running)
            request = _Request(new_run_id(), trigger, start, end)
            state.queue.append(request)
            return Joined("queued", request.run_id, running, request.window)

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
            first = state.queue[0] if state.queue else None
            return {
                "running": state.running.run_id if state.running else None,
                "follow_up": first.run_id if first else None,
                "follow_up_triggers": first.triggers if first else 0,
                "queued": [{"run_id": r.run_id, "window": r.window} for r in state.queue],
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
            status, report_json, window = "failed", None, None
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
                status, window = outcome.status, outcome.window
                report_json = outcome.verdict.report_json if outcome.verdict else None
            except Exception:  # a run must never take the server down; it is recorded as failed
                log.exception("run %s of %s failed", request.run_id, pipeline)
            seconds = time.perf_counter() - started
            self.metrics.record_run(pipeline, status, seconds, report_json, window)
            with self._lock:
                state = self._states[pipeline]
                state.history.append(request.run_id)
                follow_up = (
                    state.queue.popleft() if state.queue and not self.stop.is_set() else None
                )
                state.running = follow_up
                request = follow_up  # type: ignore[assignment]
