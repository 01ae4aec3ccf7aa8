"""The statistics engine: pure functions from samples to frozen results, no I/O.

Names are imported on first use (PEP 562): reading settings or column kinds does not pay for
scipy and Polars.
"""

from typing import TYPE_CHECKING

from driftloop.lazy import exports

if TYPE_CHECKING:
    from driftloop.drift.columns import ColumnKind
    from driftloop.drift.detection import detect
    from driftloop.drift.methods import METHODS, Method, get_method
    from driftloop.drift.results import (
        SCHEMA_VERSION,
        ColumnDrift,
        DegradationAlert,
        DriftReport,
        ExcludedColumn,
        Histogram,
        MultivariateDrift,
    )
    from driftloop.drift.settings import (
        ColumnSettings,
        DegradationSettings,
        DetectionSettings,
        MultivariateSettings,
    )

_LAZY = {
    "ColumnKind": "driftloop.drift.columns",
    "detect": "driftloop.drift.detection",
    "METHODS": "driftloop.drift.methods",
    "Method": "driftloop.drift.methods",
    "get_method": "driftloop.drift.methods",
    "SCHEMA_VERSION": "driftloop.drift.results",
    "ColumnDrift": "driftloop.drift.results",
    "DegradationAlert": "driftloop.drift.results",
    "DriftReport": "driftloop.drift.results",
    "ExcludedColumn": "driftloop.drift.results",
    "Histogram": "driftloop.drift.results",
    "MultivariateDrift": "driftloop.drift.results",
    "ColumnSettings": "driftloop.drift.settings",
    "DegradationSettings": "driftloop.drift.settings",
    "DetectionSettings": "driftloop.drift.settings",
    "MultivariateSettings": "driftloop.drift.settings",
}
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
    "MultivariateDrift",
    "MultivariateSettings",
    "detect",
    "get_method",
]


__getattr__ = exports(globals(), _LAZY)
