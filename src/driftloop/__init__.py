"""driftloop: close the loop on model drift.

Detect data drift, feature degradation and concept drift; then alert, retrain, register and
publish. The statistics engine is importable alone::

    >>> import driftloop
    >>> callable(driftloop.detect)
    True
"""

from driftloop.drift import (
    ColumnDrift,
    DegradationAlert,
    DetectionSettings,
    DriftReport,
    detect,
)
from driftloop.errors import ConfigError, DataError, DriftloopError, SourceError

__version__ = "0.1.0"

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
