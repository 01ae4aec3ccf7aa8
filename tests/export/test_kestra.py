"""Kestra flows from the config: golden files, and a structural check of every generated flow."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from driftloop.cli import app
from driftloop.config import PipelineConfig, load_config
from driftloop.export.kestra import Runtime, export_kestra
from driftloop.pipeline.steps import STEPS

ROOT = Path(__file__).parents[2]
EXAMPLE = Path(__file__).with_name("shared_pipeline.yaml")  # the example, its stores shared
GOLDEN = ROOT / "tests" / "golden" / "kestra"
ENV = {
    "DRIFTLOOP_WAREHOUSE_URL": "postgresql://app:pg-secret-1@db:5432/ml",
    "BIKE_DATA_URL": "https://example.org/day.csv?token=url-secret-2",
    "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/slack-secret-3",
    "DRIFTLOOP_WEBHOOK_TOKEN": "hook-secret-4",
}
RUNTIME = Runtime(install=("driftloop==0.1.0",))  # the golden files do not move with the version
FLOW_ID = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]*$")
TASK_TYPES = {
    "io.kestra.plugin.core.flow.WorkingDirectory",
    "io.kestra.plugin.scripts.shell.Commands",
}
CONFIG = load_config(EXAMPLE, env=ENV)


def flow_steps(flow: str, config: PipelineConfig = CONFIG) -> list[str]:
    """The steps a flow runs, as the step table declares them: its own, the configured ones."""
    return [s.name for s in STEPS if s.flow == flow and s.configured(config)]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    out = tmp_path_factory.mktemp("kestra")
    export_kestra(EXAMPLE, CONFIG, out, env=ENV, runtime=RUNTIME)
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


def _flows(exported: dict[str, str]) -> dict[str, dict]:
    return {n: yaml.safe_load(t) for n, t in exported.items() if n.startswith("bike-sharing-")}


def test_every_flow_is_well_formed(exported: dict[str, str]) -> None:
    ids: set[str] = set()
    for name, flow in _flows(exported).items():
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
                # driftloop is installed into the working directory before the step runs
                install, activate = task["beforeCommands"]
                assert "pip install --quiet driftloop==0.1.0" in install
                assert activate == ". .venv/bin/activate"
    assert ids == {"loop", *(s.name for s in STEPS if s.configured(CONFIG))}


def test_detect_flow_runs_the_data_steps_and_outputs_the_verdict(exported: dict[str, str]) -> None:
    detect = _flows(exported)["bike-sharing-detect.yaml"]
    triggers = {t["id"]: t for t in detect["triggers"]}
    assert triggers["schedule"]["cron"] == "0 11 * * MON"
    assert triggers["schedule"]["timezone"] == "UTC"
    assert triggers["webhook"]["type"] == "io.kestra.plugin.core.trigger.Webhook"
    assert triggers["webhook"]["key"] == "{{ secret('DRIFTLOOP_WEBHOOK_KEY') }}"
    outputs = {o["id"]: o["value"] for o in detect["outputs"]}
    assert outputs == {
        "drift_detected": "{{ outputs.detect.vars.fires }}",
        "dataset_drift": "{{ outputs.detect.vars.dataset_drift }}",
        "run_id": "{{ execution.id }}",
    }
    assert [t["id"] for t in _tasks(detect)[1:]] == flow_steps("detect")


def test_schedule_passes_its_date_so_backfills_check_past_windows(
    exported: dict[str, str],
) -> None:
    detect = _flows(exported)["bike-sharing-detect.yaml"]
    schedule = next(t for t in detect["triggers"] if t["id"] == "schedule")
    assert schedule["inputs"] == {"as_of": "{{ trigger.date }}"}
    assert [i["id"] for i in detect["inputs"]] == ["start", "end", "as_of"]
    first, *later = _tasks(detect)[1:]
    assert "--as-of \"{{ inputs.as_of ?? '' }}\"" in first["commands"][0]
    assert all("--as-of" not in t["commands"][0] for t in later)  # the run's window is set


def test_retrain_follows_drift_and_alert_follows_retrain_whatever_its_end(
    exported: dict[str, str],
) -> None:
    flows = _flows(exported)
    retrain, alert = flows["bike-sharing-retrain.yaml"], flows["bike-sharing-alert.yaml"]
    (after_detect,) = retrain["triggers"]
    assert after_detect["type"] == "io.kestra.plugin.core.trigger.Flow"
    assert after_detect["preconditions"]["flows"] == [
        {"namespace": "driftloop", "flowId": "bike-sharing-detect", "states": ["SUCCESS"]}
    ]
    assert after_detect["conditions"] == [
        {
            "type": "io.kestra.plugin.core.condition.ExecutionOutputs",
            "expression": "{{ trigger.outputs.drift_detected == true }}",
        }
    ]
    assert [t["id"] for t in _tasks(retrain)[1:]] == flow_steps("retrain")
    # the alert waits for the model's fate, and is sent when retrain or publish failed too
    (after_retrain,) = alert["triggers"]
    assert after_retrain["preconditions"]["flows"] == [
        {
            "namespace": "driftloop",
            "flowId": "bike-sharing-retrain",
            "states": ["SUCCESS", "WARNING", "FAILED", "KILLED"],
        }
    ]
    assert "conditions" not in after_retrain
    # one driftloop run across the three flows: the detect execution's id, passed along
    assert retrain["outputs"] == [
        {"id": "run_id", "type": "STRING", "value": "{{ inputs.run_id }}"}
    ]
    for flow in (retrain, alert):
        assert flow["triggers"][0]["inputs"] == {"run_id": "{{ trigger.outputs.run_id }}"}
        for task in _tasks(flow)[1:]:
            assert "--run-id {{ inputs.run_id }}" in task["commands"][0]
    assert [t["id"] for t in _tasks(alert)[1:]] == flow_steps("alert")


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
    args = ["--config", str(EXAMPLE), "-o", str(tmp_path / "flows"), "--install", "driftloop"]
    result = CliRunner().invoke(app, ["export", "kestra", *args])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "flows").iterdir())[0] == "bike-sharing-alert.yaml"


def test_concept_monitoring_adds_its_step_and_drives_the_verdict(tmp_path: Path) -> None:
    raw = yaml.safe_load(EXAMPLE.read_text())
    raw["concept"] = {"baseline": {"start": "2012-05-01", "end": "2012-05-31"}}
    path = tmp_path / "driftloop.yaml"
    path.write_text(yaml.safe_dump(raw))
    config = load_config(path, env=ENV)
    export_kestra(path, config, tmp_path / "flows", env=ENV, runtime=RUNTIME)
    detect = yaml.safe_load((tmp_path / "flows" / "bike-sharing-detect.yaml").read_text())
    tasks = [t["id"] for t in detect["tasks"][0]["tasks"]]
    assert "concept" in tasks and tasks == flow_steps("detect", config)
    assert detect["outputs"][0]["value"] == "{{ outputs.concept.vars.fires }}"


def _export(tmp_path: Path, raw: dict, env: dict[str, str], **kwargs: object) -> dict[str, dict]:
    path = tmp_path / "driftloop.yaml"
    path.write_text(yaml.safe_dump(raw))
    out = tmp_path / "flows"
    kwargs.setdefault("runtime", RUNTIME)
    export_kestra(path, load_config(path, env=env), out, env=env, **kwargs)  # type: ignore[arg-type]
    return {p.name: yaml.safe_load(p.read_text()) for p in out.glob("*-*.yaml")}


def test_only_real_secrets_become_kestra_secrets(tmp_path: Path) -> None:
    raw = yaml.safe_load(EXAMPLE.read_text())
    raw["model"]["name"] = "${MODEL_NAME}"
    raw["alerts"]["webhooks"] = [{"url": "https://alerts.example.org/in?api_key=${ALERT_KEY}"}]
    raw["reports"] = {"base_url": "${REPORTS_URL}"}
    env = {
        **ENV,
        "BIKE_DATA_URL": "https://example.org/day.csv",  # no credential in it: a plain setting
        "MODEL_NAME": "bike-demand",
        "REPORTS_URL": "https://dash.example.org/{{run}}/",
        "ALERT_KEY": "key-secret-5",
    }
    flows = _export(tmp_path, raw, env)
    (task, *_) = _tasks(flows["bike-sharing-detect.yaml"])[1:]
    assert task["env"] == {
        "ALERT_KEY": "{{ secret('ALERT_KEY') }}",
        "BIKE_DATA_URL": "https://example.org/day.csv",
        "DRIFTLOOP_WAREHOUSE_URL": "{{ secret('DRIFTLOOP_WAREHOUSE_URL') }}",
        "DRIFTLOOP_WEBHOOK_TOKEN": "{{ secret('DRIFTLOOP_WEBHOOK_TOKEN') }}",
        "MODEL_NAME": "bike-demand",
        "REPORTS_URL": "{% raw %}https://dash.example.org/{{run}}/{% endraw %}",  # not rendered
        "SLACK_WEBHOOK_URL": "{{ secret('SLACK_WEBHOOK_URL') }}",
    }
    everything = "\n".join(p.read_text() for p in (tmp_path / "flows").iterdir())
    for secret in ("pg-secret-1", "slack-secret-3", "hook-secret-4", "key-secret-5"):
        assert secret not in everything


def test_a_url_with_a_token_stays_a_secret_and_s3_keys_are_secrets(tmp_path: Path) -> None:
    raw = yaml.safe_load(EXAMPLE.read_text())
    raw["stores"]["artifacts"] = "s3://models/bikes"
    flows = _export(tmp_path, raw, ENV)  # BIKE_DATA_URL carries ?token=
    env = _tasks(flows["bike-sharing-retrain.yaml"])[1]["env"]
    for name in ("BIKE_DATA_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        assert env[name] == f"{{{{ secret('{name}') }}}}"


def test_a_file_trainer_travels_with_the_flows(tmp_path: Path) -> None:
    raw = yaml.safe_load(EXAMPLE.read_text())
    raw["training"]["entry_point"] = "trainers/train.py:train"
    (tmp_path / "trainers").mkdir()
    (tmp_path / "trainers" / "train.py").write_text("def train(X, y, params): ...\n")
    flows = _export(tmp_path, raw, ENV)
    for flow in flows.values():
        assert flow["tasks"][0]["namespaceFiles"]["include"] == [
            "driftloop.yaml",
            "trainers/train.py",
        ]
    copied = tmp_path / "flows" / "trainers" / "train.py"
    assert copied.read_text() == "def train(X, y, params): ...\n"


def test_a_container_image_replaces_the_install_step(tmp_path: Path) -> None:
    image = "ghcr.io/acme/driftloop:0.1.0"
    flows = _export(tmp_path, yaml.safe_load(EXAMPLE.read_text()), ENV, runtime=Runtime(image))
    for flow in flows.values():
        for task in _tasks(flow)[1:]:
            assert task["taskRunner"] == {"type": "io.kestra.plugin.scripts.runner.docker.Docker"}
            assert task["containerImage"] == image and "beforeCommands" not in task


@pytest.mark.parametrize(
    ("args", "entry_point", "message"),
    [
        (["--namespace", "Bad Space"], None, "--namespace must be lowercase"),
        (["--image", "img:1", "--install", "driftloop"], None, "Pass --image, or --install"),
        (["--install", "driftloop"], "../train.py:train", "training.entry_point '../train.py"),
        ([], None, "Say how the Kestra tasks get driftloop: --image IMAGE"),
        (["--wheel", "dist/driftloop.tar.gz"], None, "--wheel names 'dist/driftloop.tar.gz',"),
        (["--stores", "runs=.driftloop/runs"], None, "stores.runs is '.driftloop/runs', not an"),
        (["--stores", "runs=s3://models/runs"], None, "stores.runs is 's3://models/runs', not"),
        (["--stores", "mlflow=sqlite:///m.db"], None, "stores.mlflow is the SQLite file 'm.db'"),
        (["--stores", "reports=reports"], None, "stores.reports is 'reports', not an absolute"),
    ],
    ids=[
        "namespace",
        "image-and-install",
        "trainer-outside",
        "no-runtime",
        "not-a-wheel",
        "relative-runs",
        "s3-runs",
        "relative-mlflow",
        "relative-reports",
    ],
)
def test_cli_export_bad_input_is_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    entry_point: str | None,
    message: str,
) -> None:
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    raw = yaml.safe_load(EXAMPLE.read_text())
    if entry_point:
        raw["training"]["entry_point"] = entry_point
        (tmp_path / "train.py").write_text("def train(X, y, params): ...\n")
    if args[:1] == ["--stores"]:  # a store as written in the config, not an option
        key, _, value = args.pop(1).partition("=")
        raw["stores"][key] = value
        args = ["--install", "driftloop"]
    if args[:1] == ["--wheel"]:
        monkeypatch.chdir(tmp_path)
        (tmp_path / "dist").mkdir()
        (tmp_path / "dist" / "driftloop.tar.gz").write_text("")
    (tmp_path / "cfg").mkdir()
    config = tmp_path / "cfg" / "driftloop.yaml"
    config.write_text(yaml.safe_dump(raw))
    out = tmp_path / "flows"
    result = CliRunner().invoke(
        app, ["export", "kestra", "--config", str(config), "-o", str(out), *args]
    )
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert message in line and "Traceback" not in result.output
    assert not out.exists()  # nothing written


@pytest.mark.parametrize(
    ("as_of", "window"),
    [
        ("2011-03-07T11:00:00Z", ("2011-02-28", "2011-03-06")),  # Kestra's trigger.date
        ("2011-03-07T11:00+01:00[Europe/Paris]", ("2011-02-28", "2011-03-06")),
        ("2011-03-14", ("2011-03-07", "2011-03-13")),
    ],
    ids=["utc", "zoned", "date"],
)
def test_the_scheduled_task_checks_the_window_before_its_date(
    tmp_path: Path, as_of: str, window: tuple[str, str]
) -> None:
    """The first task's command, as Kestra renders it for a schedule (or backfill) date."""
    from driftloop.pipeline.records import RunStore

    rows = "dteday,temp\n" + "".join(f"2011-03-{d:02d},0.{d}\n" for d in range(1, 29))
    (tmp_path / "day.csv").write_text(rows)
    config = tmp_path / "driftloop.yaml"
    config.write_text(
        "pipeline: bikes\nreference: {uri: day.csv}\n"
        "current: {uri: day.csv, date_column: dteday}\nschedule: {window_days: 7}\n"
        "on_drift: {retrain: false, publish: false}\n"
    )
    command = f'--start "" --end "" --as-of "{as_of}"'  # inputs.start/end unset
    args = ["step", "fetch_reference", "--config", str(config), "--run-id", "exec-1"]
    result = CliRunner().invoke(app, [*args, *shlex.split(command)])
    assert result.exit_code == 0, result.output
    record = RunStore(load_config(config).stores.warehouse.get_secret_value()).run("exec-1")
    assert record is not None and (record["window_start"], record["window_end"]) == window


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of", "next monday"], "--as-of must be a date like 2011-02-07 or a date-time"),
        (["--as-of", "2011-02-30"], "Got '2011-02-30'"),
        (["--as-of", "2011-02-07X11"], "Got '2011-02-07X11'"),
        (["--start", "2011-02-01"], "Pass both --start and --end, or neither."),
    ],
    ids=["words", "no-such-day", "bad-separator", "start-alone"],
)
def test_step_window_options_bad_input(tmp_path: Path, args: list[str], message: str) -> None:
    config = tmp_path / "driftloop.yaml"
    config.write_text(
        "pipeline: bikes\nreference: {uri: day.csv}\ncurrent: {uri: day.csv}\n"
        "on_drift: {retrain: false, publish: false}\n"
    )
    result = CliRunner().invoke(
        app, ["step", "fetch_reference", "--config", str(config), "--run-id", "r1", *args]
    )
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert message in line
    assert not (tmp_path / ".driftloop").exists()  # no run record, no warehouse file


