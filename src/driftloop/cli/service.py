"""Always on (``serve``) and orchestrators (``export kestra``, ``export airflow``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import typer

from driftloop.cli.common import (
    ConfigOption,
    check_folder,
    load_pipeline,
    out,
    user_errors,
)


def serve(
    config: Annotated[
        list[Path], typer.Option("--config", "-c", help="Pipeline config (repeatable).")
    ],
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    drain_seconds: Annotated[float, typer.Option(help="Deliver pending alerts this often.")] = 60.0,
    max_concurrent_runs: Annotated[
        int | None,
        typer.Option(
            min=1, help="Runs of different pipelines at once (default: the usable cores)."
        ),
    ] = None,
) -> None:
    """Run continuously: cron schedules, webhooks, /metrics, /runs, /healthz."""

    from driftloop.service.serve import serve as run_server

    server_logging()
    with user_errors():
        _check_listen(host, port, drain_seconds)
        configs = [load_pipeline(path) for path in config]
        run_server(configs, host=host, port=port, drain_seconds=drain_seconds,
                   max_concurrent_runs=max_concurrent_runs)  # fmt: skip


def server_logging(stream: Any = None) -> Any:
    """serve's log: INFO lines on stderr (or ``stream``), without the chatter of libraries that
    log every request (httpx) or every step of an optimiser to the root logger (scipy's shgo,
    reached by the exact two-proportion test). The handler."""
    import logging

    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    handler.addFilter(_not_scipy_chatter)
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for chatty in ("httpx", "httpcore"):  # a line per request, with full URLs: not at INFO
        logging.getLogger(chatty).setLevel(logging.WARNING)
    return handler


def _not_scipy_chatter(record: Any) -> bool:
    """False for scipy's INFO lines sent to the root logger (``logging.info`` in its code)."""
    return not (record.name == "root" and record.levelno < 30 and "/scipy/" in record.pathname)


def _check_listen(host: str, port: int, drain_seconds: float) -> None:
    """Bad listening options fail before anything starts (uvicorn would print a traceback)."""
    import socket

    from driftloop.errors import ConfigError

    if not 1 <= port <= 65535:
        raise ConfigError(f"--port must be a number from 1 to 65535. Got {port}.")
    if not drain_seconds > 0:
        raise ConfigError(f"--drain-seconds must be more than 0. Got {drain_seconds}.")
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise ConfigError(
            f"--host must be an address or name of this machine, e.g. 127.0.0.1 or 0.0.0.0. "
            f"Got {host!r}."
        ) from None


export_app = typer.Typer(rich_markup_mode=None, help="Export the pipeline to an orchestrator.")


@export_app.command("kestra")
def export_kestra_cmd(
    config: ConfigOption,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder for the flow files.")],
    namespace: Annotated[str, typer.Option(help="Kestra namespace of the flows.")] = "driftloop",
    image: Annotated[
        str | None,
        typer.Option(help="Run tasks in this container image (driftloop installed in it)."),
    ] = None,
    install: Annotated[
        list[str] | None,
        typer.Option(
            help="Without --image: pip requirement installed before the tasks run (repeatable)."
        ),
    ] = None,
    wheel: Annotated[
        Path | None,
        typer.Option(
            help="Without --image: a driftloop wheel, shipped as a namespace file and installed "
            "before the tasks run (pip wheel --no-deps -w dist .)."
        ),
    ] = None,
) -> None:
    """Write Kestra flows (detect, retrain, alert) that call the driftloop step commands."""
    from driftloop.errors import ConfigError
    from driftloop.export.kestra import Runtime, export_kestra

    with user_errors():
        if not _NAMESPACE.fullmatch(namespace):
            raise ConfigError(
                f"--namespace must be lowercase letters, digits, '.', '_' or '-' (a Kestra "
                f"namespace, like 'company.ml'). Got {namespace!r}."
            )
        if image is not None and (install or wheel):
            raise ConfigError(
                "Pass --image, or --install/--wheel, not both: an image has driftloop."
            )
        check_folder(out_dir, "the Kestra flows")
        runtime = Runtime(image, tuple(install or ()), str(wheel) if wheel else None)
        written = export_kestra(config, load_pipeline(config), out_dir, namespace, runtime=runtime)
    for path in written:
        out.print(f"wrote {path}")


@export_app.command("airflow")
def export_airflow_cmd(
    config: ConfigOption,
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", help="The Airflow DAG folder to write into.")
    ] = Path("dags"),
    driftloop: Annotated[
        str | None,
        typer.Option(
            help="The command that runs driftloop on the Airflow workers (default: this "
            "driftloop's own executable)."
        ),
    ] = None,
) -> None:
    """Write an Airflow DAG (one task per step) that calls the driftloop step commands."""
    from driftloop.export.airflow import export_airflow

    with user_errors():
        check_folder(out_dir, "the Airflow DAG")
        command = driftloop or _own_executable()
        written = export_airflow(config, load_pipeline(config), out_dir, command)
    for path in written:
        out.print(f"wrote {path}")


def _own_executable() -> str:
    """The ``driftloop`` script next to this Python (its venv's), else ``driftloop`` on PATH."""
    import sys

    script = Path(sys.executable).parent / "driftloop"
    return str(script) if script.is_file() else "driftloop"


@export_app.command("grafana")
def export_grafana_cmd(
    config: ConfigOption,
    out_file: Annotated[Path, typer.Option("--out", "-o", help="The dashboard JSON to write.")],
) -> None:
    """Write a Grafana dashboard over the drift history tables (PostgreSQL data source)."""
    from driftloop.cli.common import check_writable
    from driftloop.export.grafana import export_grafana

    with user_errors():
        cfg = load_pipeline(config)
        check_writable(out_file, "the Grafana dashboard")
        written = export_grafana(cfg.pipeline, out_file, concept=cfg.concept is not None)
    out.print(f"wrote {written}")
    if not cfg.stores.warehouse.get_secret_value().startswith("postgresql"):
        out.print("note: its panels query PostgreSQL; this pipeline's warehouse is not PostgreSQL")


_NAMESPACE = re.compile(r"[a-z0-9][a-z0-9._-]*")
