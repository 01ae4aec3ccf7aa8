"""The command line: exit codes, outputs, and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from driftloop.cli import app

runner = CliRunner()


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    rng = np.random.default_rng(0)
    ref = pl.DataFrame(
        {
            "x": rng.normal(size=300),
            "y": rng.normal(size=300),
            "c": rng.choice(["a", "b", "c"], 300),
        }
    )
    same = pl.DataFrame(
        {
            "x": rng.normal(size=300),
            "y": rng.normal(size=300),
            "c": rng.choice(["a", "b", "c"], 300),
        }
    )
    moved = pl.DataFrame(
        {
            "x": rng.normal(2, size=300),
            "y": rng.normal(2, size=300),
            "c": rng.choice(["a", "b", "c"], 300),
        }
    )
    paths = {
        "ref": tmp_path / "ref.csv",
        "same": tmp_path / "same.parquet",
        "moved": tmp_path / "moved.csv",
    }
    ref.write_csv(paths["ref"])
    same.write_parquet(paths["same"])
    moved.write_csv(paths["moved"])
    return paths


def test_detect_prints_table_and_writes_reports(files, tmp_path: Path) -> None:
    out_json, out_html = tmp_path / "r.json", tmp_path / "r.html"
    result = runner.invoke(
        app,
        [
            "detect",
            str(files["ref"]),
            str(files["moved"]),
            "--json",
            str(out_json),
            "--html",
            str(out_html),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "DATASET DRIFT" in result.output and "feature" in result.output
    data = json.loads(out_json.read_text())
    assert data["dataset_drift"] is True and len(data["columns"]) == 3
    assert out_html.read_text().startswith("<!doctype html>")


def test_fail_on_drift_exit_codes(files) -> None:
    drifted = runner.invoke(
        app, ["detect", str(files["ref"]), str(files["moved"]), "--fail-on-drift"]
    )
    assert drifted.exit_code == 1
    calm = runner.invoke(app, ["detect", str(files["ref"]), str(files["same"]), "--fail-on-drift"])
    assert calm.exit_code == 0, calm.output
    assert "no dataset drift" in calm.output


def test_columns_and_config(files, tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("detection:\n  method: psi\n  drift_share: 1.0\n")
    result = runner.invoke(
        app,
        [
            "detect",
            str(files["ref"]),
            str(files["moved"]),
            "--columns",
            "x,c",
            "--config",
            str(config),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "psi" in result.output and " y " not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.csv"], "error: File 'missing.csv' does not exist."),
        (
            ["--config", "nope.yaml"],
            "error: Config file 'nope.yaml' does not exist. Check the path.",
        ),
        (
            ["--columns", "zz"],
            "error: Column 'zz' is not in the reference data. Reference columns: x, y, c.",
        ),
    ],
    ids=["missing file", "missing config", "unknown column"],
)
def test_errors_are_one_line_with_exit_code_2(files, args: list[str], message: str) -> None:
    if args[0] == "missing.csv":
        argv = ["detect", str(files["ref"]), "missing.csv"]
    else:
        argv = ["detect", str(files["ref"]), str(files["same"]), *args]
    proc = subprocess.run(
        [sys.executable, "-m", "driftloop", *argv], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith(message), proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


def test_malformed_yaml_config(files, tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("detection: [unclosed\n")
    result = runner.invoke(
        app, ["detect", str(files["ref"]), str(files["same"]), "--config", str(config)]
    )
    assert result.exit_code == 2
    assert f"Config file '{config}' is not valid YAML at line 2. Fix its syntax." in result.output


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("driftloop ")


@pytest.mark.postgres
def test_warehouse_seed_and_append(pg_url: str, tmp_path: Path) -> None:
    from driftloop.data.synthetic import bike_sharing
    from driftloop.data.warehouse import Warehouse

    data = tmp_path / "day.csv"
    bike_sharing().write_csv(data)
    seeded = runner.invoke(app, ["warehouse", "seed", str(data), "--url", pg_url])
    assert seeded.exit_code == 0, seeded.output
    assert "seeded 731 rows into table 'reference'" in seeded.output
    argv = ["warehouse", "append", str(data), "--url", pg_url, "--pipeline", "bikes",
            "--start", "2011-02-01", "--end", "2011-02-28", "--date-column", "dteday"]  # fmt: skip
    for expected in ("inserted", "replaced"):
        result = runner.invoke(app, argv)
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["action"] == expected
    assert Warehouse(pg_url).count("current") == 28
    again = runner.invoke(app, ["warehouse", "seed", str(data), "--url", pg_url])
    assert again.exit_code == 2 and "Use --if-exists replace or append." in again.output
    bad = runner.invoke(app, [*argv[:-4], "--start", "2011-02-30", "--end", "2011-03-01"])
    assert (
        bad.exit_code == 2
        and "--start must be a date like 2011-02-01. Got '2011-02-30'." in bad.output
    )
    whole = runner.invoke(app, [*argv[:-2]])  # no --date-column: 731 rows under one window?
    assert whole.exit_code == 2 and whole.output.strip() == (
        "error: Pass --date-column so only the window's rows are stored, or --whole-file to "
        "store every row of the file under this window (one of them, not both)."
    )
    assert Warehouse(pg_url).count("current") == 28  # nothing written
    period = ["--date-column", "dteday", "--start", "2011-01-01", "--end", "2011-01-31"]
    jan = runner.invoke(
        app, ["warehouse", "seed", str(data), "--url", pg_url, "--table", "jan", *period]
    )
    assert jan.exit_code == 0 and "seeded 31 rows into table 'jan'" in jan.output


def test_model_reads_never_create_a_registry(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    for args in (["model", "list", "bikes"], ["model", "show", "bikes@production"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert "No model registry at .driftloop/mlflow.db" in result.output
        assert "Traceback" not in result.output
    assert not (tmp_path / ".driftloop").exists()  # nothing was created by a read


def test_model_commands_take_the_registry_from_a_pipeline_config(tmp_path) -> None:
    import yaml

    from driftloop.demo import demo_config

    path = tmp_path / "driftloop.yaml"
    path.write_text(yaml.safe_dump(demo_config(tmp_path)))
    result = CliRunner().invoke(app, ["model", "list", "bike-demand", "--config", str(path)])
    assert result.exit_code == 2
    assert f"No model registry at {tmp_path / 'mlflow.db'}" in result.output
    both = ["model", "list", "x", "--config", str(path), "--registry", "sqlite:///x.db"]
    assert "Pass --registry or --config, not both." in CliRunner().invoke(app, both).output
    # DRIFTLOOP_MLFLOW_URI exported (the seed's environment) is a default, not a second choice:
    # before, --config with it set was "Pass --registry or --config, not both."
    env = {"DRIFTLOOP_MLFLOW_URI": "sqlite:///elsewhere.db"}
    listed = CliRunner().invoke(
        app, ["model", "list", "bike-demand", "--config", str(path)], env=env
    )
    assert listed.exit_code == 2 and "not both" not in listed.output
    assert f"No model registry at {tmp_path / 'mlflow.db'}" in listed.output


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--json", "{tmp}/missing/r.json"],
            "error: Cannot write the JSON report to '{tmp}/missing/r.json': the folder "
            "'{tmp}/missing' does not exist. Create it or choose another path.",
        ),
        (
            ["--html", "{tmp}"],
            "error: Cannot write the HTML report to '{tmp}': it is a folder. Name a file.",
        ),
    ],
    ids=["json-folder-missing", "html-is-a-folder"],
)
def test_detect_bad_output_paths_fail_before_any_work(tmp_path, extra, message) -> None:
    ref = tmp_path / "ref.csv"
    pl.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]}).write_csv(ref)
    before = sorted(p.name for p in tmp_path.iterdir())
    args = [a.replace("{tmp}", str(tmp_path)) for a in extra]
    result = CliRunner().invoke(app, ["detect", str(ref), str(ref), *args])
    assert result.exit_code == 2
    assert result.output.strip() == message.replace("{tmp}", str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_detect_url_with_a_bad_port_is_one_line(tmp_path) -> None:
    url = "http://user:pw@127.0.0.1:notaport/x.csv?token=zz"
    result = CliRunner().invoke(app, ["detect", url, url])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "error: The URL 'http://127.0.0.1:<invalid port>/x.csv' has an invalid port 'notaport': "
        "use a "
        "number from 1 to 65535, e.g. http://host:8080/data.csv."
    )


def test_duplicate_pandas_column_names_are_named() -> None:
    import pandas as pd

    import driftloop

    frame = pd.DataFrame([[1.0, 2.0, 3.0]] * 5, columns=["a", "b", "a"])
    with pytest.raises(
        driftloop.ConfigError, match=r"^The reference data has duplicate column names: a\. Rename"
    ):
        driftloop.detect(frame, frame)


def test_a_failed_run_is_one_line_with_its_resume_command(tmp_path: Path) -> None:
    config = tmp_path / "driftloop.yaml"
    config.write_text(
        "pipeline: bikes\nreference: {uri: gone.csv}\ncurrent: {uri: gone.csv}\n"
        "on_drift: {retrain: false, publish: false}\n"
    )
    args = ["run", "-c", str(config), "--start", "2024-01-01", "--end", "2024-01-31"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert "gone.csv" in line and ".. " not in line and ". Resume with: driftloop run" in line
