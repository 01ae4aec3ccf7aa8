"""The loop: demo, run, runs, step, calibrate."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from driftloop.cli.common import (
    EXIT_ERROR,
    ConfigOption,
    check_folder,
    err,
    load_pipeline,
    out,
    parse_date,
    progress_bar,
    user_errors,
)
from driftloop.errors import ConfigError
from driftloop.pipeline.steps import STEPS

if TYPE_CHECKING:
    from driftloop.config import PipelineConfig
    from driftloop.pipeline.steps import StepResult

Force = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Act on a window an earlier run already decided (retrain, publish, alert again).",
    ),
]


def demo(
    out_dir: Annotated[
        Path, typer.Option("--out", help="Where the warehouse, registry and reports go.")
    ] = Path(".driftloop/demo"),
) -> None:
    """Run the whole loop on synthetic bike-sharing data: 2011 monthly, then a concept shift."""
    from driftloop.demo import run_demo

    with user_errors():
        check_folder(out_dir, "the demo")
        outcomes = run_demo(out_dir, console=out)
    if any(o.status == "failed" for o in outcomes):
        raise typer.Exit(EXIT_ERROR)


def run(
    config: ConfigOption,
    start: Annotated[str | None, typer.Option(help="Window start YYYY-MM-DD (inclusive).")] = None,
    end: Annotated[str | None, typer.Option(help="Window end YYYY-MM-DD (inclusive).")] = None,
    resume: Annotated[
        str | None, typer.Option(help="Continue this failed run from its failed step.")
    ] = None,
    trigger: Annotated[
        str, typer.Option(help="Recorded trigger: manual, cron or webhook.")
    ] = "manual",
    rebuild_profile: Annotated[
        bool,
        typer.Option(
            "--rebuild-profile",
            help="Rebuild the stored reference profile (reference.profile) from its source.",
        ),
    ] = False,
    force: Force = False,
) -> None:
    """Run the loop once: fetch, detect, append; on drift retrain, publish, alert."""
    from driftloop.pipeline.runner import Runner

    marks = {
        "done": "[green]✓[/]",
        "skipped": "[dim]-[/]",
        "failed": "[red]✗[/]",
        "empty": "[yellow]∅[/]",
    }

    def show(name: str, status: str, result: StepResult) -> None:
        detail = result.summary()
        out.print(f"  {marks.get(status, '?')} {name:<16} {detail}", soft_wrap=True)

    with user_errors():
        if trigger not in ("manual", "cron", "webhook"):
            raise ConfigError(f"--trigger must be manual, cron or webhook. Got {trigger!r}.")
        cfg = load_pipeline(config)
        first = parse_date(start, "--start") if start else None
        last = parse_date(end, "--end") if end else None
        if (first is None) != (last is None):
            raise ConfigError("Pass both --start and --end, or neither.")
        runner = Runner(cfg, printer=lambda text: out.print(text, markup=False, style="yellow"))
        _check_rebuild(rebuild_profile, cfg, "fetch_reference")
        outcome = runner.run(
            start=first,
            end=last,
            trigger=trigger,
            resume=resume,
            on_step=show,
            rebuild_profile=rebuild_profile,
            force=force,
        )
    out.print(
        f"run {outcome.run_id}: {outcome.status} ({outcome.window[0]} to {outcome.window[1]})"
    )
    if outcome.status == "failed":
        err.print(
            f"[bold red]error:[/] {escape(str(outcome.error or '').rstrip('.'))}. "
            f"Resume with: driftloop run --config {config} --resume {outcome.run_id}",
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_ERROR)


def runs(
    config: ConfigOption,
    run_id: Annotated[str | None, typer.Argument(help="Show this run with its steps.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    limit: Annotated[int, typer.Option(help="How many runs.")] = 20,
) -> None:
    """List the pipeline's runs (or show one)."""
    import json as _json

    from driftloop.pipeline.records import RunStore

    with user_errors():
        if limit < 1:
            raise ConfigError(f"--limit must be at least 1. Got {limit}.")
        cfg = load_pipeline(config)
        store = RunStore(cfg.stores.warehouse.get_secret_value())
        if run_id is not None:
            record = store.run(run_id)
            if record is None:
                raise ConfigError(
                    f"No run '{run_id}'. List runs with: driftloop runs --config {config}."
                )
            out.print_json(_json.dumps(record, default=str))
            return
        records = store.runs(cfg.pipeline, limit)
    if as_json:
        out.print_json(_json.dumps(records, default=str))
        return
    table = Table(show_edge=False, header_style="bold")
    longest = max((len(r["run_id"]) for r in records), default=3)
    table.add_column("run", no_wrap=True, min_width=longest)  # ids are copied: never cut them
    for column in ("trigger", "window", "status", "drift"):
        table.add_column(column, no_wrap=True)
    table.add_column("model", overflow="fold")
    for r in records:
        verdict = r.get("verdict") or {}
        drift = ("yes" if verdict.get("dataset_drift") else "no") if verdict else "-"
        window = f"{r['window_start']}..{r['window_end']}"
        table.add_row(
            r["run_id"],
            r["trigger"],
            window,
            r["status"],
            drift,
            str(r.get("model_outcome") or "")[:60],
        )
    out.print(table)


