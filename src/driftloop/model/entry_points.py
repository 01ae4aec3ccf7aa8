"""Checking a training entry point without running it (``driftloop config check``).

``package.module:function`` or ``path/to/train.py:function``: the module must be found and its
source must define the function at top level. Nothing is imported or executed, so a check stays
fast and cannot start training code; the loop imports the trainer only when it retrains.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

from driftloop.errors import ConfigError

__all__ = ["check_entry_point"]


def check_entry_point(spec: str) -> None:
    """Raise ConfigError naming what is wrong with ``spec``.

    Examples
    --------
    >>> check_entry_point("driftloop.model.bike:train")
    >>> check_entry_point("driftloop.model.bike:fit")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    driftloop.errors.ConfigError: Training entry point '...:fit': the module defines no ...
    """
    module, sep, function = spec.rpartition(":")
    if not sep or not module or not function.isidentifier():
        raise ConfigError(
            f"Invalid training entry point {spec!r}: use 'package.module:function' or "
            "'path/to/train.py:function'."
        )
    source = _source(module, spec)
    try:
        tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
    except (OSError, SyntaxError, ValueError) as err:
        raise ConfigError(
            f"Training entry point {spec!r}: {source} cannot be parsed ({type(err).__name__}). "
            "Fix the file."
        ) from None
    defined = {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    } | {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets
         if isinstance(t, ast.Name)}  # fmt: skip
    if function not in defined:
        raise ConfigError(
            f"Training entry point {spec!r}: the module defines no function '{function}'. "
            "Check training.entry_point."
        )


def _source(module: str, spec: str) -> Path:
    if module.endswith(".py"):
        path = Path(module)
        if not path.is_file():
            raise ConfigError(
                f"Training entry point {spec!r}: the script '{path}' does not exist. Check the "
                "path (relative paths are relative to the config file's folder)."
            )
        return path
    try:
        found = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        found = None
    if found is None or found.origin is None or not found.origin.endswith(".py"):
        raise ConfigError(
            f"Training entry point {spec!r}: no module '{module}' can be imported here. "
            "Install the package that holds it, or use 'path/to/train.py:function'."
        )
    return Path(found.origin)
