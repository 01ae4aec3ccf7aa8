"""current.engine streamed and spark: the window profiled out of core, the same report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from driftloop.cli import app
from driftloop.demo import month
from driftloop.pipeline.runner import Runner
from driftloop.pipeline.steps.fetch import FetchResult

from .conftest import write_config

MAR = month(2011, 3)
QUIET = {"retrain": False, "alert": False}
OFF = {"enabled": False}
SEGMENTS = {"segments": [{"column": "workingday", "min_rows": 5}], "multivariate": {}}


def window_parquet(bikes: pl.DataFrame, tmp_path: Path) -> str:
    """The bike days as Parquet of 50-row groups: a window spans several pieces."""
    path = tmp_path / "data" / "day.parquet"
    path.parent.mkdir(exist_ok=True)
    bikes.write_parquet(path, row_group_size=50)
    return str(path)


def report_of(config: Any) -> tuple[dict[str, Any], FetchResult]:
    outcome = Runner(config).run(start=MAR[0], end=MAR[1])
    assert outcome.status == "succeeded", outcome.error
    fetched = outcome.results["fetch_current"]
    assert isinstance(fetched, FetchResult)
    report = json.loads((Path(config.stores.runs) / outcome.run_id / "report.json").read_text())
    return report, fetched


def verdicts(report: dict[str, Any]) -> dict[str, Any]:
    """What a team reads off a report: each column's test, p-value and verdict, the segments',
    multivariate's and the whole window's."""
    columns = {
        c["name"]: (c["test"], round(c["p_value"], 6), c["drifted"]) for c in report["columns"]
    }
    segments = [
        (s["value"], [(c["name"], c["drifted"]) for c in s["columns"]])
        for s in report.get("segments", [])
    ]
    multivariate = [(m["method"], m["drifted"]) for m in report.get("multivariate", [])]
    return {"columns": columns, "segments": segments, "multivariate": multivariate,
            "rows": report["current_rows"], "dataset_drift": report["dataset_drift"],
            "degradation": report["degradation"]}  # fmt: skip


@pytest.mark.parametrize("workers", [1, 2])
def test_a_streamed_window_gives_the_report_of_its_rows(
    make_pipeline, bikes, tmp_path: Path, workers: int
) -> None:  # type: ignore[no-untyped-def]
    uri = window_parquet(bikes, tmp_path)
    common = {"on_drift": QUIET, "append": OFF, "detection": SEGMENTS}
    rows = make_pipeline(current={"uri": uri, "date_column": "dteday"}, **common)
    streamed = make_pipeline(
        current={"uri": uri, "date_column": "dteday", "engine": "streamed", "workers": workers},
        **common,
    )
    from_rows, read = report_of(rows)
    from_profile, profiled = report_of(streamed)
    assert (read.profile, profiled.profile) == ("", "streamed")
    assert profiled.rows == read.rows == 31
    assert verdicts(from_profile) == verdicts(from_rows)
    assert [s["value"] for s in from_profile["segments"]] == [0, 1]


def test_a_streamed_sql_window(make_pipeline, bikes, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = make_pipeline(on_drift=QUIET, append=OFF)
    url = config.stores.warehouse.get_secret_value()
    from driftloop.data.warehouse import Warehouse

    Warehouse(url).seed(bikes, table="days", if_exists="replace")
    table = {"url": url, "table": "days", "date_column": "dteday"}
    rows = make_pipeline(on_drift=QUIET, append=OFF, current=table)
    streamed = make_pipeline(on_drift=QUIET, append=OFF, current={**table, "engine": "streamed"})
    assert verdicts(report_of(streamed)[0]) == verdicts(report_of(rows)[0])


def test_a_streamed_window_refuses_the_steps_that_need_rows(
    make_pipeline, bikes, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    import yaml

    uri = window_parquet(bikes, tmp_path)
    base = make_pipeline(on_drift=QUIET, append=OFF)
    raw = yaml.safe_load(write_config(base, tmp_path / "base.yaml").read_text())
    raw["current"] = {"uri": uri, "date_column": "dteday", "engine": "streamed"}
    raw["append"] = {"enabled": True, "table": "current"}
    path = tmp_path / "streamed.yaml"
    path.write_text(yaml.safe_dump(raw))
    result = CliRunner().invoke(app, ["config", "check", "--config", str(path)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    assert "current.engine streamed profiles the window and keeps no rows" in lines[0]
    assert "append: {enabled: false}" in lines[0]


def test_a_spark_window_gives_the_report_of_its_rows(make_pipeline, bikes, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import os
    import sys

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    uri = window_parquet(bikes, tmp_path)
    common = {"on_drift": QUIET, "append": OFF, "detection": SEGMENTS}
    rows = make_pipeline(current={"uri": uri, "date_column": "dteday"}, **common)
    spark = make_pipeline(
        current={"uri": uri, "date_column": "dteday", "engine": "spark"}, **common
    )
    from_profile, profiled = report_of(spark)
    assert profiled.profile == "spark"
    assert verdicts(from_profile) == verdicts(report_of(rows)[0])
