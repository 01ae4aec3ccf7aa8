"""The ``driftloop`` command line.

Exit codes: 0 success; 1 drift found with ``--fail-on-drift``; 2 bad input or failure, reported as
one line on stderr (no traceback).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console
from rich.table import Table

from driftloop import __version__
from driftloop.errors import ConfigError, DriftloopError

app = typer.Typer(
    name="driftloop",
    help="Close the loop on model drift: detect, alert, retrain, register, publish.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

EXIT_DRIFT = 1
EXIT_ERROR = 2


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn a DriftloopError into one line on stderr and exit code 2."""
    try:
        yield
    except DriftloopError as e:
        err.print(f"[bold red]error:[/] {e}", soft_wrap=True, markup=True)
        raise typer.Exit(EXIT_ERROR) from None


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


def read_yaml(path: Path) -> dict[str, Any]:
    """A YAML mapping from ``path``, or a ConfigError naming the file and the problem."""
    if not path.is_file():
        raise ConfigError(f"Config file '{path}' does not exist. Check the path.")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(
            f"Config file '{path}' is not valid YAML{where}. Fix its syntax."
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"Config file '{path}' must hold a mapping; got {type(data).__name__}.")
    return data


@app.command()
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
    from driftloop.data.sources import read_table
    from driftloop.drift import detect as run_detect

    with user_errors():
        settings = None
        if config is not None:
            raw = read_yaml(config)
            settings = raw.get("detection", raw)
        names = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
        report = run_detect(
            read_table(reference), read_table(current), columns=names, config=settings
        )
        if json_path:
            report.to_json(json_path)
        if html_path:
            report.to_html(html_path, title=f"Drift report: {Path(current).name}")
    print_report(report)
    if json_path:
        out.print(f"JSON report: {json_path}")
    if html_path:
        out.print(f"HTML report: {html_path}")
    if fail_on_drift and report.dataset_drift:
        raise typer.Exit(EXIT_DRIFT)


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


warehouse_app = typer.Typer(help="Load data into the warehouse (PostgreSQL or SQLite).")
app.add_typer(warehouse_app, name="warehouse")

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
) -> None:
    """Create the reference table from a file, in one transaction."""
    from driftloop.data.sources import read_table
    from driftloop.data.sql import redact_url
    from driftloop.data.warehouse import Warehouse

    with user_errors():
        if if_exists not in ("fail", "replace", "append"):
            raise ConfigError(f"--if-exists must be fail, replace or append. Got {if_exists!r}.")
        rows = Warehouse(url).seed(read_table(source), table=table, if_exists=if_exists)  # type: ignore[arg-type]
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
) -> None:
    """Append one window of rows exactly once (re-running replaces or skips, never duplicates)."""
    from driftloop.data.sources import read_table
    from driftloop.data.warehouse import Warehouse

    with user_errors():
        first, last = parse_date(start, "--start"), parse_date(end, "--end")
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


def parse_date(text: str, option: str) -> dt.date:
    """An ISO date from the command line, or a ConfigError naming the option."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{option} must be a date like 2011-02-01. Got {text!r}.") from None


model_app = typer.Typer(help="Inspect and move registered model versions (MLflow).")
app.add_typer(model_app, name="model")

RegistryOption = Annotated[
    str | None,
    typer.Option(
        "--registry",
        envvar="DRIFTLOOP_MLFLOW_URI",
        help="MLflow tracking/registry URI (default sqlite:///.driftloop/mlflow.db).",
    ),
]


@model_app.command("list")
def model_list(name: str, registry: RegistryOption = None) -> None:
    """Versions of NAME: aliases, status, key metrics, trigger, created."""
    from driftloop.model.registry import Registry

    with user_errors():
        versions = Registry(registry).versions(name)
    table = Table(show_edge=False, header_style="bold")
    for column in ("version", "aliases", "status", "metrics", "trigger", "created"):
        table.add_column(column)
    for v in versions:
        metrics = ", ".join(f"{k}={val:.4g}" for k, val in sorted(v.metrics.items())[:3])
        table.add_row(str(v.version), ",".join(v.aliases), v.status, metrics, v.trigger, v.created)
    out.print(table)


@model_app.command("show")
def model_show(
    ref: Annotated[str, typer.Argument(help="NAME, NAME@ALIAS or NAME/VERSION.")],
    registry: RegistryOption = None,
) -> None:
    """One version's record and its model card."""
    from driftloop.model.registry import Registry

    with user_errors():
        info = Registry(registry).show(ref)
    out.print_json(data=info.to_dict())
    if info.description:
        out.print(info.description, markup=False)


