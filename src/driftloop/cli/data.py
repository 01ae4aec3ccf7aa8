"""Loading data: the warehouse (seed, append) and feedback (predictions, outcomes)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from driftloop.cli.common import (
    ConfigOption,
    load_pipeline,
    out,
    parse_date,
    user_errors,
)
from driftloop.data.identifiers import check_name
from driftloop.errors import ConfigError

warehouse_app = typer.Typer(
    rich_markup_mode=None, help="Load data into the warehouse (PostgreSQL or SQLite)."
)

UrlOption = Annotated[
    str,
    typer.Option(
        "--url",
        envvar="DRIFTLOOP_WAREHOUSE_URL",
        help="SQLAlchemy URL (or env DRIFTLOOP_WAREHOUSE_URL), e.g. postgresql://user@host/db.",
    ),
]


@warehouse_app.command("seed")
def warehouse_seed(
    source: Annotated[str, typer.Argument(help="CSV/Parquet file or URL to load.")],
    url: UrlOption,
    table: Annotated[str, typer.Option(help="Table to create.")] = "reference",
    if_exists: Annotated[
        str, typer.Option(help="When the table exists: fail, replace or append.")
    ] = "fail",
    date_column: Annotated[
        str | None, typer.Option(help="Keep only rows from --start to --end on this column.")
    ] = None,
    start: Annotated[str | None, typer.Option(help="First day, YYYY-MM-DD (inclusive).")] = None,
    end: Annotated[str | None, typer.Option(help="Last day, YYYY-MM-DD (inclusive).")] = None,
) -> None:
    """Create the reference table from a file (optionally one period of it), in one transaction."""
    from driftloop.data.sources import read_table
    from driftloop.data.sql import redact_url
    from driftloop.data.warehouse import Warehouse

    with user_errors():
        if if_exists not in ("fail", "replace", "append"):
            raise ConfigError(f"--if-exists must be fail, replace or append. Got {if_exists!r}.")
        if (start is not None or end is not None) and date_column is None:
            raise ConfigError("--start and --end need the --date-column they apply to.")
        first = parse_date(start, "--start") if start else None
        last = parse_date(end, "--end") if end else None
        frame = read_table(source, date_column=date_column, start=first, end=last)
        rows = Warehouse(url).seed(frame, table=table, if_exists=if_exists)  # type: ignore[arg-type]
    out.print(f"seeded {rows:,} rows into table '{table}' at {redact_url(url)}")


@warehouse_app.command("append")
def warehouse_append(
    source: Annotated[str, typer.Argument(help="CSV/Parquet file or URL holding the window.")],
    url: UrlOption,
    pipeline: Annotated[str, typer.Option(help="Pipeline name (part of the append key).")],
    start: Annotated[str, typer.Option(help="Window start, YYYY-MM-DD (inclusive).")],
    end: Annotated[str, typer.Option(help="Window end, YYYY-MM-DD (inclusive).")],
    date_column: Annotated[
        str | None, typer.Option(help="Keep only rows of the window on this column.")
    ] = None,
    table: Annotated[str, typer.Option(help="Table to append to.")] = "current",
    on_conflict: Annotated[
        str, typer.Option(help="When the window was loaded before: replace or skip.")
    ] = "replace",
    whole_file: Annotated[
        bool, typer.Option("--whole-file", help="Store every row of SOURCE under the window.")
    ] = False,
) -> None:
    """Append one window of rows exactly once (re-running replaces or skips, never duplicates)."""
    from driftloop.data.sources import read_table
    from driftloop.data.warehouse import Warehouse

    with user_errors():
        first, last = parse_date(start, "--start"), parse_date(end, "--end")
        check_name(pipeline, "pipeline", "--pipeline")
        if on_conflict not in ("replace", "skip"):
            raise ConfigError(f"--on-conflict must be replace or skip. Got {on_conflict!r}.")
        if (date_column is None) == (not whole_file):
            raise ConfigError(
                "Pass --date-column so only the window's rows are stored, or --whole-file to "
                "store every row of the file under this window (one of them, not both)."
            )
        frame = read_table(source, date_column=date_column, start=first, end=last)
        result = Warehouse(url).append(
            frame,
            pipeline=pipeline,
            window_start=first,
            window_end=last,
            table=table,
            on_conflict=on_conflict,  # type: ignore[arg-type]
        )
    out.print_json(data=result.to_dict())


feedback_app = typer.Typer(
    rich_markup_mode=None, help="Record predictions and outcomes for concept-drift monitoring."
)


def _columns(frame: Any, mapping: dict[str, str | None], source: str) -> Any:
    missing = [c for c in mapping.values() if c is not None and c not in frame.columns]
    if missing:
        raise ConfigError(
            f"Column '{missing[0]}' is not in {source} (columns: {', '.join(frame.columns[:12])}). "
            "Name the right one with its --...-column option."
        )
    return frame.select([frame[c].alias(k) for k, c in mapping.items() if c is not None])


@feedback_app.command("predictions")
def feedback_predictions(
    source: Annotated[str, typer.Argument(help="CSV/Parquet file or URL of predictions.")],
    config: ConfigOption,
    id_column: Annotated[str, typer.Option(help="Column with the prediction id.")] = "id",
    prediction_column: Annotated[
        str, typer.Option(help="Column with the prediction.")
    ] = "prediction",
    timestamp_column: Annotated[str | None, typer.Option(help="Column with the time.")] = "ts",
    model_version_column: Annotated[
        str | None, typer.Option(help="Column with the model version.")
    ] = None,
) -> None:
    """Load predictions (id, timestamp, model version, prediction) into the warehouse."""
    from driftloop.data.predictions import PredictionStore
    from driftloop.data.sources import read_table

    with user_errors():
        cfg = load_pipeline(config)
        frame = read_table(source)
        mapping = {
            "id": id_column,
            "prediction": prediction_column,
            "ts": timestamp_column,
            "model_version": model_version_column,
        }
        rows = _columns(frame, mapping, source)
        if rows.height == 0:
            raise ConfigError(f"'{source}' has no predictions (no rows). Check the file.")
        count = PredictionStore(cfg.stores.warehouse.get_secret_value()).log_predictions(
            cfg.pipeline, rows
        )
    out.print(f"recorded {count:,} predictions for '{cfg.pipeline}'")


@feedback_app.command("outcomes")
def feedback_outcomes(
    source: Annotated[str, typer.Argument(help="CSV/Parquet file or URL of outcomes.")],
    config: ConfigOption,
    id_column: Annotated[str, typer.Option(help="Column with the prediction id.")] = "id",
    actual_column: Annotated[
        str, typer.Option(help="Column with the observed outcome.")
    ] = "actual",
) -> None:
    """Load outcomes (id, actual) into the warehouse."""
    from driftloop.data.predictions import PredictionStore
    from driftloop.data.sources import read_table

    with user_errors():
        cfg = load_pipeline(config)
        rows = _columns(read_table(source), {"id": id_column, "actual": actual_column}, source)
        if rows.height == 0:
            raise ConfigError(f"'{source}' has no outcomes (no rows). Check the file.")
        count = PredictionStore(cfg.stores.warehouse.get_secret_value()).log_outcomes(
            cfg.pipeline, rows
        )
    out.print(f"recorded {count:,} outcomes for '{cfg.pipeline}'")
