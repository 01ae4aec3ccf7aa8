"""One run at a time per pipeline, fed by the durable trigger queue (``service/triggers.py``).

A trigger (cron, webhook, a run left unfinished) is committed to the pipeline's database before
it is answered: it starts a run at once when the pipeline is idle, or joins the queue, in arrival
order. A trigger asking for a window (``start``/``end``) joins the queued trigger of that very
window, or becomes a new one: two distinct windows are two runs, so no requested window is lost.
A trigger without a window ("check now", cron) joins the queued windowless one. Each answer names
the run it joined (the trigger's id is its run's id) and the window that run will check. The
queue is bounded (``MAX_QUEUED``); beyond it a trigger is refused (the HTTP side answers 429
with Retry-After) rather than silently dropped.

A pump thread takes due triggers from the queue. When another process holds the pipeline's lock
(``LockedError``), the trigger goes back to the queue with a growing delay, keeping its place;
on SIGTERM the running step finishes and its trigger goes back to the queue, resumed at the next
start; at start-up triggers left ``running`` by a server that died are taken back.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from driftloop.config import PipelineConfig
from driftloop.errors import LockedError
from driftloop.pipeline.records import RunStore, new_run_id
from driftloop.service.execution import execute
from driftloop.service.metrics import LoopMetrics
from driftloop.service.outage import is_outage, one_line
from driftloop.service.triggers import Trigger, TriggerStore

__all__ = ["MAX_QUEUED", "Coordinator", "Joined", "backoff"]

log = logging.getLogger("driftloop.serve")

MAX_QUEUED = 1000
PUMP_SECONDS = 0.5


def backoff(attempts: int) -> float:
    """Seconds before a trigger that found the lock held is tried again: 1, 2, 4 ... 30.

    Examples
    --------
    >>> [backoff(n) for n in (1, 2, 3, 6, 9)]
    [1.0, 2.0, 4.0, 30.0, 30.0]
    """
    return float(min(2 ** max(attempts - 1, 0), 30))


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
class _State:
    store: TriggerStore
    running: Trigger | None = None
    thread: threading.Thread | None = None
    blocked_until: float = 0.0  # monotonic: the lock was held elsewhere
    history: list[str] = field(default_factory=list)


class Coordinator:
    """Serialises the runs of each pipeline, from the queue, and records their metrics."""

    def __init__(
        self,
        configs: dict[str, PipelineConfig],
        metrics: LoopMetrics,
        max_concurrent_runs: int | None = None,
    ) -> None:
        self.configs = configs
        self.metrics = metrics
        # runs of different pipelines at once (None: no cap); the pump starts the pipeline whose
        # oldest queued trigger has waited longest, so a busy pipeline cannot starve the others
        self.max_concurrent_runs = max_concurrent_runs
        self.stop = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._states = {
            name: _State(TriggerStore(c.stores.warehouse.get_secret_value()))
            for name, c in configs.items()
        }
        self._pump: threading.Thread | None = None
        self._last_outage: str | None = None
        self._take_back_due = True  # at start, and after a trigger's state could not be saved

    def trigger(
        self, pipeline: str, trigger: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> Joined:
        """Commit a trigger and say what it joined (raises SourceError when the database is
        down: nothing was accepted)."""
        with self._lock:
            state = self._states[pipeline]
            if self._idle(state) and self._room() and state.store.count_queued(pipeline) == 0:
                accepted = state.store.add(
                    new_run_id(), pipeline, trigger, start, end, running=True
                )
                self._start(pipeline, state, accepted)
                return Joined("started", accepted.trigger_id, window=accepted.window)
            running = state.running.trigger_id if state.running else None
            same = state.store.coalesce(pipeline, trigger, start, end)
            if same is not None:
                return Joined("coalesced", same.trigger_id, running, same.window)
            if state.store.count_queued(pipeline) >= MAX_QUEUED:
                return Joined("refused", "", running)
            queued = state.store.add(new_run_id(), pipeline, trigger, start, end)
            self._wake.set()
            return Joined("queued", queued.trigger_id, running, queued.window)

    def start(self) -> None:
        """Take back what a dead server left, queue unfinished runs, and start the pump."""
        self._pump = threading.Thread(target=self._pump_loop, name="trigger-pump", daemon=True)
        self._pump.start()

    def resume_unfinished(self) -> list[Joined]:
        """Queue the latest run an earlier process left interrupted or running, when no
        trigger of the queue already stands for it (a run started by ``driftloop run``)."""
        joined = []
        for pipeline, config in self.configs.items():
            store = RunStore(config.stores.warehouse.get_secret_value())
            triggers = self._states[pipeline].store
            for record in store.runs(pipeline, limit=20):
                if record["status"] not in ("interrupted", "running"):
                    continue
                if store.holder(pipeline) is None and triggers.get(record["run_id"]) is None:
                    start, end = record.get("window_start"), record.get("window_end")
                    triggers.add(
                        record["run_id"],
                        pipeline,
                        record["trigger"],
                        dt.date.fromisoformat(start) if start else None,
                        dt.date.fromisoformat(end) if end else None,
                    )
                    joined.append(Joined("resumed", record["run_id"]))
                break
        self._wake.set()
        return joined

    def status(self, pipeline: str) -> dict[str, Any]:
        with self._lock:
            state = self._states[pipeline]
            running = state.running.trigger_id if state.running else None
            finished = list(state.history[-20:])
        queued = state.store.queued(pipeline)
        first = queued[0] if queued else None
        return {
            "running": running,
            "follow_up": first.trigger_id if first else None,
            "follow_up_triggers": first.triggers if first else 0,
            "queued": [{"run_id": t.trigger_id, "window": t.window} for t in queued],
            "finished": finished,
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

    # -- the pump and the workers --------------------------------------------------------------

    def _idle(self, state: _State) -> bool:
        return state.running is None and time.monotonic() >= state.blocked_until

    def _room(self) -> bool:
        """Whether another run may start now (called under ``_lock``)."""
        cap = self.max_concurrent_runs
        return cap is None or sum(s.running is not None for s in self._states.values()) < cap

    def running_count(self) -> int:
        with self._lock:
            return sum(s.running is not None for s in self._states.values())

    def _pump_loop(self) -> None:
        while not self.stop.is_set():
            try:
                if self._take_back_due:
                    self._take_back()
                    self._take_back_due = False
                self._start_due()
                self._last_outage = None
            except Exception as err:
                self._outage(err)
            self._wake.wait(PUMP_SECONDS)
            self._wake.clear()

    def _take_back(self) -> None:
        for pipeline, state in self._states.items():
            with self._lock:  # nothing of this process claims a trigger meanwhile
                active = {state.running.trigger_id} if state.running else set()
                lost = state.store.take_back(pipeline, active)
            for trigger_id in lost:
                log.info("trigger %s of %s was left running; queued again", trigger_id, pipeline)

    def _start_due(self) -> None:
        for pipeline in self._fair_order():
            state = self._states[pipeline]
            with self._lock:
                if self.stop.is_set() or not self._idle(state) or not self._room():
                    continue
                claimed = state.store.claim(pipeline)
                if claimed is not None:
                    self._start(pipeline, state, claimed)

    def _fair_order(self) -> list[str]:
        """The pipelines, those whose oldest queued trigger waited longest first (uncapped:
        the configs' order, every idle one starts anyway)."""
        if self.max_concurrent_runs is None:
            return list(self._states)
        waiting = {name: s.store.oldest_queued(name) for name, s in self._states.items()}
        return sorted(waiting, key=lambda n: (waiting[n] is None, waiting[n] or ""))

    def _outage(self, err: Exception) -> None:
        if not is_outage(err):
            log.exception("the trigger queue failed")
            return
        text = one_line(err)
        if text != self._last_outage:  # one line per outage, not one per poll
            log.warning("the trigger queue cannot reach the database: %s", text)
            self._last_outage = text

    def _start(self, pipeline: str, state: _State, trigger: Trigger) -> None:
        state.running = trigger
        state.thread = threading.Thread(
            target=self._work, args=(pipeline, trigger), name=f"run-{pipeline}", daemon=True
        )
        state.thread.start()

    def _work(self, pipeline: str, trigger: Trigger) -> None:
        state = self._states[pipeline]
        current: Trigger | None = trigger
        while current is not None:
            self._one(pipeline, state, current)
            with self._lock:
                state.history.append(current.trigger_id)
                current = None
                capped = self.max_concurrent_runs is not None  # the pump picks who runs next
                if capped:
                    self._wake.set()
                elif not self.stop.is_set() and time.monotonic() >= state.blocked_until:
                    try:
                        current = state.store.claim(pipeline)
                    except Exception as err:
                        self._outage(err)
                state.running = current

    def _one(self, pipeline: str, state: _State, trigger: Trigger) -> None:
        """Run one trigger and leave it in its next state."""
        config = self.configs[pipeline]
        started = time.perf_counter()
        try:
            ran = execute(config, trigger, self.stop)
        except LockedError as err:
            delay = backoff(trigger.attempts + 1)
            state.blocked_until = time.monotonic() + delay
            log.info(
                "%s: %s; trigger %s retried in %.0f s", pipeline, err, trigger.trigger_id, delay
            )
            self._settle(state, trigger, "queued", str(err), delay)
            return
        except Exception as err:  # a run must never take the server down
            if is_outage(err):
                log.warning("run %s of %s: %s", trigger.trigger_id, pipeline, one_line(err))
                state.blocked_until = time.monotonic() + backoff(trigger.attempts + 1)
                self._settle(state, trigger, "queued", one_line(err), backoff(trigger.attempts + 1))
            else:
                log.exception("run %s of %s failed", trigger.trigger_id, pipeline)
                self._settle(state, trigger, "failed", one_line(err))
            return
        if ran.outcome is not None:
            seconds = time.perf_counter() - started
            self.metrics.record_run(
                pipeline, ran.outcome.status, seconds, ran.report_json, ran.outcome.window
            )
        self._settle(state, trigger, ran.state, ran.error)

    def _settle(
        self, state: _State, trigger: Trigger, to: str, error: str | None, delay: float = 0.0
    ) -> None:
        """Record the trigger's next state; a database error leaves it ``running``, taken back
        by the pump (``take_back``) once the database answers."""
        try:
            if to == "queued":
                state.store.requeue(trigger.trigger_id, delay, error)
            else:
                state.store.finish(trigger.trigger_id, to, error)
        except Exception as err:
            self._outage(err)
            self._take_back_due = True
