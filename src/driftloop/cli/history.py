"""Drift over time: ``backfill`` and ``history import``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from driftloop.cli.common import (
    EXIT_ERROR,
    ConfigOption,
    err,
    load_pipeline,
    out,
    parse_date,
    progress_bar,
    user_errors,
)

history_app = typer.Typer(rich_markup_mode=None, help="The drift history of a pipeline.")


def backfill(
    config: ConfigOption,
    first: Annotated[str, typer.Option("--from", help="First window's start YYYY-MM-DD.")],
    last: Annotated[str, typer.Option("--to", help="Last day a window may end on YYYY-MM-DD.")],
    every: Annotated[str, typer.Option(help="Window length: 7d, 2w, 1mo...")] = "7d",
    actions: Annotated[
        bool, typer.Option("--actions", help="Run the whole loop: append, retrain, alert.")
    ] = False,
) -> None:
    """Run detection (and the concept check) over past windows, in order; resumable."""
    from driftloop.pipeline.backfill import backfill as run_backfill
    from driftloop.pipeline.backfill import windows

    with user_errors():
        cfg = load_pipeline(config)
        planned = windows(parse_date(first, "--from"), parse_date(last, "--to"), every)
        try:
            with progress_bar(f"backfill {cfg.pipeline}") as progress:
                result = run_backfill(
                    cfg,
                    planned,
                    actions=actions,
                    progress=progress,
                    printer=lambda text: err.print(text, markup=False, style="yellow"),
                    on_window=lambda window: out.print(window.line(), markup=False, soft_wrap=True),
                )
        except KeyboardInterrupt:
            err.print("backfill interrupted: run the same command again to continue it")
            raise typer.Exit(130) from None
    counts = ", ".join(
        f"{result.count(s)} {s}" for s in ("succeeded", "empty", "skipped") if result.count(s)
    )
    resumed = sum(1 for w in result.windows if w.resumed)
    out.print(
        f"backfill {cfg.pipeline}: {len(result.windows)} of {len(planned)} windows ({counts})"
        + (f", {resumed} resumed" if resumed else "")
    )
    stopped = result.stopped
    if stopped is not None:
        err.print(
            f"[bold red]error:[/] window {stopped.start}..{stopped.end} {stopped.status} "
            f"(run {stopped.run_id}; see: driftloop runs --config {config} {stopped.run_id}). "
            "Run the same backfill again to resume it.",
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_ERROR)


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
