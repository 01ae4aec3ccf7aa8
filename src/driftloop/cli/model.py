"""``driftloop model``: inspect and move registered versions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from driftloop.cli.common import (
    load_pipeline,
    out,
    user_errors,
)
from driftloop.data.identifiers import check_name
from driftloop.errors import ConfigError

model_app = typer.Typer(
    rich_markup_mode=None, help="Inspect and move registered model versions (MLflow)."
)

RegistryOption = Annotated[
    str | None,
    typer.Option(
        "--registry",
        envvar="DRIFTLOOP_MLFLOW_URI",
        help="MLflow tracking/registry URI (default sqlite:///.driftloop/mlflow.db).",
    ),
]
PipelineOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Use the registry of this pipeline's driftloop.yaml."),
]


def _reader(registry: str | None, config: Path | None) -> Any:
    """The registry tables read directly when they are in a database (fast), else MLflow."""
    from driftloop.model.catalog import open_catalog

    uri, _ = _uri(registry, config, read=True)
    return open_catalog(uri) or _open(registry, config, read=True)


def _uri(registry: str | None, config: Path | None, *, read: bool) -> tuple[str, str | None]:
    from driftloop.errors import RegistryError
    from driftloop.model.registry import DEFAULT_TRACKING_URI

    if registry is not None and config is not None:
        import os

        if registry != os.environ.get("DRIFTLOOP_MLFLOW_URI"):
            raise ConfigError("Pass --registry or --config, not both.")
        registry = None  # the variable is a default; an explicit --config names the registry
    root = None
    if config is not None:
        stores = load_pipeline(config).stores
        registry, root = stores.mlflow.get_secret_value(), stores.mlflow_artifacts
    uri = registry or DEFAULT_TRACKING_URI
    if read and uri.startswith("sqlite:///"):
        path = Path(uri.removeprefix("sqlite:///"))
        if not path.is_file():
            raise RegistryError(
                f"No model registry at {path}: nothing has been registered there yet. Run the "
                "loop first, or point at the registry with --config driftloop.yaml or --registry."
            )
    return uri, root


def _republish(opened: Any, config: Path | None, name: str, version: int) -> str:
    """Publish ``version`` (its files, then ``production.json``) where the pipeline publishes."""
    if config is None:
        return "production.json not updated (pass --config to publish it)"
    from driftloop.actions.publish import publisher_for
    from driftloop.model.lifecycle import publish_version

    stores = load_pipeline(config).stores
    published = publish_version(opened, publisher_for(stores), name, version)
    return f"published, pointer at {published[-1].uri}"


def _open(registry: str | None, config: Path | None, *, read: bool) -> Any:
    """The MLflow-backed registry named by --registry or a pipeline config."""
    from driftloop.model.registry import Registry

    uri, root = _uri(registry, config, read=read)
    return Registry(uri, root)


@model_app.command("list")
def model_list(name: str, registry: RegistryOption = None, config: PipelineOption = None) -> None:
    """Versions of NAME: aliases, status, key metrics, trigger, created."""
    with user_errors():
        check_name(name, "model", "NAME")
        versions = _reader(registry, config).versions(name)
    table = Table(show_edge=False, header_style="bold")
    for column in ("version", "aliases", "status", "metrics", "trigger", "created"):
        table.add_column(column)
    for v in versions:
        metrics = ", ".join(f"{k}={val:.4g}" for k, val in sorted(v.metrics.items())[:3])
        table.add_row(str(v.version), ",".join(v.aliases), v.status, metrics, v.trigger, v.created)
    out.print(table)


@model_app.command("show")
def model_show(
    ref: Annotated[str, typer.Argument(help="NAME, NAME@ALIAS or NAME/VERSION.")],
    registry: RegistryOption = None,
    config: PipelineOption = None,
) -> None:
    """One version's record and its model card."""
    with user_errors():
        info = _reader(registry, config).show(ref)
    out.print_json(data=info.to_dict())
    if info.description:
        out.print(info.description, markup=False)


@model_app.command("promote")
def model_promote(
    name: str,
    version: Annotated[str, typer.Argument(help="A version number, e.g. 3.")],
    registry: RegistryOption = None,
    config: PipelineOption = None,
) -> None:
    """Point NAME's production alias at VERSION."""
    with user_errors():
        check_name(name, "model", "NAME")
        number = _version_number(version)
        opened = _open(registry, config, read=True)
        previous = opened.promote(name, number, "promoted by hand")
        pointer = _republish(opened, config, name, number)
    out.print(f"{name}: production is now version {number} (was {previous or 'none'}); {pointer}")


def _version_number(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise ConfigError(f"VERSION must be a version number like 3. Got {text!r}.")
    return int(text)


@model_app.command("rollback")
def model_rollback(
    name: str, registry: RegistryOption = None, config: PipelineOption = None
) -> None:
    """Return NAME's production alias to the previous production version."""
    with user_errors():
        check_name(name, "model", "NAME")
        opened = _open(registry, config, read=True)
        current, target = opened.rollback(name)
        pointer = _republish(opened, config, name, target)
    out.print(f"{name}: production rolled back from version {current} to {target}; {pointer}")
