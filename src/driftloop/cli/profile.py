"""``driftloop profile build``: a reference profile from files, URLs or SQL, out of core."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from driftloop.cli.common import check_writable, out, parse_date, progress_bar, user_errors
from driftloop.errors import ConfigError


class Engine(StrEnum):
    LOCAL = "local"
    SPARK = "spark"


profile_app = typer.Typer(rich_markup_mode=None, help="Reference profiles (mergeable summaries).")


@profile_app.command("build")
def build(
    source: Annotated[
        str,
        typer.Argument(
            help="A Parquet or CSV file, glob, folder or http(s)/s3 URL; or a database URL "
            "(with --table or --query; ${ENV} references allowed)."
        ),
    ],
    out_path: Annotated[Path, typer.Option("--out", help="The profile file to write.")],
    date_column: Annotated[
        str | None, typer.Option("--date-column", help="Column the window filters.")
    ] = None,
    start: Annotated[str | None, typer.Option(help="First day YYYY-MM-DD (inclusive).")] = None,
    end: Annotated[str | None, typer.Option(help="Last day YYYY-MM-DD (exclusive).")] = None,
    table: Annotated[
        str | None, typer.Option(help="The table to profile (a database SOURCE).")
    ] = None,
    query: Annotated[
        str | None, typer.Option(help="The SELECT to profile (a database SOURCE).")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="Processes profiling in parallel (default: the usable cores)."),
    ] = None,
    engine: Annotated[
        Engine, typer.Option(help="local: batches on this machine; spark: on a Spark cluster.")
    ] = Engine.LOCAL,
) -> None:
    """Profile SOURCE batch by batch into a profile file that `driftloop detect` reads."""
    from driftloop.profiles.fileformat import save_profile
    from driftloop.profiles.reading import profile_source
    from driftloop.profiles.sqlsource import expand_env

    with user_errors():
        check_writable(out_path, "the profile")
        source = expand_env(source)
        first = parse_date(start, "--start") if start else None
        last = parse_date(end, "--end") if end else None
        if engine is Engine.SPARK and (table or query):
            raise ConfigError(
                "--table and --query read a database with --engine local; with --engine spark "
                "pass the table's name as SOURCE."
            )
        if engine is Engine.SPARK:
            from driftloop.spark import profile_source as spark_profile

            result = spark_profile(source, date_column=date_column, start=first, end=last)
        else:
            with progress_bar("profiling rows") as progress:
                result = profile_source(
                    source,
                    table=table,
                    query=query,
                    date_column=date_column,
                    start=first,
                    end=last,
                    workers=workers,
                    progress=progress,
                )
        save_profile(result, out_path)
    size = out_path.stat().st_size
    out.print(
        f"profile: {result.height:,} rows x {len(result.columns)} columns -> {out_path} "
        f"({size / 1024:.0f} kB)",
        markup=False,
    )
