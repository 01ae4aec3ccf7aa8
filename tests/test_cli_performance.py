"""`driftloop detect --config` with a `performance:` section: the estimate in the JSON report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
from typer.testing import CliRunner

from driftloop.cli import app


def write_sides(tmp_path: Path, shrink: float) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)

    def side(n: int, scale: float) -> pl.DataFrame:
        x = scale * rng.normal(size=n)
        p = 1 / (1 + np.exp(-2 * x))
        return pl.DataFrame({"x": x, "p": p, "y": (rng.random(n) < p).astype(int)})

    ref, cur = tmp_path / "ref.csv", tmp_path / "cur.csv"
    side(3000, 1.0).write_csv(ref)
    side(1000, shrink).drop("y").write_csv(cur)
    return ref, cur


def test_the_estimate_lands_in_the_json_report_and_alerts_when_the_model_is_hurt(
    tmp_path: Path,
) -> None:
    ref, cur = write_sides(tmp_path, shrink=0.5)
    config = tmp_path / "c.yaml"
    config.write_text("performance: {target: y, score: p, metric: roc_auc}\n")
    out = tmp_path / "r.json"
    result = CliRunner().invoke(
        app,
        [
            "detect",
            str(ref),
            str(cur),
            "--config",
            str(config),
            "--json",
            str(out),
            "--columns",
            "x",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "estimated roc_auc" in result.output and "BELOW the reference" in result.output
    performance = json.loads(out.read_text())["performance"]
    assert performance["alert"] is True
    assert performance["lower"] < performance["value"] < performance["upper"]
    assert performance["upper"] < performance["reference_value"]


def test_a_bad_performance_section_is_one_line(tmp_path: Path) -> None:
    ref, cur = write_sides(tmp_path, shrink=1.0)
    config = tmp_path / "c.yaml"
    config.write_text("performance: {target: y, score: p, metric: auc}\n")
    result = CliRunner().invoke(app, ["detect", str(ref), str(cur), "--config", str(config)])
    assert result.exit_code == 2
    assert "performance.metric" in result.output and "Traceback" not in result.output
    config.write_text("performance: {target: y, score: missing}\n")
    result = CliRunner().invoke(app, ["detect", str(ref), str(cur), "--config", str(config)])
    assert result.exit_code == 2 and "has no column 'missing'" in result.output
