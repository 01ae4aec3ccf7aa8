"""Model lifecycle: train with the team's code, register in MLflow, promote, card, load."""

from __future__ import annotations

from typing import Any

__all__ = ["load_production"]


def load_production(
    name: str, *, tracking_uri: str | None = None, trusted_types: tuple[str, ...] = ()
) -> Any:
    """The model behind the ``production`` alias of registered model ``name``.

    Inference code names a model, never a file path; promotion moves the alias. Only skops
    models load, trusting scikit-learn/NumPy/SciPy types and ``trusted_types``
    (:mod:`driftloop.model.loading`).
    """
    from driftloop.model.registry import Registry

    return Registry(tracking_uri).load(name, "production", trusted=trusted_types)
