"""The ``driftloop`` command line.

Exit codes: 0 success; 1 drift found with ``--fail-on-drift``; 2 bad input or failure, reported as
one line on stderr (no traceback). Commands live in one module per noun and are registered here,
explicitly.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from driftloop import __version__
from driftloop.cli import config, dashboard, data, detect, history, loop, model, service
from driftloop.cli.common import err, out

__all__ = ["app", "main"]

app = typer.Typer(
    name="driftloop",
    help="Close the loop on model drift: detect, alert, retrain, register, publish.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: rendering it with rich costs more than the command
)


def _version(value: bool) -> None:
    if value:
        out.print(f"driftloop {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """driftloop command line."""


for command in (
    detect.detect,
    loop.demo,
    loop.run,
    loop.runs,
    loop.step,
    loop.calibrate,
    config.init,
    service.serve,
    history.backfill,
    dashboard.ui,
):
    app.command()(command)
app.add_typer(data.warehouse_app, name="warehouse")
app.add_typer(data.feedback_app, name="feedback")
app.add_typer(model.model_app, name="model")
app.add_typer(config.config_app, name="config")
app.add_typer(service.export_app, name="export")
app.add_typer(history.history_app, name="history")


def main() -> None:
    """Console-script entry point."""
    from driftloop import redaction

    redaction.install()  # before any command can log: no secret in any log line
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        err.print("interrupted")
        sys.exit(130)