@model_app.command("promote")
def model_promote(name: str, version: int, registry: RegistryOption = None) -> None:
    """Point NAME's production alias at VERSION."""
    from driftloop.model.registry import Registry

    with user_errors():
        previous = Registry(registry).promote(name, version, "promoted by hand")
    out.print(f"{name}: production is now version {version} (was {previous or 'none'})")


@model_app.command("rollback")
def model_rollback(name: str, registry: RegistryOption = None) -> None:
    """Return NAME's production alias to the previous production version."""
    from driftloop.model.registry import Registry

    with user_errors():
        current, target = Registry(registry).rollback(name)
    out.print(f"{name}: production rolled back from version {current} to {target}")


@app.command()
def demo(
    out_dir: Annotated[
        Path, typer.Option("--out", help="Where the warehouse, registry and reports go.")
    ] = Path(".driftloop/demo"),
) -> None:
    """Run the whole loop on synthetic bike-sharing data, one window per month of 2011."""
    from driftloop.demo import run_demo

    with user_errors():
        outcomes = run_demo(out_dir, console=out)
    if any(o.status == "failed" for o in outcomes):
        raise typer.Exit(EXIT_ERROR)


ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="The pipeline's driftloop.yaml.")
]


def _config(path: Path) -> Any:
    from driftloop.config import load_config

    return load_config(path)


@app.command()
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
) -> None:
    """Run the loop once: fetch, detect, append; on drift retrain, publish, alert."""
    from driftloop.pipeline.runner import Runner

    marks = {
        "done": "[green]✓[/]",
        "skipped": "[dim]-[/]",
        "failed": "[red]✗[/]",
        "empty": "[yellow]∅[/]",
    }

    def show(name: str, status: str, result: dict[str, Any] | None) -> None:
        detail = _step_summary(name, status, result or {})
        out.print(f"  {marks.get(status, '?')} {name:<16} {detail}", soft_wrap=True)

    with user_errors():
        cfg = _config(config)
        first = parse_date(start, "--start") if start else None
        last = parse_date(end, "--end") if end else None
        if (first is None) != (last is None):
            raise ConfigError("Pass both --start and --end, or neither.")
        runner = Runner(cfg, printer=lambda text: out.print(text, markup=False, style="yellow"))
        outcome = runner.run(start=first, end=last, trigger=trigger, resume=resume, on_step=show)
    out.print(
        f"run {outcome.run_id}: {outcome.status} ({outcome.window[0]} to {outcome.window[1]})"
    )
    if outcome.status == "failed":
        err.print(
            f"[bold red]error:[/] {outcome.error}. "
            f"Resume with: driftloop run --config {config} --resume {outcome.run_id}",
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_ERROR)


def _step_summary(name: str, status: str, result: dict[str, Any]) -> str:
    if status in ("failed", "empty"):
        return str(result.get("error") or result.get("message"))
    if status == "skipped":
        return str(result.get("skipped", ""))
    if name in ("fetch_reference", "fetch_current"):
        return f"{result.get('rows')} rows"
    if name == "detect":
        verdict = "dataset drift" if result.get("dataset_drift") else "no dataset drift"
        return f"{verdict}; drifted: {', '.join(result.get('drifted', [])) or '-'}"
    if name == "append":
        return f"{result.get('rows')} rows {result.get('action')}"
    if name == "retrain":
        verdict = "promoted" if result.get("promoted") else "rejected"
        return f"v{result.get('version')} {verdict}: {result.get('reason')}"
    if name == "publish":
        return f"v{result.get('version')}: {len(result.get('files', []))} files"
    if name == "alert":
        queued, sent, pending = (result.get(k) for k in ("queued", "sent", "pending"))
        return f"queued {queued}; sent {sent}, pending {pending}"
    return ""


@app.command()
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
        cfg = _config(config)
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
    for column in ("run", "trigger", "window", "status", "drift", "model"):
        table.add_column(column)
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


@app.command()
def step(
    name: Annotated[
        str,
        typer.Argument(
            help="fetch_reference, fetch_current, detect, append, retrain, publish, alert"
        ),
    ],
    config: ConfigOption,
    run_id: Annotated[
        str | None, typer.Option("--run-id", help="The run this step belongs to.")
    ] = None,
    start: Annotated[str | None, typer.Option(help="Window start (new runs).")] = None,
    end: Annotated[str | None, typer.Option(help="Window end (new runs).")] = None,
) -> None:
    """Run one step and print its result as JSON (and Kestra outputs under Kestra)."""
    import json as _json
    import os

    from driftloop.pipeline.single import run_step

    with user_errors():
        cfg = _config(config)
        first = parse_date(start, "--start") if start and start.strip() else None
        last = parse_date(end, "--end") if end and end.strip() else None
        run, result = run_step(cfg, name, run_id=run_id, start=first, end=last)
    payload = {"run_id": run, "step": name, **result}
    print(_json.dumps(payload, default=str))
    if any(key.startswith("KESTRA_") for key in os.environ):
        outputs = {
            "run_id": run,
            **{k: v for k, v in result.items() if isinstance(v, bool | int | float | str)},
        }
        print("::" + _json.dumps({"outputs": outputs}, default=str) + "::")
    if result.get("status") == "failed":
        raise typer.Exit(EXIT_ERROR)


