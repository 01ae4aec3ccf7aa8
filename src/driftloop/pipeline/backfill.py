"""Backfill: the loop's detection (and concept check) over a range of past windows, in order.

Each window is an ordinary recorded run (trigger ``backfill``) of the detection steps only —
fetch, detect, concept: nothing is appended, retrained, published or alerted unless ``actions``
asks for the whole loop. A window that already has a finished run with those steps is skipped;
one whose run was interrupted or failed is resumed from where it stopped. So a backfill can be
stopped at any moment and started again with the same arguments.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from driftloop.config import PipelineConfig
from driftloop.errors import ConfigError
from driftloop.pipeline.runner import Runner, RunOutcome
from driftloop.pipeline.steps import step_names
from driftloop.pipeline.steps.detect import DetectResult

__all__ = ["DETECTION_STEPS", "BackfillResult", "WindowOutcome", "backfill", "windows"]

DETECTION_STEPS = ("fetch_reference", "fetch_current", "detect", "concept")
_EVERY = re.compile(r"^([1-9][0-9]{0,3})(d|w|mo)$")
_FINISHED = ("succeeded", "empty")
_UNFINISHED = ("running", "interrupted", "failed")

Window = tuple[dt.date, dt.date]


def windows(first: dt.date, last: dt.date, every: str) -> list[Window]:
    """The whole windows of length ``every`` (``7d``, ``2w``, ``1mo``) from ``first`` that end
    by ``last``; a remainder shorter than a window is left out.

    Examples
    --------
    >>> windows(dt.date(2011, 1, 1), dt.date(2011, 3, 15), "1mo")[-1]
    (datetime.date(2011, 2, 1), datetime.date(2011, 2, 28))
    >>> len(windows(dt.date(2011, 1, 1), dt.date(2011, 1, 14), "7d"))
    2
    """
    match = _EVERY.match(every.strip())
    if match is None:
        raise ConfigError(
            f"--every must be a number of days, weeks or months like 7d, 2w or 1mo. Got {every!r}."
        )
    if last < first:
        raise ConfigError(f"--to ({last}) is before --from ({first}).")
    n, unit = int(match[1]), match[2]
    out: list[Window] = []
    while True:
        i = len(out)
        if unit == "mo":
            start, after = _add_months(first, i * n), _add_months(first, (i + 1) * n)
        else:
            size = dt.timedelta(days=n * (7 if unit == "w" else 1))
            start, after = first + i * size, first + (i + 1) * size
        if after - dt.timedelta(days=1) > last:
            break
        out.append((start, after - dt.timedelta(days=1)))
    if not out:
        raise ConfigError(
            f"--from {first} --to {last} holds no whole {every} window. Widen the range or "
            "shorten --every."
        )
    return out


def _add_months(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


@dataclass(frozen=True, slots=True)
class WindowOutcome:
    """What the backfill did with one window: ``skipped`` (already done), or the status of the
    run it started or resumed (succeeded, empty, failed, interrupted); ``verdict`` is the
    window's verdict line (a skipped window's from its earlier run), or why there is none."""

    start: dt.date
    end: dt.date
    run_id: str
    status: str
    resumed: bool = False
    verdict: str = ""

    def line(self) -> str:
        """One line for the window: ``2011-02-01..2011-02-28 succeeded: no dataset drift; ...``."""
        resumed = " (resumed)" if self.resumed else ""
        return f"{self.start}..{self.end} {self.status}{resumed}: {self.verdict} [{self.run_id}]"


@dataclass(frozen=True, slots=True)
class BackfillResult:
    windows: tuple[WindowOutcome, ...]

    def count(self, status: str) -> int:
        return sum(1 for w in self.windows if w.status == status)

    @property
    def stopped(self) -> WindowOutcome | None:
        """The window the backfill stopped at (failed or interrupted), if any."""
        last = self.windows[-1] if self.windows else None
        return last if last is not None and last.status in ("failed", "interrupted") else None


def backfill(
    config: PipelineConfig,
    planned: Sequence[Window],
    *,
    actions: bool = False,
    progress: Callable[[int, int], None] | None = None,
    printer: Callable[[str], None] = print,
    stop: threading.Event | None = None,
    on_window: Callable[[WindowOutcome], None] | None = None,
) -> BackfillResult:
    """Run ``planned`` windows in order; stop at the first failed or interrupted one.

    ``on_window`` is told of each window as it ends (the command line prints its line)."""
    runner = Runner(config, printer=printer)
    steps = list(step_names()) if actions else list(DETECTION_STEPS)
    earlier = _by_window(runner.store.window_runs(config.pipeline))
    done: list[WindowOutcome] = []
    for i, (start, end) in enumerate(planned):
        outcome = _window(runner, earlier.get((start, end), []), start, end, steps, stop)
        done.append(outcome)
        if on_window is not None:
            on_window(outcome)
        if progress is not None:
            progress(i + 1, len(planned))
        if outcome.status in ("failed", "interrupted"):
            break
    return BackfillResult(tuple(done))


def _by_window(runs: list[dict[str, Any]]) -> dict[Window, list[dict[str, Any]]]:
    grouped: dict[Window, list[dict[str, Any]]] = {}
    for run in runs:
        grouped.setdefault((run["window_start"], run["window_end"]), []).append(run)
    return grouped


def _window(
    runner: Runner,
    earlier: list[dict[str, Any]],
    start: dt.date,
    end: dt.date,
    steps: list[str],
    stop: threading.Event | None,
) -> WindowOutcome:
    for run in earlier:
        if run["status"] in _FINISHED and set(steps) <= set(run["steps"]):
            return WindowOutcome(
                start, end, run["run_id"], "skipped", verdict=_recorded(runner, run)
            )
    unfinished = [r for r in earlier if r["status"] in _UNFINISHED and r["steps"] == steps]
    if unfinished:
        outcome = runner.run(resume=unfinished[-1]["run_id"], stop=stop)
        return WindowOutcome(
            start, end, outcome.run_id, outcome.status, resumed=True, verdict=_verdict(outcome)
        )
    outcome = runner.run(start=start, end=end, trigger="backfill", steps=steps, stop=stop)
    return WindowOutcome(start, end, outcome.run_id, outcome.status, verdict=_verdict(outcome))


def _verdict(outcome: RunOutcome) -> str:
    if outcome.verdict is not None:
        return outcome.verdict.summary()
    return outcome.error or ("no rows in the window" if outcome.status == "empty" else "no verdict")


def _recorded(runner: Runner, run: dict[str, Any]) -> str:
    """The verdict line an earlier run of the window recorded."""
    record = runner.store.run(run["run_id"])
    verdict = record.get("verdict") if record is not None else None
    if not verdict:
        return "done earlier, no verdict recorded" if run["status"] != "empty" else "no rows"
    return DetectResult.from_dict(verdict).summary()
