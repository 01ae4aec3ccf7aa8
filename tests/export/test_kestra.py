"""Kestra flows from the config: golden files, and a structural check of every generated flow."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from driftloop.cli import app
from driftloop.config import load_config
from driftloop.export.kestra import export_kestra

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "bike_sharing" / "driftloop.yaml"
GOLDEN = ROOT / "tests" / "golden" / "kestra"
ENV = {
    "DRIFTLOOP_WAREHOUSE_URL": "postgresql://app:pg-secret-1@db:5432/ml",
    "BIKE_DATA_URL": "https://example.org/day.csv?token=url-secret-2",
    "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/slack-secret-3",
    "DRIFTLOOP_WEBHOOK_TOKEN": "hook-secret-4",
}
FLOW_ID = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]*$")
TASK_TYPES = {
    "io.kestra.plugin.core.flow.WorkingDirectory",
    "io.kestra.plugin.scripts.shell.Commands",
}


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    out = tmp_path_factory.mktemp("kestra")
    export_kestra(EXAMPLE, load_config(EXAMPLE, env=ENV), out)
    return {p.name: p.read_text() for p in sorted(out.iterdir())}


def test_golden_files(exported: dict[str, str]) -> None:
    golden = {p.name: p.read_text() for p in sorted(GOLDEN.iterdir())}
    assert (
        sorted(exported)
        == sorted(golden)
        == [
            "bike-sharing-alert.yaml",
            "bike-sharing-detect.yaml",
            "bike-sharing-retrain.yaml",
            "driftloop.yaml",
        ]
    )
    for name, text in exported.items():
        assert text == golden[name], f"{name} differs from tests/golden/kestra/{name}"


def _tasks(flow: dict) -> list[dict]:
    out = []
    for task in flow["tasks"]:
        out.append(task)
        out.extend(task.get("tasks", []))
    return out


def test_every_flow_is_well_formed(exported: dict[str, str]) -> None:
    flows = {
        name: yaml.safe_load(text) for name, text in exported.items() if name != "driftloop.yaml"
    }
    ids: set[str] = set()
    for name, flow in flows.items():
        in_flow: set[str] = set()
        assert FLOW_ID.match(flow["id"]) and f"{flow['id']}.yaml" == name
        assert flow["namespace"] == "driftloop"
        assert flow["concurrency"] == {"limit": 1, "behavior": "QUEUE"}
        for task in _tasks(flow):
            assert task["type"] in TASK_TYPES
            assert task["id"] not in in_flow  # task ids are unique within a flow
            in_flow.add(task["id"])
            ids.add(task["id"])
            if task["type"].endswith("Commands"):
                assert task["taskRunner"] == {"type": "io.kestra.plugin.core.runner.Process"}
                assert task["retry"]["type"] == "exponential" and task["retry"]["maxAttempts"] == 3
                (command,) = task["commands"]
                assert command.startswith(
                    f"driftloop step {task['id']} --config driftloop.yaml --run-id "
                )
                for value in task["env"].values():
                    assert re.fullmatch(r"\{\{ secret\('[A-Z_]+'\) \}\}", value)
    assert ids == {
        "loop",
        "fetch_reference",
        "fetch_current",
        "detect",
        "append",
        "retrain",
        "publish",
        "alert",
    }

    detect = flows["bike-sharing-detect.yaml"]
    triggers = {t["id"]: t for t in detect["triggers"]}
    assert triggers["schedule"] == {
        "id": "schedule",
        "type": "io.kestra.plugin.core.trigger.Schedule",
        "cron": "0 11 * * MON",
        "timezone": "UTC",
    }
    assert triggers["webhook"]["type"] == "io.kestra.plugin.core.trigger.Webhook"
    assert triggers["webhook"]["key"] == "{{ secret('DRIFTLOOP_WEBHOOK_KEY') }}"
    outputs = {o["id"]: o for o in detect["outputs"]}
    assert outputs["drift_detected"] == {
        "id": "drift_detected",
        "type": "BOOLEAN",
        "value": "{{ outputs.detect.vars.fires }}",
    }
    assert [t["id"] for t in _tasks(detect)[1:]] == [
        "fetch_reference",
        "fetch_current",
        "detect",
        "append",
    ]

    for name in ("bike-sharing-retrain.yaml", "bike-sharing-alert.yaml"):
        (trigger,) = flows[name]["triggers"]
        assert trigger["type"] == "io.kestra.plugin.core.trigger.Flow"
        assert trigger["preconditions"]["flows"] == [
            {"namespace": "driftloop", "flowId": "bike-sharing-detect", "states": ["SUCCESS"]}
        ]
        assert trigger["conditions"] == [
            {
                "type": "io.kestra.plugin.core.condition.ExecutionOutputs",
                "expression": "{{ trigger.outputs.drift_detected == true }}",
            }
        ]
        assert trigger["inputs"] == {"run_id": "{{ trigger.outputs.run_id }}"}
    assert [t["id"] for t in _tasks(flows["bike-sharing-retrain.yaml"])[1:]] == [
        "retrain",
        "publish",
    ]


def test_no_secret_in_clear(exported: dict[str, str]) -> None:
    everything = "\n".join(exported.values())
    for value in ENV.values():
        assert value not in everything
    for secret in ("pg-secret-1", "url-secret-2", "slack-secret-3", "hook-secret-4"):
        assert secret not in everything
    assert "${SLACK_WEBHOOK_URL}" in exported["driftloop.yaml"]  # references travel, values do not


def test_cli_export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(
        app, ["export", "kestra", "--config", str(EXAMPLE), "-o", str(tmp_path / "flows")]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "flows").iterdir())[0] == "bike-sharing-alert.yaml"


def test_concept_monitoring_adds_its_step_and_drives_the_verdict(tmp_path: Path) -> None:
    raw = yaml.safe_load(EXAMPLE.read_text())
    raw["concept"] = {"baseline": {"start": "2012-05-01", "end": "2012-05-31"}}
    path = tmp_path / "driftloop.yaml"
    path.write_text(yaml.safe_dump(raw))
    export_kestra(path, load_config(path, env=ENV), tmp_path / "flows")
    detect = yaml.safe_load((tmp_path / "flows" / "bike-sharing-detect.yaml").read_text())
    assert [t["id"] for t in detect["tasks"][0]["tasks"]] == [
        "fetch_reference",
        "fetch_current",
        "detect",
        "concept",
        "append",
    ]
    assert detect["outputs"][0]["value"] == "{{ outputs.concept.vars.fires }}"
