"""Loading a registered model with driftloop's own trust rules, never the artifact's.

An MLflow model folder says how to load itself (``MLmodel``: flavor, serialization format, the
skops types to trust). Whoever can write to the artifact store could switch that to cloudpickle,
or widen the trust list, and code would run when driftloop loads production to compare. So
driftloop reads only the file name from ``MLmodel``, accepts only skops, and decides the trusted
types itself: scikit-learn's, NumPy's and SciPy's, plus the ones a team lists in
``model.trusted_types`` for its own estimator classes. Anything else is refused with one line.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from driftloop.errors import ConfigError

__all__ = ["SAFE_MODULES", "load_model_folder"]

SAFE_MODULES = ("sklearn", "numpy", "scipy")


def load_model_folder(folder: Path, *, trusted: Sequence[str] = (), what: str = "model") -> Any:
    """The estimator in an MLflow sklearn model folder, loaded by skops under driftloop's rules."""
    import skops.io as sio
    import yaml

    try:
        meta = yaml.safe_load((folder / "MLmodel").read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        raise ConfigError(
            f"The {what} has no readable MLmodel file; it cannot be loaded."
        ) from None
    flavor = (meta.get("flavors") or {}).get("sklearn") or {}
    fmt, name = flavor.get("serialization_format"), str(flavor.get("pickled_model") or "")
    if fmt != "skops" or not name:
        raise ConfigError(
            f"The {what} asks to be loaded with serialization {fmt!r}; driftloop loads only "
            "skops models (loading runs no code). Re-register it with driftloop."
        )
    path = (folder / name).resolve()
    if folder.resolve() not in path.parents or not path.is_file():
        raise ConfigError(f"The {what}'s model file {name!r} is not inside its folder.")
    untrusted = [str(t) for t in sio.get_untrusted_types(file=path)]
    refused = [t for t in untrusted if t.split(".")[0] not in SAFE_MODULES and t not in trusted]
    if refused:
        raise ConfigError(
            f"The {what} contains types driftloop does not trust: {', '.join(refused[:5])}. "
            "If they are your team's own estimator classes, list them in model.trusted_types."
        )
    return sio.load(path, trusted=untrusted)
