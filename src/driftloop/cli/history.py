"""Drift over time: ``history import``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from driftloop.cli.common import (
    ConfigOption,
    load_pipeline,
    out,
    user_errors,
)

history_app = typer.Typer(rich_markup_mode=None, help="The drift history of a pipeline.")


@history_app.command("import")
def import_cmd(
    config: ConfigOption,
    folder: Annotated[
        Path | None,
        typer.Argument(help="Folder of START_END_RUNID.json reports (default: the pipeline's)."),
    ] = None,
) -> None:
    """Import the JSON drift reports of earlier runs into the history tables."""
    from driftloop.history.reports import import_reports
    from driftloop.history.store import HistoryStore

    with user_errors():
        cfg = load_pipeline(config)
        source = folder if folder is not None else Path(cfg.stores.reports) / cfg.pipeline
        store = HistoryStore(cfg.stores.warehouse.get_secret_value())
        result = import_reports(store, cfg.pipeline, source)
    out.print(
        f"{result.imported} runs imported, {result.already} already in the history"
        + (f"; ignored {len(result.ignored)} other files" if result.ignored else "")
    )
