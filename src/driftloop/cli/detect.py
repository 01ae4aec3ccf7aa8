"""``driftloop detect``: compare two files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from driftloop.cli.common import (
    EXIT_DRIFT,
    check_writable,
    err,
    out,
    progress_bar,
    user_errors,
)
from driftloop.errors import ConfigError

_PROGRESS_MIN_CELLS = 5_000_000  # below this a check takes about a second: no bar


def detect(
    reference: Annotated[str, typer.Argument(help="Reference CSV/Parquet file or URL.")],
    current: Annotated[str, typer.Argument(help="Current CSV/Parquet file or URL.")],
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Write the JSON report here.")
    ] = None,
    html_path: Annotated[
        Path | None, typer.Option("--html", help="Write the HTML report here.")
    ] = None,
    columns: Annotated[
        str | None, typer.Option("--columns", help="Comma-separated columns to compare.")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="YAML with detection settings (or a 'detection:' section)."),
    ] = None,
    fail_on_drift: Annotated[
        bool, typer.Option("--fail-on-drift", help="Exit 1 when the dataset drifted.")
    ] = False,
) -> None:
    """Compare CURRENT against REFERENCE: per-feature drift, dataset verdict, degradation."""
    from driftloop.config import read_yaml
    from driftloop.data.sources import safe_uri
    from driftloop.profiles.detection import detect as run_detect

    with user_errors():
        for path, what in ((json_path, "JSON"), (html_path, "HTML")):
            if path is not None:
                check_writable(path, f"the {what} report")
        if (
            json_path is not None
            and html_path is not None
            and json_path.resolve() == (html_path.resolve())
        ):
            raise ConfigError(f"--json and --html name the same file '{json_path}'. Use two.")
        settings, performance = None, None
        if config is not None:
            raw = read_yaml(config)
            performance = _performance_settings(raw.pop("performance", None), config)
            settings = raw.get("detection", raw)
        names = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
        if columns is not None and not names:
            raise ConfigError(
                f"--columns names no column. Got {columns!r}; e.g. --columns temp,hum."
            )
        ref, cur = _read_side(reference), _read_side(current)
        for frame, source, side in ((ref, reference, "reference"), (cur, current, "current")):
            if frame.height == 0:
                raise ConfigError(f"The {side} file '{safe_uri(source)}' has no rows. Pass data.")
        cells = (ref.height + cur.height) * len(names or ref.columns)
        with progress_bar("comparing columns", show=cells >= _PROGRESS_MIN_CELLS) as progress:
            report = run_detect(ref, cur, columns=names, config=settings, progress=progress)
        if performance is not None:
            report = _with_performance(report, ref, cur, performance)
        _check_something_compared(report)
        _warn_few_rows(((ref, reference, "reference"), (cur, current, "current")))
        if json_path:
            report.to_json(json_path)
        if html_path:
            # the name only: a URL's user, password and query string stay out of the report
            shown = safe_uri(current).rstrip("/").rsplit("/", 1)[-1] or safe_uri(current)
            report.to_html(html_path, title=f"Drift report: {shown}")
    print_report(report)
    if report.performance is not None:
        e = report.performance
        verdict = "[red]BELOW the reference[/]" if e["alert"] else "as the reference"
        out.print(
            f"estimated {e['metric']} {e['value']:.3f} (95% {e['lower']:.3f}-{e['upper']:.3f}; "
            f"reference {e['reference_value']:.3f}): {verdict}"
        )
    if json_path:
        out.print(f"JSON report: {json_path}")
    if html_path:
        out.print(f"HTML report: {html_path}")
    if fail_on_drift and report.dataset_drift:
        raise typer.Exit(EXIT_DRIFT)


_FEW_ROWS = 5  # fewer rows on a side than this: a warning


def _warn_few_rows(sides: tuple[tuple[Any, str, str], ...]) -> None:
    """A side of a handful of rows is compared, with a warning (after any error: one line)."""
    from driftloop.data.sources import safe_uri

    for frame, source, side in sides:
        if frame.height < _FEW_ROWS:
            err.print(
                f"[yellow]warning:[/] the {side} file '{safe_uri(source)}' has only "
                f"{frame.height} row(s): no test can tell drift from chance on so few. Pass a "
                "longer window.",
                soft_wrap=True,
            )


def _check_something_compared(report: Any) -> None:
    """A comparison of no feature is no verdict (``0/0 features``): one line, exit 2."""
    if report.n_tested > 0 or report.multivariate:
        return
    why = "; ".join(f"{e.name}: {e.reason}" for e in report.excluded) or "no column"
    raise ConfigError(
        f"No feature could be compared ({why}). Fix those columns or pass --columns with "
        "columns both sides share."
    )


def _performance_settings(section: Any, path: Path) -> Any:
    """The config's ``performance:`` section, validated (None without one)."""
    if section is None:
        return None
    from pydantic import ValidationError

    from driftloop.drift.performance import PerformanceSettings
    from driftloop.drift.settings import describe_validation_error

    try:
        return PerformanceSettings.model_validate(section)
    except ValidationError as err:
        raise ConfigError(f"{path}: {describe_validation_error(err, 'performance')}") from None


