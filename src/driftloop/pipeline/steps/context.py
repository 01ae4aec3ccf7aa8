"""What a step may use: the config, the run's identity and window, earlier steps' results."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from driftloop.errors import ConfigError
from driftloop.pipeline.steps.result import StepResult

if TYPE_CHECKING:
    import polars as pl

    from driftloop.config import PipelineConfig

__all__ = ["RunContext", "Skip"]

R = TypeVar("R", bound=StepResult)


class Skip(Exception):
    """Raised by a step that has nothing to do; the message says why."""


@dataclass
class RunContext:
    """A run as its steps see it. ``results`` holds the finished steps' typed results (a skipped
    step's is :class:`~driftloop.pipeline.steps.result.Skipped`, a failed one's ``Failed``)."""

    config: PipelineConfig
    run_id: str
    start: dt.date | None
    end: dt.date | None
    trigger: str = "manual"
    results: dict[str, StepResult] = field(default_factory=dict)
    printer: Callable[[str], None] = print
    rebuild_profile: bool = False  # a stored reference profile is rebuilt whatever its source says
    verdicts: tuple[str, ...] = ()  # the configured steps whose `fires` is the verdict, in order
    decided_by: str | None = None  # an earlier run that already acted on this window's verdict

    def verdict_results(self) -> tuple[StepResult, ...]:
        """The finished verdict steps' results (``Step.verdict``), in the table's order."""
        return tuple(self.results[name] for name in self.verdicts if name in self.results)

    @property
    def folder(self) -> Path:
        from driftloop.data.identifiers import check_run_id

        path = Path(self.config.stores.runs) / check_run_id(self.run_id)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def file(self, name: str) -> Path:
        return self.folder / name

    def frame(self, name: str, producer: str) -> pl.DataFrame:
        """A Parquet file an earlier step (``producer``) wrote into the run's folder."""
        import polars as pl

        path = self.file(name)
        if not path.exists():
            raise ConfigError(
                f"Step input '{path}' is missing: run the '{producer}' step of run "
                f"{self.run_id} first."
            )
        return pl.read_parquet(path)

    def result(self, name: str, kind: type[R]) -> R | None:
        """Step ``name``'s result when it finished with one of type ``kind`` (else None)."""
        found = self.results.get(name)
        return found if isinstance(found, kind) else None

    @property
    def window(self) -> tuple[str, str]:
        return (str(self.start or "start"), str(self.end or "end"))

    def report_folder(self) -> Path:
        """Where this pipeline's reports go (created when missing)."""
        folder = Path(self.config.stores.reports) / self.config.pipeline
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    @property
    def report_stem(self) -> str:
        """The file name every report of this run starts with: window and run id."""
        return f"{self.window[0]}_{self.window[1]}_{self.run_id}"
