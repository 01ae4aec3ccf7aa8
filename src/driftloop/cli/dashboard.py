"""The read-only dashboard: ``ui``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from driftloop.cli.common import load_pipeline, out, user_errors
from driftloop.errors import ConfigError


def ui(
    config: Annotated[
        list[Path], typer.Option("--config", "-c", help="Pipeline config (repeatable).")
    ],
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the dashboard only (read-only: no scheduler, no webhooks)."""
    import uvicorn

    from driftloop.service.dashboard import check_exposure, dashboard_app

    with user_errors():
        configs = {}
        for path in config:
            cfg = load_pipeline(path)
            if cfg.pipeline in configs:
                raise ConfigError(
                    f"Two configs name pipeline '{cfg.pipeline}'; names must be unique."
                )
            configs[cfg.pipeline] = cfg
        exposed = check_exposure(configs, host)
        if exposed is not None:
            raise ConfigError(exposed)
        app = dashboard_app(configs)
    out.print(f"dashboard of {', '.join(configs)} on http://{host}:{port}/ui/")
    uvicorn.run(app, host=host, port=port, log_level="warning")
