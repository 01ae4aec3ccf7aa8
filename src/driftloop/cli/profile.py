"""``driftloop profile build``: a reference profile from files, URLs or SQL, out of core."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from driftloop.cli.common import check_writable, out, parse_date, progress_bar, user_errors
from driftloop.errors import ConfigError
from driftloop.profiles.rowsample import SAMPLE_ROWS


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
    sample_rows: Annotated[
        int,
        typer.Option(
            "--sample-rows",
            min=0,
            max=SAMPLE_ROWS,
            help="Whole rows kept as a uniform sample, for multivariate, embedding and text "
            "checks (0: none).",
        ),
    ] = SAMPLE_ROWS,
    segment_by: Annotated[
        list[str] | None,
        typer.Option(
            "--segment-by",
            help="A column whose every value keeps a profile of its own rows, for "
            "detection.segments (repeat for more columns; at most 100 values each).",
        ),
    ] = None,
) -> None:
    """Profile SOURCE batch by batch into a profile file that `driftloop detect` reads."""
    from driftloop.profiles.fileformat import save_profile
    from driftloop.profiles.options import ProfileOptions
    from driftloop.profiles.reading import profile_source
    from driftloop.profiles.sqlsource import expand_env

    with user_errors():
        options = ProfileOptions(sample_rows, tuple(segment_by or ()))
        check_writable(out_path, "the profile", replaced=True)
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

            result = spark_profile(
                source, date_column=date_column, start=first, end=last, options=options
            )
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
                    options=options,
                )
        save_profile(result, out_path)
    size = out_path.stat().st_size
    segments = "".join(
        f"; {len(values)} segments of {column}" for column, values in result.segments.items()
    )
    out.print(
        f"profile: {result.height:,} rows x {len(result.columns)} columns{segments} -> "
        f"{out_path} ({size / 1024:.0f} kB)",
        markup=False,
    )


@profile_app.command("show")
def show(
    path: Annotated[Path, typer.Argument(help="A profile file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """What a profile holds: its rows, how it was built and, per column, its summary."""
    import json

    from driftloop.profiles.description import describe
    from driftloop.profiles.fileformat import file_metadata, load_profile

    with user_errors():
        described = describe(load_profile(path)) | file_metadata(path)
    if as_json:
        print(json.dumps(described, default=str))
        return
    _print_description(path, described)


def _print_description(path: Path, described: dict[str, Any]) -> None:
    from rich.table import Table

    meta = described.get("profile", {})
    out.print(
        f"{path}: {described['rows']:,} rows x {len(described['columns'])} columns "
        f"({path.stat().st_size / 1024:.0f} kB; format {meta.get('format')}, written by "
        f"driftloop {meta.get('driftloop', '?')})",
        markup=False,
    )
    if "fingerprint" in described:
        shown = ", ".join(f"{k} {v}" for k, v in described["fingerprint"].items() if v is not None)
        out.print(f"source fingerprint: {shown}", markup=False, soft_wrap=True)
    table = Table("column", "dtype", "nulls", "kept", "summary", box=None)
    for c in described["columns"]:
        table.add_row(
            c["name"], c["dtype"], f"{c['nulls']:,}", c["kept"], _summary_text(c["summary"])
        )
    out.print(table)


def _summary_text(summary: dict[str, Any]) -> str:
    if "top" in summary and not summary["categories"]:
        return "no values"
    if "top" in summary:
        top = ", ".join(f"{label} {count:,}" for label, count in summary["top"])
        more = f" (+{summary['other']:,} in other)" if summary["other"] else ""
        return f"{summary['categories']} categories{more}; top: {top}"
    if "mean" in summary:
        keys = ("min", "p1", "p50", "p99", "max", "mean", "std")
        return "  ".join(f"{k} {summary[k]:.4g}" for k in keys)
    return ""


@profile_app.command("merge")
def merge_cmd(
    paths: Annotated[list[Path], typer.Argument(help="Profile files, merged in this order.")],
    out_path: Annotated[Path, typer.Option("--out", help="The merged profile file to write.")],
) -> None:
    """Merge profiles of parts of a dataset (days, partitions) into the profile of the whole."""
    from functools import reduce

    from driftloop.profiles.dataset import merge
    from driftloop.profiles.fileformat import load_profile, save_profile

    with user_errors():
        if len(paths) < 2:
            raise ConfigError(f"Pass two or more profile files to merge; got {len(paths)}.")
        seen = [p.resolve() for p in paths]
        twice = next((p for i, p in enumerate(paths) if seen[i] in seen[:i]), None)
        if twice is not None:
            raise ConfigError(
                f"Profile file {twice} is named twice: its rows would count twice. Name each "
                "part once."
            )
        check_writable(out_path, "the merged profile", replaced=True)
        merged = reduce(merge, (load_profile(p) for p in paths))
        save_profile(merged, out_path)
    out.print(
        f"profile: {merged.height:,} rows x {len(merged.columns)} columns from {len(paths)} "
        f"files -> {out_path}",
        markup=False,
    )