def step(
    name: Annotated[str, typer.Argument(help=", ".join(s.name for s in STEPS))],
    config: ConfigOption,
    run_id: Annotated[
        str | None, typer.Option("--run-id", help="The run this step belongs to.")
    ] = None,
    start: Annotated[str | None, typer.Option(help="Window start (new runs).")] = None,
    end: Annotated[str | None, typer.Option(help="Window end (new runs).")] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Without --start/--end: the scheduled date (or ISO date-time) whose window "
            "to check, as a scheduled run on that date would (new runs; default today).",
        ),
    ] = None,
    rebuild_profile: Annotated[
        bool,
        typer.Option(
            "--rebuild-profile",
            help="fetch_reference: rebuild the stored reference profile from its source.",
        ),
    ] = False,
    force: Force = False,
) -> None:
    """Run one step and print its result as JSON (and Kestra outputs under Kestra)."""
    import json as _json
    import os

    from driftloop.pipeline.runner import default_window
    from driftloop.pipeline.single import run_step

    with user_errors():
        cfg = load_pipeline(config)
        first = parse_date(start, "--start") if start and start.strip() else None
        last = parse_date(end, "--end") if end and end.strip() else None
        if (first is None) != (last is None):
            raise ConfigError("Pass both --start and --end, or neither.")
        if first is None and as_of and as_of.strip():
            first, last = default_window(cfg, today=_as_of_date(as_of.strip()))
        _check_rebuild(rebuild_profile, cfg, name)
        run, status, result = run_step(
            cfg,
            name,
            run_id=run_id,
            start=first,
            end=last,
            rebuild_profile=rebuild_profile,
            force=force,
        )
    fields = {"status": status, **result.to_dict()}
    print(_json.dumps({"run_id": run, "step": name, **fields}, default=str))
    if any(key.startswith("KESTRA_") for key in os.environ):
        outputs = kestra_outputs(run, fields)
        print("::" + _json.dumps({"outputs": outputs}, default=str) + "::")
    if status == "failed":
        cause = escape(result.summary())  # a cause may hold [brackets]: not markup
        err.print(
            f"[bold red]error:[/] step {name} of run {run} failed: {cause}. Re-run it with: "
            f"driftloop step {name} --config {config} --run-id {run}",
            soft_wrap=True,
            markup=True,
        )
        raise typer.Exit(EXIT_ERROR)


def _check_rebuild(rebuild_profile: bool, cfg: PipelineConfig, step: str) -> None:
    if not rebuild_profile:
        return
    if not cfg.reference.stored_profile:
        raise ConfigError(
            "--rebuild-profile rebuilds a stored reference profile, and this pipeline has "
            "none: set reference.profile next to reference.uri or reference.url."
        )
    if step != "fetch_reference":
        raise ConfigError(
            f"--rebuild-profile is read by step fetch_reference, not {step}: pass it to "
            "driftloop step fetch_reference."
        )


def _as_of_date(text: str) -> dt.date:
    """The calendar date of ``2011-02-07`` or ``2011-02-07T11:00:00+01:00`` (Kestra's
    ``trigger.date``, in the schedule's timezone), as written."""
    try:
        if len(text) > 10 and text[10] not in "T ":
            raise ValueError(text)
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise ConfigError(
            "--as-of must be a date like 2011-02-07 or a date-time like 2011-02-07T11:00:00Z. "
            f"Got {text!r}."
        ) from None