def _with_performance(report: Any, ref: Any, cur: Any, settings: Any) -> Any:
    """The report with the window's estimated performance (``performance`` in the JSON)."""
    from dataclasses import replace

    from driftloop.drift.performance import estimate_performance

    estimate = estimate_performance(
        ref,
        cur,
        target=settings.target,
        score=settings.score,
        metric=settings.metric,
        alpha=settings.alpha,
        confidence=settings.confidence,
    )
    return replace(report, performance=estimate.to_dict())


def _read_side(source: str) -> Any:
    """A profile file (recognised by its content) or a data file, URL or glob's table."""
    from driftloop.data.sources import read_table
    from driftloop.profiles.fileformat import is_profile, load_profile

    path = Path(source)
    if "://" not in source and path.suffix == ".profile":  # named a profile: read as one
        if path.is_dir():
            raise ConfigError(
                f"'{source}' is a folder, not a profile file. Pass the file `driftloop profile "
                "build SOURCE --out FILE` wrote."
            )
        return load_profile(source)  # a missing or foreign file says so in one line
    if path.is_file() and is_profile(source):
        return load_profile(source)
    return read_table(source)


def print_report(report: Any) -> None:
    """A readable table of a DriftReport on stdout."""
    from driftloop.report.format import fmt_number, fmt_p

    table = Table(title=None, show_edge=False, header_style="bold")
    for name in ("feature", "kind", "method", "statistic", "p-value", "threshold", "drifted"):
        justify = "right" if name in ("statistic", "p-value", "threshold") else "left"
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for c in report.columns:
        drifted = "[red]yes[/]" if c.drifted else ("skipped" if c.skipped else "no")
        table.add_row(
            c.name,
            c.kind,
            c.method,
            fmt_number(c.statistic),
            fmt_p(c.p_value),
            fmt_number(c.threshold),
            drifted,
        )
    out.print(table)
    for e in report.excluded:
        out.print(f"[dim]not tested: {e.name} ({e.kind}): {e.reason}[/]")
    for a in report.degradation:
        out.print(f"[yellow]degradation[/] {a.feature} {a.kind}: {a.message}", soft_wrap=True)
    verdict = (
        "[bold red]DATASET DRIFT[/]" if report.dataset_drift else "[bold green]no dataset drift[/]"
    )
    out.print(
        f"{verdict}: {len(report.drifted_columns)}/{report.n_tested} features drifted "
        f"({report.share_drifted:.0%}, threshold {report.drift_share:.0%}); "
        f"{len(report.degradation)} degradation alert(s); {report.seconds:.3f} s"
    )
