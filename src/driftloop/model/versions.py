"""Registered model versions as driftloop shows them, and the references that name them
(``name``, ``name@alias``, ``name/version``); read by the MLflow registry and the direct
catalog alike."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from driftloop.errors import ConfigError

__all__ = ["PRODUCTION", "ModelVersionInfo", "parse_model_ref"]

PRODUCTION = "production"


@dataclass(frozen=True, slots=True)
class ModelVersionInfo:
    """One registered version, with what driftloop recorded about it."""

    name: str
    version: int
    aliases: tuple[str, ...]
    status: str
    metrics: dict[str, float]
    trigger: str
    reason: str
    created: str
    run_id: str
    description: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "aliases": list(self.aliases),
            "status": self.status,
            "metrics": self.metrics,
            "trigger": self.trigger,
            "reason": self.reason,
            "created": self.created,
            "run_id": self.run_id,
        }


def parse_model_ref(ref: str) -> tuple[str, str | None, int | None]:
    """``name``, ``name@alias`` or ``name/version`` into its parts.

    Examples
    --------
    >>> parse_model_ref("bikes@production"), parse_model_ref("bikes/3"), parse_model_ref("bikes")
    (('bikes', 'production', None), ('bikes', None, 3), ('bikes', None, None))
    """
    if "@" in ref:
        name, alias = ref.split("@", 1)
        return name, alias, None
    if "/" in ref:
        name, version = ref.rsplit("/", 1)
        if not version.isdigit():
            raise ConfigError(
                f"Invalid model reference {ref!r}: use NAME, NAME@ALIAS or NAME/VERSION."
            )
        return name, None, int(version)
    return ref, None, None
