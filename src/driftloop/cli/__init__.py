"""The ``driftloop`` command line.

Exit codes: 0 success; 1 drift found with ``--fail-on-drift``; 2 bad input or failure, reported as
one line on stderr (no traceback). Commands live in one module per noun and are registered here,
explicitly.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

try:  # typer vendors click (typer._click) since 0.20; the exceptions are that copy's
    from typer._click import exceptions as clickx
except ImportError:  # pragma: no cover - an older typer on the real click
    from click import exceptions as clickx  # type: ignore[no-redef]

from driftloop import __version__
from driftloop.cli import config, dashboard, data, detect, history, loop, model, profile, service
from driftloop.cli.common import err, out

__all__ = ["app", "main"]


def _given(error: clickx.UsageError, args: Sequence[str]) -> str:
    """The value the user gave a rejected option (typer's messages leave it out)."""
    param = getattr(error, "param", None)
    if getattr(param, "param_type_name", "") != "option" or "Got " in error.format_message():
        return ""
    for i, arg in enumerate(args):
        for opt in getattr(param, "opts", ()):
            if arg == opt and i + 1 < len(args):
                return f" Got {args[i + 1]!r}."
            if arg.startswith(f"{opt}="):
                return f" Got {arg.partition('=')[2]!r}."
    return ""


class _OneLineErrors(TyperGroup):
    """Usage errors (a bad option value, a missing argument) as one line on stderr, exit 2 —
    like every other bad input — instead of click's usage block."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        given = list(sys.argv[1:] if args is None else args)
        try:
            result = super().main(given, prog_name, complete_var, False, **extra)
        except clickx.NoArgsIsHelpError as e:
            e.show()
            sys.exit(e.exit_code)
        except clickx.UsageError as e:
            where = e.ctx.command_path if e.ctx is not None else "driftloop"
            message = e.format_message().rstrip(".") + "."
            err.print(
                f"error: {message}{_given(e, given)} See: {where} --help",
                markup=False,
                soft_wrap=True,
            )
            sys.exit(e.exit_code)
        except clickx.ClickException as e:
            e.show()
            sys.exit(e.exit_code)
        except typer.Abort:  # Ctrl-C (click turns KeyboardInterrupt into Abort)
            err.print("interrupted")
            sys.exit(130)
        sys.exit(result if isinstance(result, int) else 0)


app = typer.Typer(
    cls=_OneLineErrors,
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
app.add_typer(profile.profile_app, name="profile")


def main() -> None:
    """Console-script entry point."""
    from driftloop import redaction

    redaction.install()  # before any command can log: no secret in any log line
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        err.print("interrupted")
        sys.exit(130)
