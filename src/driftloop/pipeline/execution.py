"""Running one step and classifying how it ended — the single place both the runner and
``driftloop step`` (and so Kestra tasks) go through, so the same situation gives the same state.

- a :class:`Skip` → ``skipped`` (its reason is the result);
- an :class:`EmptyDataError` from a step declared ``empty_when_no_rows`` (the fetches) →
  ``empty`` (the run is an empty run, exit 0);
- any other exception, driftloop's or a third party's (botocore, MLflow, psycopg...) →
  ``failed``, with one line naming the cause (secrets redacted); the traceback goes to the
  ``driftloop.pipeline`` logger at DEBUG level.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from driftloop.errors import DriftloopError, EmptyDataError
from driftloop.pipeline.steps import Empty, Failed, RunContext, Skip, Skipped, Step, StepResult
from driftloop.redaction import redact

__all__ = ["StepEnd", "describe", "execute"]

log = logging.getLogger("driftloop.pipeline")


@dataclass(frozen=True, slots=True)
class StepEnd:
    """How one step ended: ``done``, ``skipped``, ``empty`` or ``failed``."""

    status: str
    result: StepResult
    seconds: float
    error: str | None = None


def execute(step: Step, ctx: RunContext) -> StepEnd:
    started = time.perf_counter()
    try:
        result = step.run(ctx)
    except Skip as why:
        return StepEnd("skipped", Skipped(str(why)), time.perf_counter() - started)
    except Exception as err:  # every failure is recorded; none leaves a run 'running'
        seconds = time.perf_counter() - started
        if isinstance(err, EmptyDataError) and step.empty_when_no_rows:
            return StepEnd("empty", Empty(str(err)), seconds, str(err))
        log.debug("step %s of run %s failed", step.name, ctx.run_id, exc_info=True)
        return StepEnd("failed", Failed(describe(err)), seconds, describe(err))
    return StepEnd("done", result, time.perf_counter() - started)


def describe(err: BaseException) -> str:
    """One line naming the cause: driftloop's own message, or a third party's error type and
    first line (secrets redacted, at most 300 characters).

    Examples
    --------
    >>> describe(ValueError("bad\\nmore"))
    'ValueError: bad'
    >>> describe(ConnectionError("cannot reach https://u:pw@h/x"))
    'ConnectionError: cannot reach https://u:***@h/x'
    """
    if isinstance(err, DriftloopError):
        return redact(str(err))
    lines = str(err).strip().splitlines()
    first = lines[0] if lines else ""
    text = f"{type(err).__name__}: {first}" if first else type(err).__name__
    return redact(text)[:300]
