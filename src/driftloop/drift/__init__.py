"""The statistics engine: pure functions from samples to frozen results, no I/O."""

from driftloop.drift.columns import ColumnKind
from driftloop.drift.detect import detect
from driftloop.drift.methods import METHODS, Method, get_method
from driftloop.drift.results import (
    SCHEMA_VERSION,
    ColumnDrift,
    DegradationAlert,
    DriftReport,
    ExcludedColumn,
    Histogram,
)
from driftloop.drift.settings import ColumnSettings, DegradationSettings, DetectionSettings

__all__ = [
    "METHODS",
    "SCHEMA_VERSION",
    "ColumnDrift",
    "ColumnKind",
    "ColumnSettings",
    "DegradationAlert",
    "DegradationSettings",
    "DetectionSettings",
    "DriftReport",
    "ExcludedColumn",
    "Histogram",
    "Method",
    "detect",
    "get_method",
]
