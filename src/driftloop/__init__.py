"""driftloop: close the loop on model drift.

Detect data drift, feature degradation and concept drift; then alert, retrain, register and
publish. The statistics engine is importable alone::

    >>> import driftloop
    >>> callable(driftloop.detect)
    True
"""

from typing import TYPE_CHECKING, Any

from driftloop import redaction
from driftloop.drift.results import register_renderer
from driftloop.errors import ConfigError, DataError, DriftloopError, SourceError
from driftloop.lazy import exports

redaction.install()  # secrets never reach a log line, from driftloop or any library it drives

__version__ = "0.1.0"

if TYPE_CHECKING:
    from driftloop.drift import (
        ColumnDrift,
        DegradationAlert,
        DetectionSettings,
        DriftReport,
    )
    from driftloop.drift.detection import prepare
    from driftloop.drift.performance import PerformanceEstimate, estimate_performance
    from driftloop.profiles import (
        Profile,
        detect,
        load_profile,
        merge_profiles,
        profile,
        save_profile,
    )

_LAZY = {
    "ColumnDrift": "driftloop.drift.results",
    "DegradationAlert": "driftloop.drift.results",
    "DriftReport": "driftloop.drift.results",
    "DetectionSettings": "driftloop.drift.settings",
    "detect": "driftloop.profiles.detection",
    "Profile": "driftloop.profiles.dataset",
    "profile": "driftloop.profiles.dataset",
    "merge_profiles": "driftloop.profiles.dataset",
    "load_profile": "driftloop.profiles.fileformat",
    "save_profile": "driftloop.profiles.fileformat",
    "prepare": "driftloop.drift.detection",
    "estimate_performance": "driftloop.drift.performance",
    "PerformanceEstimate": "driftloop.drift.performance",
}

__all__ = [
    "ColumnDrift",
    "ConfigError",
    "DataError",
    "DegradationAlert",
    "DetectionSettings",
    "DriftReport",
    "DriftloopError",
    "PerformanceEstimate",
    "Profile",
    "SourceError",
    "__version__",
    "detect",
    "estimate_performance",
    "load_profile",
    "merge_profiles",
    "prepare",
    "profile",
    "save_profile",
]


__getattr__ = exports(globals(), _LAZY)


# The engine does not render: DriftReport.to_html/to_markdown go through these, which load
# driftloop.report (and its templates) on first use.
def _html(report: "DriftReport", /, **options: Any) -> str:
    from driftloop.report.html import render_html

    return render_html(report, **options)


def _markdown(report: "DriftReport", /, **options: Any) -> str:
    from driftloop.report.markdown import render_markdown

    return render_markdown(report, **options)


register_renderer("html", _html)
register_renderer("markdown", _markdown)
