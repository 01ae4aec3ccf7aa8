"""Step results: frozen dataclasses that say what a step did, JSON-stable and versioned.

Every step returns a subclass of :class:`StepResult`; later steps, the runner, the run records,
the command line and Kestra read its attributes. ``to_dict`` is the JSON form (recorded in
``driftloop_run_steps`` and printed by ``driftloop step``) with the result's
``schema_version``; ``from_dict`` reads it back (records written before versioning count as 1).
A step that did nothing ends :class:`Skipped`, one that raised :class:`Failed`, a fetch of an
empty window :class:`Empty`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, Self, runtime_checkable

from driftloop.errors import ConfigError

__all__ = ["Empty", "Failed", "Skipped", "StepResult", "Verdict"]


@runtime_checkable
class Verdict(Protocol):
    """A verdict step's result: ``fires`` when drift that matters was found."""

    @property
    def fires(self) -> bool: ...


class StepResult:
    """Base of every step's result (subclasses are frozen dataclasses with slots)."""

    __slots__ = ()
    SCHEMA_VERSION: ClassVar[int] = 1

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"schema_version": self.SCHEMA_VERSION}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """The result ``to_dict`` wrote; unknown keys (a newer minor shape) are ignored."""
        version = data.get("schema_version", 1)
        if not isinstance(version, int) or version > cls.SCHEMA_VERSION:
            raise ConfigError(
                f"A {cls.__name__} with schema_version {version!r} is newer than this driftloop "
                f"reads ({cls.SCHEMA_VERSION}). Upgrade driftloop or re-run the step."
            )
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in names}
        return cls(**values)

    def summary(self) -> str:
        """One line for ``driftloop run``'s progress."""
        return ""


@dataclass(frozen=True, slots=True)
class Skipped(StepResult):
    """The step had nothing to do, and why."""

    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"skipped": self.reason}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        return cls(str(data.get("skipped", "")))

    def summary(self) -> str:
        return self.reason


@dataclass(frozen=True, slots=True)
class Failed(StepResult):
    """The step raised; ``error`` is its one line (secrets redacted)."""

    error: str

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.error}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        return cls(str(data.get("error", "")))

    def summary(self) -> str:
        return self.error


@dataclass(frozen=True, slots=True)
class Empty(StepResult):
    """A fetch found no rows: the run is an empty run. Nothing fires, so an orchestrator's
    outputs (``fires``, ``dataset_drift``) still resolve."""

    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"message": self.message, "fires": False, "dataset_drift": False}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        return cls(str(data.get("message", "")))

    def summary(self) -> str:
        return self.message
