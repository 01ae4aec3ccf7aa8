"""The detection settings a pipeline's window is judged with (its family's parts)."""

from __future__ import annotations

from typing import Any

__all__ = ["loop_settings"]


def loop_settings(config: Any) -> Any:
    """The detection settings of a pipeline's window: its concept step, when configured to
    fire, shares the window's family (``drift/family.py``)."""
    detection = config.detection
    when = config.on_drift.when
    update = {}
    if config.concept is not None and when.concept_drift and not detection.family.concept:
        update["concept"] = True
    performance = config.performance
    if performance is not None and performance.enabled and when.performance_drop:
        update["performance"] = True
    if not update:
        return detection
    family = detection.family.model_copy(update=update)
    return detection.model_copy(update={"family": family})
