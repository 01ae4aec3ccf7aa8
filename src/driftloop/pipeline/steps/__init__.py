"""The loop's steps, declared once in :data:`STEPS`.

Each step is a function of a :class:`RunContext` returning its own typed result (a frozen
dataclass, see :mod:`.result`). Data passes between steps as Parquet files in the run's folder
(``stores.runs/RUN_ID/``), so a step runs alone (``driftloop step NAME``), in the built-in runner,
or as a Kestra task, and a resumed run continues from the files its finished steps left.

The table is what everything that lists steps reads: the runner (order, what runs after a
failure), ``driftloop step`` and its ``--help``, the run records and resume (which result class
reads a recorded step back), the Kestra export (which flow runs it), the demo's progress lines
and ``docs/architecture.md``. Adding a step = its module + one entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from driftloop.errors import ConfigError
from driftloop.pipeline.steps.alert import AlertResult, alert
from driftloop.pipeline.steps.append import AppendResult, append
from driftloop.pipeline.steps.concept import ConceptResult, concept
from driftloop.pipeline.steps.context import RunContext, Skip
from driftloop.pipeline.steps.detect import DetectResult, detect
from driftloop.pipeline.steps.fetch import FetchResult, fetch_current, fetch_reference
from driftloop.pipeline.steps.policy import data_verdict
from driftloop.pipeline.steps.publish import PublishResult, model_outcome, publish
from driftloop.pipeline.steps.reconcile import ReconcileResult, reconcile
from driftloop.pipeline.steps.result import Empty, Failed, Skipped, StepResult
from driftloop.pipeline.steps.retrain import RetrainResult, retrain

if TYPE_CHECKING:
    from driftloop.config import PipelineConfig

__all__ = [
    "STEPS",
    "AlertResult",
    "AppendResult",
    "ConceptResult",
    "DetectResult",
    "Empty",
    "Failed",
    "FetchResult",
    "PublishResult",
    "ReconcileResult",
    "RetrainResult",
    "RunContext",
    "Skip",
    "Skipped",
    "Step",
    "StepResult",
    "data_verdict",
    "model_outcome",
    "read_result",
    "step_named",
    "step_names",
    "verdict_steps",
]


def _always(config: PipelineConfig) -> bool:
    return True


def _concept_configured(config: PipelineConfig) -> bool:
    return config.concept is not None and config.concept.enabled


@dataclass(frozen=True, slots=True)
class Step:
    """One step of the loop.

    ``needs``: the earlier steps whose results or files it reads (after a failure, a step that
    runs anyway still needs them done). ``skipped_when``: when it ends ``skipped``.
    ``flow``: the Kestra flow that runs it (``detect``, ``retrain`` or ``alert``), ``configured``:
    whether the config uses it at all (else the export leaves its task out). ``empty_when_no_rows``:
    an empty window there is an empty run. ``verdict``: its ``fires`` is the run's verdict (the
    last configured one wins). ``after_failure``: it still runs when an earlier step failed.
    """

    name: str
    run: Callable[[RunContext], StepResult]
    result: type[StepResult]
    needs: tuple[str, ...]
    skipped_when: str
    flow: str
    configured: Callable[[PipelineConfig], bool] = _always
    empty_when_no_rows: bool = False
    verdict: bool = False
    after_failure: bool = False


STEPS: tuple[Step, ...] = (
    Step(
        "fetch_reference", fetch_reference, FetchResult,
        needs=(), skipped_when="never", flow="detect", empty_when_no_rows=True,
    ),
    Step(
        "fetch_current", fetch_current, FetchResult,
        needs=(), skipped_when="never", flow="detect", empty_when_no_rows=True,
    ),
    Step(
        "detect", detect, DetectResult,
        needs=("fetch_reference", "fetch_current"), skipped_when="never", flow="detect",
        verdict=True,
    ),
    Step(
        "concept", concept, ConceptResult,
        needs=("detect",),
        skipped_when="concept is not configured, or too few prediction-outcome pairs",
        flow="detect", configured=_concept_configured, verdict=True,
    ),
    Step(
        "append", append, AppendResult,
        needs=("fetch_current",), skipped_when="append.enabled is off", flow="detect",
    ),
    Step(
        "reconcile", reconcile, ReconcileResult,
        needs=(),
        skipped_when="production is published as the registry says, or there is none yet",
        flow="retrain",
    ),
    Step(
        "retrain", retrain, RetrainResult,
        needs=("fetch_reference", "detect"),
        skipped_when="no drift that matters, or on_drift.retrain is off", flow="retrain",
    ),
    Step(
        "publish", publish, PublishResult,
        needs=("retrain",),
        skipped_when="nothing was promoted, or on_drift.publish is off", flow="retrain",
    ),
    Step(
        "alert", alert, AlertResult,
        needs=("detect",),
        skipped_when="no drift that matters and nothing pending", flow="alert",
        after_failure=True,
    ),
)  # fmt: skip


def step_names() -> list[str]:
    """The steps in the order they run.

    Examples
    --------
    >>> step_names()[:3]
    ['fetch_reference', 'fetch_current', 'detect']
    """
    return [s.name for s in STEPS]


def verdict_steps(config: PipelineConfig) -> tuple[str, ...]:
    """The configured steps whose ``fires`` is the run's verdict, in order (``Step.verdict``)."""
    return tuple(s.name for s in STEPS if s.verdict and s.configured(config))


def step_named(name: str) -> Step:
    """The step called ``name``, or a ConfigError listing the steps.

    Examples
    --------
    >>> step_named("publish").needs, step_named("publish").flow
    (('retrain',), 'retrain')
    """
    for s in STEPS:
        if s.name == name:
            return s
    raise ConfigError(f"Unknown step '{name}'. Steps: {', '.join(step_names())}.")


def read_result(name: str, status: str, data: dict[str, Any] | None) -> StepResult:
    """A recorded step's result as its typed class (``skipped`` ones as :class:`Skipped`).

    Examples
    --------
    >>> read_result("fetch_current", "done", {"schema_version": 1, "rows": 31, "columns": 16}).rows
    31
    >>> read_result("retrain", "skipped", {"skipped": "no drift that matters"})
    Skipped(reason='no drift that matters')
    """
    if status == "skipped":
        return Skipped.from_dict(data or {})
    return step_named(name).result.from_dict(data or {})
