"""The pipeline's config: ``init`` writes an example, ``config schema`` and ``config check``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from driftloop.cli.common import ConfigOption, check_writable, load_pipeline, out, user_errors
from driftloop.errors import ConfigError

config_app = typer.Typer(rich_markup_mode=None, help="The driftloop.yaml format.")


@config_app.command("schema")
def config_schema_cmd() -> None:
    """Print the JSON Schema of driftloop.yaml."""
    import json as _json

    from driftloop.config import config_schema

    print(_json.dumps(config_schema(), indent=2))


@config_app.command("check")
def config_check(config: ConfigOption) -> None:
    """Validate a config (resolving ${ENV} references, never printing them)."""
    from driftloop.model.entry_points import check_entry_point

    with user_errors():
        cfg = load_pipeline(config)
        if cfg.training is not None:
            check_entry_point(cfg.training.entry_point)
    out.print(f"{config}: valid (pipeline '{cfg.pipeline}')")


def init(
    path: Annotated[Path, typer.Argument(help="Where to write the example config.")] = Path(
        "driftloop.yaml"
    ),
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented example driftloop.yaml."""
    from importlib.resources import files

    with user_errors():
        if path.exists() and not force:
            raise ConfigError(f"'{path}' already exists. Use --force to overwrite it.")
        check_writable(path, "the example config")
        text = files("driftloop").joinpath("templates/driftloop.yaml").read_text(encoding="utf-8")
        path.write_text(text, encoding="utf-8")
    out.print(f"wrote {path}; edit it, then: driftloop config check --config {path}")