def kestra_outputs(run_id: str, result: dict[str, Any]) -> dict[str, Any]:
    """A step's scalar results for Kestra; its own ``run_id`` (retrain's is MLflow's) becomes
    ``mlflow_run_id`` so that ``run_id`` is always driftloop's.

    Examples
    --------
    >>> kestra_outputs("r1", {"run_id": "abc", "promoted": True, "files": []})
    {'mlflow_run_id': 'abc', 'promoted': True, 'run_id': 'r1'}
    """
    scalars = {
        ("mlflow_run_id" if key == "run_id" else key): value
        for key, value in result.items()
        if isinstance(value, bool | int | float | str)
    }
    return {**scalars, "run_id": run_id}


def calibrate(
    config: ConfigOption,
    window_rows: Annotated[
        int | None, typer.Option(help="Rows per window (default: past windows' median).")
    ] = None,
    false_alarms: Annotated[float, typer.Option(help="False alarms allowed ...")] = 1.0,
    per_windows: Annotated[
        int, typer.Option(help="... per this many windows (13: a quarter of weeks).")
    ] = 13,
    simulations: Annotated[int, typer.Option(help="No-drift windows to simulate.")] = 500,
    history: Annotated[
        bool, typer.Option(help="Also resample past windows, not only the reference.")
    ] = False,
    write: Annotated[
        bool, typer.Option("--write", help="Write the proposed thresholds into the config.")
    ] = False,
) -> None:
    """Propose thresholds for a target false-alarm rate and replay past windows with them."""
    from driftloop.pipeline.calibration import run_calibration, write_thresholds

    with user_errors():
        if per_windows < 1:
            raise ConfigError(f"--per-windows must be at least 1. Got {per_windows}.")
        if not 0 < false_alarms <= per_windows:
            raise ConfigError(f"--false-alarms must be in (0, --per-windows]. Got {false_alarms}.")
        if window_rows is not None and window_rows < 3:
            raise ConfigError(f"--window-rows must be at least 3. Got {window_rows}.")
        if simulations < 20:
            raise ConfigError(f"--simulations must be at least 20. Got {simulations}.")
        cfg = load_pipeline(config)
        with progress_bar("simulating no-drift windows") as progress:
            result = run_calibration(
                cfg,
                window_rows=window_rows,
                target_rate=false_alarms / per_windows,
                simulations=simulations,
                use_history=history,
                progress=progress,
            )
    c = result.calibration
    table = Table(show_edge=False, header_style="bold")
    for column in ("feature", "method", "current", "false alarms", "proposed", "false alarms"):
        table.add_column(column)
    for col in c.columns:
        table.add_row(
            col.name,
            col.method,
            f"{col.current_threshold:.4g}",
            f"{col.current_rate:.1%}",
            f"{col.proposed_threshold:.4g}" if col.calibrated else col.note,
            f"{col.proposed_rate:.1%}",
        )
    out.print(table)
    out.print(
        f"per window of {c.window_rows} rows, measured on held-out simulations: any-feature "
        "false alarms "
        f"{c.any_rate_current:.1%} now, "
        f"{c.any_rate_proposed:.1%} proposed (target {c.target_rate:.1%}); dataset drift "
        f"{c.dataset_rate_current:.1%} now, {c.dataset_rate_proposed:.1%} proposed"
    )
    for r in result.replay:
        if r["skipped"]:
            out.print(f"  {r['window_start']}..{r['window_end']}  skipped: {r['skipped']}")
            continue
        now = "DRIFT" if r["current_dataset_drift"] else "-"
        new = "DRIFT" if r["proposed_dataset_drift"] else "-"
        out.print(
            f"  {r['window_start']}..{r['window_end']}  now {now:<5} proposed {new:<5} "
            f"({len(r['current_drifted'])} -> {len(r['proposed_drifted'])} features)"
        )
    out.print(f"report: {result.report_html}")
    if write:
        backup = write_thresholds(config, c)
        out.print(f"wrote the proposed thresholds into {config} (previous version: {backup})")