def _expressions(node: object) -> list[str]:
    if isinstance(node, str):
        return re.findall(r"\{\{(.*?)\}\}", node)
    if isinstance(node, dict):
        return [e for value in node.values() for e in _expressions(value)]
    if isinstance(node, list):
        return [e for value in node for e in _expressions(value)]
    return []


def test_every_expression_names_what_its_flow_declares(exported: dict[str, str]) -> None:
    """inputs.X is a declared input, outputs.T a task of the flow, trigger.outputs.X an output
    of the flow the trigger follows — a typo would only show up in Kestra, at run time."""
    flows = {f["id"]: f for f in _flows(exported).values()}
    for flow in flows.values():
        inputs = {i["id"] for i in flow["inputs"]}
        tasks = {t["id"] for t in _tasks(flow)}
        for expression in _expressions(flow["tasks"]) + _expressions(flow.get("outputs", [])):
            assert set(re.findall(r"inputs\.(\w+)", expression)) <= inputs, expression
            assert set(re.findall(r"\boutputs\.(\w+)\.vars", expression)) <= tasks, expression
        for trigger in flow["triggers"]:
            if trigger["type"].endswith("trigger.Flow"):
                (upstream,) = trigger["preconditions"]["flows"]
                declared = {o["id"] for o in flows[upstream["flowId"]].get("outputs", [])}
                used = set(re.findall(r"trigger\.outputs\.(\w+)", str(trigger)))
                assert used and used <= declared, (flow["id"], used, declared)
                assert set(trigger["inputs"]) <= inputs
            elif "inputs" in trigger:
                assert set(trigger["inputs"]) <= inputs


