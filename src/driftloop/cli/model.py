"""``driftloop model``: inspect and move registered versions."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from driftloop.cli.common import (
    out,
    user_errors,
)

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


@model_app.command("list")
def model_list(name: str, registry: RegistryOption = None) -> None:
    """Versions of NAME: aliases, status, key metrics, trigger, created."""
    from driftloop.model.registry import Registry

    with user_errors():
        versions = Registry(registry).versions(name)
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
) -> None:
    """One version's record and its model card."""
    from driftloop.model.registry import Registry

    with user_errors():
        info = Registry(registry).show(ref)
    out.print_json(data=info.to_dict())
    if info.description:
        out.print(info.description, markup=False)


@model_app.command("promote")
def model_promote(name: str, version: int, registry: RegistryOption = None) -> None:
    """Point NAME's production alias at VERSION."""
    from driftloop.model.registry import Registry

    with user_errors():
        previous = Registry(registry).promote(name, version, "promoted by hand")
    out.print(f"{name}: production is now version {version} (was {previous or 'none'})")


@model_app.command("rollback")
def model_rollback(name: str, registry: RegistryOption = None) -> None:
    """Return NAME's production alias to the previous production version."""
    from driftloop.model.registry import Registry

    with user_errors():
        current, target = Registry(registry).rollback(name)
    out.print(f"{name}: production rolled back from version {current} to {target}")
