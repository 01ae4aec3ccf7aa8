"""What every command shares: consoles, exit codes, one-line errors, common options."""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from driftloop.errors import ConfigError, DriftloopError

__all__ = [
    "EXIT_DRIFT",
    "EXIT_ERROR",
    "ConfigOption",
    "check_folder",
    "check_writable",
    "err",
    "load_pipeline",
    "out",
    "parse_date",
    "progress_bar",
    "user_errors",
]

# Piped or redirected output keeps long lines whole (no 80-column wrapping of ids and logs).
_PIPED_WIDTH = 250
out = Console(highlight=False, width=None if sys.stdout.isatty() else _PIPED_WIDTH)
err = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else _PIPED_WIDTH)

EXIT_DRIFT = 1
EXIT_ERROR = 2

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="The pipeline's driftloop.yaml.")
]


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn a DriftloopError into one line on stderr and exit code 2."""
    try:
        yield
    except DriftloopError as e:
        from rich.markup import escape  # a message's own brackets ('driftloop[spark]') are text

        err.print(f"[bold red]error:[/] {escape(str(e))}", soft_wrap=True, markup=True)
        raise typer.Exit(EXIT_ERROR) from None


@contextlib.contextmanager
def progress_bar(description: str, *, show: bool = True) -> Iterator[Any]:
    """A rich progress bar on stderr when it is a terminal; otherwise nothing is printed.

    Yields a ``callback(done, total)`` to hand to long work (``detect(progress=...)``, backfills,
    profile builds).
    """
    if not (show and err.is_terminal):
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    columns = (BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(f"[progress.description]{description}", *columns, console=err) as bar:
        task = bar.add_task(description, total=None)

        def callback(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield callback


def check_writable(path: Path, what: str, *, replaced: bool = False) -> None:
    """Raise ConfigError unless ``path`` can be written — checked before any work, so a bad
    output path costs nothing and leaves nothing half-written. ``replaced``: the file is written
    beside and renamed over ``path``, so ``path`` must be a regular file (a device or a pipe
    would be replaced, not written; ``--json /dev/stdout`` stays fine elsewhere)."""
    import os

    path = path.resolve() if path.is_symlink() else path  # written through the link
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise ConfigError(f"Cannot write {what} to '{path}': it is a folder. Name a file.")
    if replaced and path.exists() and not path.is_file():
        raise ConfigError(
            f"Cannot write {what} to '{path}': it is not a regular file. Name a file."
        )
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"Cannot write {what} to '{path}': '{folder}' is a file, not a folder.")
    if not folder.is_dir():
        raise ConfigError(
            f"Cannot write {what} to '{path}': the folder '{folder}' does not exist. Create it "
            "or choose another path."
        )
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ConfigError(
            f"Cannot write {what} to '{path}': permission denied. Choose a writable path."
        )


def check_folder(path: Path, what: str) -> None:
    """Raise ConfigError unless ``path`` is a folder, or one can be created there — checked
    before any work, so nothing is half-written."""
    import os

    if path.exists() and not path.is_dir():
        raise ConfigError(f"Cannot write {what} into '{path}': it is a file. Name a folder.")
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(
            f"Cannot write {what} into '{path}': '{existing}' is a file. Name another folder."
        )
    if not os.access(existing, os.W_OK):
        raise ConfigError(
            f"Cannot write {what} into '{path}': permission denied. Choose a writable folder."
        )


def parse_date(text: str, option: str) -> dt.date:
    """An ISO date from the command line, or a ConfigError naming the option."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{option} must be a date like 2011-02-01. Got {text!r}.") from None


def load_pipeline(path: Path) -> Any:
    """The validated pipeline config at ``path``."""
    from driftloop.config import load_config

    return load_config(path)
