"""driftloop.yaml: validation, ${ENV} secrets, errors naming the field, schema and init."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from driftloop.cli import app
from driftloop.config import load_config
from driftloop.errors import ConfigError

EXAMPLE = Path(__file__).parents[1] / "examples" / "bike_sharing" / "driftloop.yaml"
ENV = {
    "DRIFTLOOP_WAREHOUSE_URL": "postgresql://app:pg-secret-1@127.0.0.1:5432/ml",
    "BIKE_DATA_URL": "https://example.org/day.csv",
    "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/slack-secret-2",
    "DRIFTLOOP_WEBHOOK_TOKEN": "hook-secret-3",
}
SECRETS = ("pg-secret-1", "slack-secret-2", "hook-secret-3")


def test_example_config_loads_with_secrets_resolved_and_hidden() -> None:
    config = load_config(EXAMPLE, env=ENV)
    assert (
        config.pipeline == "bike-sharing"
        and config.schedule
        and config.schedule.cron == "0 11 * * MON"
    )
    assert config.alerts.slack is not None
    assert config.alerts.slack.webhook_url.get_secret_value() == ENV["SLACK_WEBHOOK_URL"]
    dumped = repr(config) + str(config.model_dump()) + config.model_dump_json()
    for secret in SECRETS:
        assert secret not in dumped


def test_missing_environment_variable() -> None:
    env = {k: v for k, v in ENV.items() if k != "SLACK_WEBHOOK_URL"}
    with pytest.raises(
        ConfigError,
        match=r"^Config 'alerts\.slack\.webhook_url' references \$\{SLACK_WEBHOOK_URL\}, which is not set in the environment\. Export SLACK_WEBHOOK_URL or remove the reference\.$",
    ):
        load_config(EXAMPLE, env=env)


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        (
            {"detection": {"drift_share": 2}},
            r"Invalid setting 'detection\.drift_share' = 2: Input should be less than or equal to 1\.$",
        ),
        (
            {"alerts": {"cooldown_hours": -1}},
            r"Invalid setting 'alerts\.cooldown_hours' = -1: Input should be greater than or equal to 0\.$",
        ),
        (
            {"schedule": {"crn": "x"}},
            r"Unknown setting 'schedule\.crn'\. Remove it or check its spelling\.$",
        ),
        (
            {"pipeline": "9 lives"},
            r"Invalid setting 'pipeline' = '9 lives': use letters, digits, '-' and '_', starting with a letter\.$",
        ),
        (
            {"current": {"uri": "a.csv", "url": "sqlite:///x.db", "table": "t"}},
            r"Invalid section 'current': set exactly one of 'uri' \(a file or URL\) or 'url' \(a database\)\.$",
        ),
        (
            {"training": None, "on_drift": {"retrain": True}},
            r": on_drift\.retrain needs the 'training' and 'model' sections\.$",
        ),
        (
            {"detection": {"method": "kss"}},
            r"^Unknown drift method 'kss' for detection\.method\. Valid methods: auto",
        ),
    ],
    ids=["range", "negative", "typo", "name", "two sources", "retrain without training", "method"],
)
def test_errors_name_the_field_and_value(patch: dict, message: str) -> None:
    import yaml

    raw = yaml.safe_load(EXAMPLE.read_text())
    raw.update(patch)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(raw, env=ENV)
    for secret in SECRETS:
        assert secret not in str(info.value)


def test_secret_values_are_never_echoed_in_errors() -> None:
    import yaml

    raw = yaml.safe_load(EXAMPLE.read_text())
    raw["alerts"]["slack"] = {"webhook_url": "${SLACK_WEBHOOK_URL}", "retries": "many"}
    with pytest.raises(ConfigError) as info:
        load_config(raw, env=ENV)
    assert "alerts.slack.retries" in str(info.value) and "slack-secret-2" not in str(info.value)
    raw["alerts"]["slack"] = {"webhook_url": 12345}
    with pytest.raises(ConfigError) as info:
        load_config(raw, env=ENV)
    assert "12345" not in str(info.value) and "<hidden>" in str(info.value)


def test_schema_and_init_and_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    schema = json.loads(runner.invoke(app, ["config", "schema"]).output)
    assert schema["title"] == "PipelineConfig" and "pipeline" in schema["required"]
    target = tmp_path / "driftloop.yaml"
    assert runner.invoke(app, ["init", str(target)]).exit_code == 0
    again = runner.invoke(app, ["init", str(target)])
    assert again.exit_code == 2 and "already exists. Use --force to overwrite it." in again.output
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    checked = runner.invoke(app, ["config", "check", "--config", str(target)])
    assert checked.exit_code == 0 and "valid (pipeline 'bike-sharing')" in checked.output
    for secret in SECRETS:
        assert secret not in checked.output


def test_config_errors_on_the_command_line_are_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "pipeline: x\nreference: {uri: a.csv}\ncurrent: {uri: b.csv}\non_drift: {retrain: false}\nalerts: {cooldown_hours: soon}\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "driftloop", "config", "check", "--config", str(bad)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert (
        proc.stderr.strip()
        == f"error: {bad}: Invalid setting 'alerts.cooldown_hours' = 'soon': Input should be a valid number, unable to parse string as a number."
    )


CHECKED = [
    (
        {"schedule": {"cron": "61 * * * *"}},
        r"'schedule\.cron' = '61 \* \* \* \*': Error validating expression '61': the last value \(61\) is higher than the maximum value \(59\)",
    ),
    (
        {"schedule": {"cron": "0 11 * *"}},
        r"'schedule\.cron' = '0 11 \* \*': use five fields \(minute hour day month weekday\), e\.g\. '0 11 \* \* MON'\.$",
    ),
    (
        {"schedule": {"timezone": "Mars/Olympus"}},
        r"'schedule\.timezone' = 'Mars/Olympus': use an IANA time zone such as 'UTC' or 'Europe/Paris'\.$",
    ),
    (
        {"append": {"table": "current; drop table x"}},
        r"'append\.table' = 'current; drop table x': use letters, digits and underscores \(optionally schema\.table\)",
    ),
    (
        {"reference": {"url": "${DRIFTLOOP_WAREHOUSE_URL}", "table": "reference where 1=1"}},
        r"'reference\.table' = 'reference where 1=1': use letters",
    ),
    (
        {"concept": {"baseline": {"start": "2012-05-31", "end": "2012-05-01"}}},
        r"'concept\.baseline': the baseline ends \(2012-05-01\) before it starts \(2012-05-31\)\.$",
    ),
    (
        {"alerts": {"slack": {"webhook_url": "not-a-url"}}},
        r"'alerts\.slack\.webhook_url' = <hidden>: use a URL like http://host/path\.$",
    ),
    (
        {"alerts": {"slack": {"webhook_url": "https://hooks.slack.com:notaport/services/x"}}},
        r"'alerts\.slack\.webhook_url' = <hidden>: the port must be a number from 1 to 65535\.$",
    ),
    (
        {"alerts": {"slack": {"webhook_url": "${SLACK_WEBHOOK_URL}", "timeout": 0.5}}},
        r"'alerts\.slack\.timeout' = 0\.5: Input should be greater than or equal to 1\.$",
    ),
    (
        {"alerts": {"webhooks": [{"url": "ftp://x/y"}]}},
        r"'alerts\.webhooks\.0\.url' = <hidden>: use a URL like http://host/path\.$",
    ),
    (
        {"model": {"name": "team/bikes"}},
        r"'model\.name' = 'team/bikes': use letters, digits, '\.', '_' and '-'",
    ),
    (
        {"stores": {"s3_endpoint_url": "localhost:8333"}},
        r"'stores\.s3_endpoint_url' = 'localhost:8333': use a URL like http://host/path\.$",
    ),
    (
        {"current": {"uri": "https://example.org:http/day.csv", "date_column": "dteday"}},
        r"'current\.uri' = 'https://example\.org:http/day\.csv': the port must be a number",
    ),
    (
        {
            "current": {
                "uri": "day.csv",
                "date_column": "dteday",
                "start": "2011-03-31",
                "end": "2011-03-01",
            }
        },
        r"'current': the window ends \(2011-03-01\) before it starts \(2011-03-31\)\.$",
    ),
]


@pytest.mark.parametrize(
    ("patch", "message"), CHECKED, ids=[f"case{i}" for i in range(len(CHECKED))]
)
def test_config_check_refuses_what_a_run_would_trip_on(patch: dict, message: str) -> None:
    import yaml

    raw = yaml.safe_load(EXAMPLE.read_text())
    raw.update(patch)
    with pytest.raises(ConfigError, match=r"^config: Invalid (setting|section) " + message) as info:
        load_config(raw, env=ENV)
    assert "\n" not in str(info.value)
    for secret in SECRETS:
        assert secret not in str(info.value)


def test_duplicate_yaml_keys_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text("pipeline: a\nalerts:\n  console: true\n  console: false\n")
    result = CliRunner().invoke(app, ["config", "check", "--config", str(path)])
    assert result.exit_code == 2
    assert (
        result.output.strip()
        == f"error: Config file '{path}' repeats the key 'console' at line 4. Keep one of them."
    )


def _relative_config(folder: Path, entry_point: str) -> Path:
    import yaml

    (folder / "team").mkdir(parents=True, exist_ok=True)
    (folder / "team" / "train.py").write_text("def train(X, y, params):\n    return None\n")
    raw = {
        "pipeline": "bikes",
        "reference": {"url": "sqlite:///data/warehouse.db", "table": "reference"},
        "current": {"uri": "data/day.csv", "date_column": "dteday"},
        "training": {"entry_point": entry_point, "target": "cnt"},
        "model": {"name": "bikes"},
        "stores": {"warehouse": "sqlite:///data/warehouse.db", "reports": "out/reports"},
    }
    path = folder / "driftloop.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_relative_paths_resolve_against_the_config_folder(tmp_path, monkeypatch) -> None:
    folder = tmp_path / "project"
    path = _relative_config(folder, "team/train.py:train")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = load_config(path)
    assert config.stores.warehouse.get_secret_value() == f"sqlite:///{folder}/data/warehouse.db"
    assert config.stores.reports == str(folder / "out" / "reports")
    assert config.stores.runs == str(folder / ".driftloop" / "runs")  # defaults too
    assert config.current.uri == str(folder / "data" / "day.csv")
    assert config.reference.url.get_secret_value() == f"sqlite:///{folder}/data/warehouse.db"
    assert config.training.entry_point == f"{folder / 'team' / 'train.py'}:train"
    checked = CliRunner().invoke(app, ["config", "check", "--config", str(path)])
    assert checked.exit_code == 0, checked.output


@pytest.mark.parametrize(
    ("entry_point", "message"),
    [
        ("team/missing.py:train", "the script '{folder}/team/missing.py' does not exist"),
        ("team/train.py:fit", "the module defines no function 'fit'. Check training.entry_point."),
        (
            "no_such_team_package.trainers:train",
            "no module 'no_such_team_package.trainers' can be imported here",
        ),
    ],
    ids=["missing-file", "missing-function", "missing-module"],
)
def test_config_check_verifies_the_trainer_entry_point(tmp_path, entry_point, message) -> None:
    folder = tmp_path / "project"
    path = _relative_config(folder, entry_point)
    result = CliRunner().invoke(app, ["config", "check", "--config", str(path)])
    assert result.exit_code == 2
    assert message.replace("{folder}", str(folder)) in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_schema_shows_the_real_defaults_of_the_stores() -> None:
    from driftloop.config import config_schema

    stores = config_schema()["$defs"]["StoresConfig"]["properties"]
    assert stores["warehouse"]["default"] == "sqlite:///.driftloop/warehouse.db"
    assert stores["mlflow"]["default"] == "sqlite:///.driftloop/mlflow.db"
    assert "**" not in json.dumps(config_schema())