@app.command()
def serve(
    config: Annotated[
        list[Path], typer.Option("--config", "-c", help="Pipeline config (repeatable).")
    ],
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    drain_seconds: Annotated[float, typer.Option(help="Deliver pending alerts this often.")] = 60.0,
) -> None:
    """Run continuously: cron schedules, webhooks, /metrics, /runs, /healthz."""
    import logging

    from driftloop.service.serve import serve as run_server

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    with user_errors():
        configs = [_config(path) for path in config]
        run_server(configs, host=host, port=port, drain_seconds=drain_seconds)


feedback_app = typer.Typer(help="Record predictions and outcomes for concept-drift monitoring.")
app.add_typer(feedback_app, name="feedback")


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
        cfg = _config(config)
        frame = read_table(source)
        mapping = {
            "id": id_column,
            "prediction": prediction_column,
            "ts": timestamp_column,
            "model_version": model_version_column,
        }
        rows = _columns(frame, mapping, source)
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
        cfg = _config(config)
        rows = _columns(read_table(source), {"id": id_column, "actual": actual_column}, source)
        count = PredictionStore(cfg.stores.warehouse.get_secret_value()).log_outcomes(
            cfg.pipeline, rows
        )
    out.print(f"recorded {count:,} outcomes for '{cfg.pipeline}'")


@app.command()
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
        if not 0 < false_alarms <= per_windows:
            raise ConfigError(f"--false-alarms must be in (0, --per-windows]. Got {false_alarms}.")
        cfg = _config(config)
        result = run_calibration(
            cfg,
            window_rows=window_rows,
            target_rate=false_alarms / per_windows,
            simulations=simulations,
            use_history=history,
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
            f"{col.proposed_threshold:.4g}",
            f"{col.proposed_rate:.1%}",
        )
    out.print(table)
    out.print(
        f"per window of {c.window_rows} rows: any-feature false alarms "
        f"{c.any_rate_current:.1%} now, "
        f"{c.any_rate_proposed:.1%} proposed (target {c.target_rate:.1%}); dataset drift "
        f"{c.dataset_rate_current:.1%} now, {c.dataset_rate_proposed:.1%} proposed"
    )
    for r in result.replay:
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


export_app = typer.Typer(help="Export the pipeline to an orchestrator.")
app.add_typer(export_app, name="export")


@export_app.command("kestra")
def export_kestra_cmd(
    config: ConfigOption,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder for the flow files.")],
    namespace: Annotated[str, typer.Option(help="Kestra namespace of the flows.")] = "driftloop",
) -> None:
    """Write Kestra flows (detect, retrain, alert) that call the driftloop step commands."""
    from driftloop.export.kestra import export_kestra

    with user_errors():
        written = export_kestra(config, _config(config), out_dir, namespace)
    for path in written:
        out.print(f"wrote {path}")


config_app = typer.Typer(help="The driftloop.yaml format.")
app.add_typer(config_app, name="config")


@config_app.command("schema")
def config_schema_cmd() -> None:
    """Print the JSON Schema of driftloop.yaml."""
    import json as _json

    from driftloop.config import config_schema

    print(_json.dumps(config_schema(), indent=2))


@config_app.command("check")
def config_check(config: ConfigOption) -> None:
    """Validate a config (resolving ${ENV} references, never printing them)."""
    with user_errors():
        cfg = _config(config)
    out.print(f"{config}: valid (pipeline '{cfg.pipeline}')")


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Where to write the example config.")] = Path(
        "driftloop.yaml"
    ),
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented example driftloop.yaml."""
    from importlib.resources import files

    with user_errors():
        if path.exists() and not force:
            raise ConfigError(f"'{path}' already exists. Use --force to overwrite it.")
        text = files("driftloop").joinpath("templates/driftloop.yaml").read_text(encoding="utf-8")
        path.write_text(text, encoding="utf-8")
    out.print(f"wrote {path}; edit it, then: driftloop config check --config {path}")


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        err.print("interrupted")
        sys.exit(130)