def test_a_wheel_travels_as_a_namespace_file_and_is_installed_first(tmp_path: Path) -> None:
    wheel = tmp_path / "dist" / "driftloop-0.1.0-py3-none-any.whl"
    wheel.parent.mkdir()
    wheel.write_bytes(b"PK")
    runtime = Runtime(install=("team-trainers>=2",), wheel=str(wheel))
    flows = _export(tmp_path, yaml.safe_load(EXAMPLE.read_text()), ENV, runtime=runtime)
    assert (tmp_path / "flows" / wheel.name).read_bytes() == b"PK"
    for flow in flows.values():
        assert flow["tasks"][0]["namespaceFiles"]["include"] == ["driftloop.yaml", wheel.name]
        for task in _tasks(flow)[1:]:
            install = task["beforeCommands"][0]
            assert install.endswith(f"pip install --quiet ./{wheel.name} 'team-trainers>=2')"), (
                install
            )


def test_retries_come_from_the_config(tmp_path: Path) -> None:
    raw = yaml.safe_load(EXAMPLE.read_text())
    raw["orchestrator"] = {"retries": 5, "retry_delay_seconds": 20, "max_retry_delay_seconds": 90}
    flows = _export(tmp_path, raw, ENV)
    for flow in flows.values():
        for task in _tasks(flow)[1:]:
            assert task["retry"] == {
                "type": "exponential",
                "interval": "PT20S",
                "maxInterval": "PT90S",
                "maxAttempts": 6,
            }
