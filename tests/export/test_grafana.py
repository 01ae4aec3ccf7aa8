"""The Grafana dashboard: its panels' SQL runs on real PostgreSQL history tables."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from driftloop.cli import app
from driftloop.data.predictions import PredictionStore, concept_series
from driftloop.export.grafana import dashboard
from driftloop.pipeline.backfill import backfill, windows
from tests.pipeline.conftest import bikes, make_pipeline, write_config

__all__ = ["bikes", "make_pipeline"]  # the pipeline fixtures, used here too


def conn_rows(url: str, sql: str) -> list[sa.Row]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = list(conn.execute(sa.text(sql)).all())
    engine.dispose()
    return rows


def as_grafana_sends_it(sql: str, pipeline: str) -> str:
    return sql.replace("$__timeFilter(window_end)", "TRUE").replace("$pipeline", pipeline)


@pytest.mark.postgres
def test_the_concept_panel_is_there_when_concept_drift_is_monitored(pg_url: str) -> None:
    concept_series(PredictionStore(pg_url), "bike-sharing")  # its table, as concept runs make it
    (panel,) = [
        p
        for p in dashboard("bike-sharing", concept=True)["panels"]
        if p["title"] == "Concept drift per window"
    ]
    assert conn_rows(pg_url, as_grafana_sends_it(panel["targets"][0]["rawSql"], "x")) == []


@pytest.mark.postgres
def test_every_panel_reads_the_history_at_window_dates(make_pipeline, pg_url: str) -> None:
    detection = {
        "multivariate": {"columns": ["temp", "atemp", "hum", "windspeed"], "permutations": 49},
        "segments": [{"column": "workingday", "min_rows": 9}],
    }
    config = make_pipeline(warehouse=pg_url, detection=detection)
    planned = windows(dt.date(2011, 2, 1), dt.date(2011, 4, 30), "1mo")
    backfill(config, planned)
    board = dashboard("bike-sharing")  # no concept monitoring: no panel reads its table
    engine = sa.create_engine(pg_url)
    rows = {}
    with engine.connect() as conn:
        for panel in board["panels"]:
            sql = as_grafana_sends_it(panel["targets"][0]["rawSql"], "bike-sharing")
            rows[panel["title"]] = conn.execute(sa.text(sql)).all()
    engine.dispose()
    share = rows["Share of features drifted"]
    assert [r[0].date() for r in share] == [end for _, end in planned]  # at window dates
    assert len(rows["Statistic per feature"]) == 3 * len(
        {r[1] for r in rows["Statistic per feature"]}
    )
    assert len(rows["Runs"]) == 3 and "Concept drift per window" not in rows
    assert rows["Model performance: estimated (interval) and realized"] == []  # a regressor
    multivariate = rows["Multivariate statistic / threshold (above 1: drift)"]
    assert {r[1] for r in multivariate} == {"domain_classifier", "pca_reconstruction"}
    skipped = conn_rows(
        pg_url,
        "SELECT window_end, skipped FROM driftloop_history_multivariate WHERE skipped IS NOT NULL",
    )
    drawn = sorted({r[0].date() for r in multivariate} | {r[0] for r in skipped})
    assert drawn == [end for _, end in planned] and len(skipped) < 2 * len(planned)
    assert all(r[2] > 0 for r in multivariate)
    segments = rows["Share of features drifted per segment"]
    assert {r[1] for r in segments} == {"workingday = 0", "workingday = 1"}
    assert all(0 <= r[2] <= 1 for r in segments)
    boxes = [(p["gridPos"]["x"], p["gridPos"]["y"]) for p in board["panels"]]
    assert len(set(boxes)) == len(boxes)  # no two panels on one spot


def test_export_grafana_on_the_command_line(make_pipeline, tmp_path: Path) -> None:
    config = make_pipeline(seed=False)
    path = write_config(config, tmp_path / "driftloop.yaml")
    out = tmp_path / "board.json"
    done = CliRunner().invoke(app, ["export", "grafana", "--config", str(path), "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert "this pipeline's warehouse is not PostgreSQL" in done.output
    board = json.loads(out.read_text())
    assert board["templating"]["list"][0]["query"] == "bike-sharing"
    assert {p["datasource"]["uid"] for p in board["panels"]} == {"${DS_DRIFTLOOP}"}
    folder = CliRunner().invoke(
        app, ["export", "grafana", "--config", str(path), "--out", str(tmp_path)]
    )
    assert folder.exit_code == 2 and "it is a folder" in folder.output
