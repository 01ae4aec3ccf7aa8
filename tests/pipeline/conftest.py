"""A bike-sharing pipeline on real parts, configurable per test."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from driftloop.config import PipelineConfig, load_config
from driftloop.data.sources import filter_window
from driftloop.data.synthetic import bike_sharing
from driftloop.data.warehouse import Warehouse
from driftloop.demo import demo_config, month
from driftloop.pipeline.steps import STEPS, step_names

MakePipeline = Callable[..., PipelineConfig]

# A run that retrained, published and alerted, with no concept monitoring configured and
# production already published: every step of the table done, in its order, but concept and
# reconcile.
COMPLETED = {s.name: "done" for s in STEPS} | {"concept": "skipped", "reconcile": "skipped"}


def up_to(name: str) -> tuple[str, ...]:
    """The steps from the first to ``name``, in the table's order."""
    names = step_names()
    return tuple(names[: names.index(name) + 1])


def after(name: str) -> tuple[str, ...]:
    """The steps after ``name``, in the table's order."""
    names = step_names()
    return tuple(names[names.index(name) + 1 :])


@pytest.fixture(scope="session")
def bikes() -> pl.DataFrame:
    return bike_sharing()


@pytest.fixture
def make_pipeline(tmp_path: Path, bikes: pl.DataFrame) -> MakePipeline:
    """Build a pipeline config (the demo's, on tmp_path) with overrides, reference seeded."""

    def make(
        warehouse: str | None = None,
        mlflow: str | None = None,
        seed: bool = True,
        **overrides: Any,
    ) -> PipelineConfig:
        raw = demo_config(tmp_path)
        (tmp_path / "data").mkdir(exist_ok=True)
        if not (tmp_path / "data" / "day.csv").exists():
            bikes.write_csv(tmp_path / "data" / "day.csv")
        if warehouse is not None:
            raw["stores"]["warehouse"] = warehouse
            raw["reference"] = {"url": warehouse, "table": "reference"}
        if mlflow is not None:
            raw["stores"]["mlflow"] = mlflow
        for key, value in overrides.items():
            section, _, field = key.partition("__")
            if field:
                raw.setdefault(section, {})[field] = value
            else:
                raw[section] = value
        config = load_config(raw)
        if seed:
            reference = filter_window(bikes, "dteday", *month(2011, 1))
            Warehouse(config.stores.warehouse.get_secret_value()).seed(
                reference, table="reference", if_exists="replace"
            )
        return config

    return make


def write_config(config: PipelineConfig, path: Path) -> Path:
    """The config as YAML a subprocess can load (secrets written out: test values only)."""
    import json

    import yaml

    raw = json.loads(config.model_dump_json())
    for key in ("warehouse", "mlflow"):
        raw["stores"][key] = getattr(config.stores, key).get_secret_value()
    for side in ("reference", "current"):
        source = getattr(config, side)
        if source.url is not None:
            raw[side]["url"] = source.url.get_secret_value()
    if config.alerts.slack is not None:
        raw["alerts"]["slack"]["webhook_url"] = config.alerts.slack.webhook_url.get_secret_value()
    if config.webhook is not None:
        for key in ("token", "hmac_secret"):
            value = getattr(config.webhook, key)
            raw["webhook"][key] = value.get_secret_value() if value is not None else None
    if config.dashboard.token is not None:
        raw["dashboard"]["token"] = config.dashboard.token.get_secret_value()
    path.write_text(yaml.safe_dump(raw))
    return path


def held_trainer(folder: Path) -> tuple[str, Path, Path]:
    """A team trainer that waits while ``flag`` exists (after touching ``started``).

    Returns (entry point, flag, started): tests hold a run inside its retrain step this way.
    """
    flag, started = folder / "hold", folder / "training-started"
    script = folder / "held_team.py"
    script.write_text(
        "import time\nfrom pathlib import Path\nfrom driftloop.model.bike import train as bike\n"
        f"FLAG, STARTED = Path({str(flag)!r}), Path({str(started)!r})\n"
        "def train(X, y, params):\n"
        "    STARTED.write_text('1')\n"
        "    while FLAG.exists():\n"
        "        time.sleep(0.05)\n"
        "    return bike(X, y, params)\n"
    )
    return f"{script}:train", flag, started
