"""driftloop: close the loop on model drift.

Detect data drift, feature degradation and concept drift; then alert, retrain, register and
publish. The statistics engine is importable alone::

    >>> import driftloop
    >>> callable(driftloop.detect)
    True
"""

import importlib
from typing import TYPE_CHECKING

from driftloop import redaction
from driftloop.errors import ConfigError, DataError, DriftloopError, SourceError

redaction.install()  # secrets never reach a log line, from driftloop or any library it drives

__version__ = "0.1.0"

if TYPE_CHECKING:
    from driftloop.drift import (
        ColumnDrift,
        DegradationAlert,
        DetectionSettings,
        DriftReport,
        detect,
    )

_LAZY = {
    "ColumnDrift": "driftloop.drift.results",
    "DegradationAlert": "driftloop.drift.results",
    "DriftReport": "driftloop.drift.results",
    "DetectionSettings": "driftloop.drift.settings",
    "detect": "driftloop.drift.detection",
}

__all__ = [
    "ColumnDrift",
    "ConfigError",
    "DataError",
    "DegradationAlert",
    "DetectionSettings",
    "DriftReport",
    "DriftloopError",
    "SourceError",
    "__version__",
    "detect",
]


def __getattr__(name: str) -> object:
    """Import the engine on first use (PEP 562), so ``import driftloop`` and the command line
    start without scipy or Polars."""
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name])
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
