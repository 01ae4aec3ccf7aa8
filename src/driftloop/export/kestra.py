"""Kestra flows equivalent to the seed pipeline's three, calling the same ``driftloop step`` CLI.

- ``<pipeline>-detect``: Schedule trigger (the config's cron; it passes ``trigger.date`` as the
  ``as_of`` input, so a backfill checks the windows of past dates) and Webhook trigger (its key a
  secret); the steps of the ``detect`` flow (fetch_reference, fetch_current, detect, concept when
  configured, append) in one working directory; flow outputs ``drift_detected`` (the
  ``on_drift`` verdict), ``dataset_drift`` and ``run_id``.
- ``<pipeline>-retrain``: a Flow trigger on the detect flow's SUCCESS with an ExecutionOutputs
  condition on ``drift_detected``; continues the same run (its id is the detect execution's) with
  the steps of the ``retrain`` flow (retrain, publish).
- ``<pipeline>-alert``: a Flow trigger on the retrain flow's end, whatever its state, so the alert
  says what happened to the model (promoted, rejected, not published, failed).

Which task goes in which flow is the step table's (:data:`driftloop.pipeline.steps.STEPS`).

Every task retries with exponential backoff; each flow runs one execution at a time (QUEUE).
Tasks run in a container image with driftloop installed (``image``), or on the worker's Python
after ``beforeCommands`` install driftloop into a virtualenv of the execution's working directory:
from a wheel shipped as a namespace file (``wheel``) or pip requirements (``install``); one of the
three is required (no public index serves driftloop).
Only secrets become ``{{ secret('NAME') }}`` (open-source Kestra reads ``SECRET_NAME``, base64):
a ``${NAME}`` reference in a secret field, with a secret-looking name or a credential-bearing
value; other references are written inline with their value. The config and a ``file.py`` trainer
travel as namespace files. Every task runs in a working folder of its own, so the stores must be
ones every worker shares (:func:`driftloop.export.shared.check_shared_stores`).
"""

from __future__ import annotations

import re
import shlex
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from driftloop.config import PipelineConfig, secret_field
from driftloop.errors import ConfigError
from driftloop.export.shared import check_shared_stores, retry_policy
from driftloop.pipeline.steps import STEPS
from driftloop.redaction import redact

__all__ = ["Runtime", "export_kestra", "flows"]

_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSW|PWD|KEY|CREDENTIAL", re.IGNORECASE)
SHELL = "io.kestra.plugin.scripts.shell.Commands"
PROCESS = "io.kestra.plugin.core.runner.Process"
DOCKER = "io.kestra.plugin.scripts.runner.docker.Docker"
WORKDIR = "io.kestra.plugin.core.flow.WorkingDirectory"
FLOW_TRIGGER = "io.kestra.plugin.core.trigger.Flow"
WEBHOOK_KEY_SECRET = "DRIFTLOOP_WEBHOOK_KEY"
ENDED = ["SUCCESS", "WARNING", "FAILED", "KILLED"]
CONFIG_FILE = "driftloop.yaml"


@dataclass(frozen=True, slots=True)
class Runtime:
    """Where the tasks run: ``image`` (a container image with driftloop installed), else the
    worker's Python, into which ``wheel`` (a driftloop wheel shipped as a namespace file) and
    ``install`` (pip requirements) are installed once per execution.

    Examples
    --------
    >>> runtime = Runtime(install=("driftloop==0.1.0", "team-trainers>=2"))
    >>> runtime.before_commands()[0].split("pip ")[1]
    "install --quiet driftloop==0.1.0 'team-trainers>=2')"
    >>> Runtime(wheel="dist/driftloop-0.1.0-py3-none-any.whl").requirements()
    ('./driftloop-0.1.0-py3-none-any.whl',)
    >>> Runtime(image="ghcr.io/acme/driftloop:0.1.0").task_fields()["containerImage"]
    'ghcr.io/acme/driftloop:0.1.0'
    """

    image: str | None = None
    install: tuple[str, ...] = ()
    wheel: str | None = None

    def wheel_name(self) -> str | None:
        """The wheel's namespace file (its file name), when there is one to ship."""
        return PurePosixPath(self.wheel).name if self.wheel and self.image is None else None

    def requirements(self) -> tuple[str, ...]:
        wheel = self.wheel_name()
        return ((f"./{wheel}",) if wheel else ()) + self.install

    def check(self) -> None:
        """Without an image, something must install driftloop: no index serves it."""
        if self.image is None and not self.requirements():
            raise ConfigError(
                "Say how the Kestra tasks get driftloop: --image IMAGE (driftloop installed in "
                "it), --wheel dist/driftloop-VERSION-py3-none-any.whl (build it with `pip wheel "
                "--no-deps -w dist .`; it travels as a namespace file) or --install REQUIREMENT "
                "(a pip requirement your index or a URL serves)."
            )

    def before_commands(self) -> list[str]:
        requirements = " ".join(shlex.quote(r) for r in self.requirements())
        return [
            "test -x .venv/bin/driftloop || (python3 -m venv .venv && "
            f".venv/bin/pip install --quiet {requirements})",
            ". .venv/bin/activate",
        ]

    def task_fields(self) -> dict[str, Any]:
        if self.image is not None:
            return {"taskRunner": {"type": DOCKER}, "containerImage": self.image}
        return {"taskRunner": {"type": PROCESS}, "beforeCommands": self.before_commands()}


def _references(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    if isinstance(node, str):
        yield from ((path, name) for name in _REF.findall(node))
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _references(value, (*path, str(key)))
    elif isinstance(node, list):
        for value in node:
            yield from _references(value, path)


def _inline(value: str) -> str:
    """A plain setting as Kestra must see it: never rendered as an expression."""
    return f"{{% raw %}}{value}{{% endraw %}}" if "{{" in value or "{%" in value else value


def task_env(raw: Any, config: PipelineConfig, env: Mapping[str, str]) -> dict[str, str]:
    """The tasks' environment: each ``${NAME}`` of the config, as a Kestra secret when it is one
    (a secret field, a secret-looking name, or a value carrying a credential), else inline."""
    secrets: set[str] = set()
    plain: set[str] = set()
    for path, name in _references(raw):
        value = env.get(name, "")
        is_secret = secret_field(path) or _SECRET_NAME.search(name) or redact(value) != value
        (secrets if is_secret else plain).add(name)
    if config.stores.artifacts.startswith("s3://"):
        secrets |= {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    out = {name: f"{{{{ secret('{name}') }}}}" for name in secrets}
    for name in plain - secrets:
        if name not in env:
            raise ConfigError(f"The config references ${{{name}}}, which is not set. Export it.")
        out[name] = _inline(env[name])
    return dict(sorted(out.items()))


def trainer_file(raw: Any) -> str | None:
    """The ``file.py`` of a ``file.py:function`` entry point, relative to the config's folder
    (a module entry point comes with an installed package: None)."""
    training = raw.get("training") if isinstance(raw, dict) else None
    entry = training.get("entry_point") if isinstance(training, dict) else None
    target, sep, _ = str(entry or "").rpartition(":")
    if not sep or not target.endswith(".py"):
        return None
    path = PurePosixPath(target)
    if path.is_absolute() or ".." in path.parts:
        raise ConfigError(
            f"training.entry_point '{entry}' is outside the config's folder; the Kestra export "
            "carries the trainer as a namespace file next to driftloop.yaml. Move the trainer "
            "into the config's folder and name it relative to it."
        )
    return path.as_posix()


@dataclass(frozen=True, slots=True)
class _Tasks:
    """What every task of the export shares."""

    env: dict[str, str]
    runtime: Runtime
    files: list[str]
    retry: dict[str, object]

    def step(self, name: str, run_id: str = "{{ execution.id }}", window: bool = False) -> Any:
        command = f"driftloop step {name} --config {CONFIG_FILE} --run-id {run_id}"
        if window:  # only the first task opens the run; later ones read its window
            command += (
                " --start \"{{ inputs.start ?? (trigger.body.start ?? '') }}\""
                " --end \"{{ inputs.end ?? (trigger.body.end ?? '') }}\""
                " --as-of \"{{ inputs.as_of ?? '' }}\""
            )
        return {
            "id": name,
            "type": SHELL,
            **self.runtime.task_fields(),
            "env": dict(self.env),
            "commands": [command],
            "retry": dict(self.retry),
        }

    def directory(self, steps: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "id": "loop",
            "type": WORKDIR,
            "namespaceFiles": {"enabled": True, "include": list(self.files)},
            "tasks": steps,
        }


def _flow_trigger(namespace: str, pipeline: str, after: str, states: list[str]) -> Any:
    flow = {"namespace": namespace, "flowId": f"{pipeline}-{after}", "states": states}
    trigger: dict[str, Any] = {
        "id": f"after_{after}",
        "type": FLOW_TRIGGER,
        "inputs": {"run_id": "{{ trigger.outputs.run_id }}"},
        "preconditions": {"id": f"{after}_ended", "flows": [flow]},
    }
    if after == "detect":  # retrain only when the verdict fires
        trigger["conditions"] = [
            {
                "type": "io.kestra.plugin.core.condition.ExecutionOutputs",
                "expression": "{{ trigger.outputs.drift_detected == true }}",
            }
        ]
    return trigger


def _input(name: str, description: str) -> dict[str, Any]:
    return {"id": name, "type": "STRING", "required": False, "description": description}


def _detect_triggers(config: PipelineConfig) -> list[dict[str, Any]]:
    triggers: list[dict[str, Any]] = []
    if config.schedule is not None:
        triggers.append(
            {
                "id": "schedule",
                "type": "io.kestra.plugin.core.trigger.Schedule",
                "cron": config.schedule.cron,
                "timezone": config.schedule.timezone,
                "inputs": {"as_of": "{{ trigger.date }}"},  # a backfill's past dates too
            }
        )
    key = f"{{{{ secret('{WEBHOOK_KEY_SECRET}') }}}}"
    triggers.append({"id": "webhook", "type": "io.kestra.plugin.core.trigger.Webhook", "key": key})
    return triggers


def _flow_steps(config: PipelineConfig, flow: str) -> list[str]:
    """The configured steps the flow runs, in the table's order."""
    return [s.name for s in STEPS if s.flow == flow and s.configured(config)]


def _detect_flow(config: PipelineConfig, tasks: _Tasks) -> dict[str, Any]:
    names = _flow_steps(config, "detect")
    steps = [tasks.step(name, window=i == 0) for i, name in enumerate(names)]
    # the last configured verdict step's `fires` (concept's covers data and concept drift)
    verdict = [s.name for s in STEPS if s.verdict and s.name in names][-1]
    days = config.schedule.window_days if config.schedule else 7
    return {
        "description": f"driftloop pipeline '{config.pipeline}': fetch, detect drift, append.",
        "inputs": [
            _input("start", "window start, YYYY-MM-DD"),
            _input("end", "window end, YYYY-MM-DD"),
            _input("as_of", f"without start/end: the {days} days before this date (default today)"),
        ],
        "tasks": [tasks.directory(steps)],
        "outputs": [
            {"id": "drift_detected", "type": "BOOLEAN", "value": _var(verdict, "fires")},
            {"id": "dataset_drift", "type": "BOOLEAN", "value": _var("detect", "dataset_drift")},
            {"id": "run_id", "type": "STRING", "value": "{{ execution.id }}"},
        ],
        "triggers": _detect_triggers(config),
    }


def _var(task: str, name: str) -> str:
    return f"{{{{ outputs.{task}.vars.{name} }}}}"


def flows(
    config: PipelineConfig,
    raw_text: str,
    namespace: str = "driftloop",
    *,
    env: Mapping[str, str] | None = None,
    runtime: Runtime | None = None,
) -> dict[str, dict[str, Any]]:
    """The three flows as dicts (flow id -> flow), in the order they run."""
    import os

    raw = yaml.safe_load(raw_text) or {}
    environ = os.environ if env is None else env
    check_shared_stores(raw, environ, "Kestra")
    trainer = trainer_file(raw)
    runtime = runtime or Runtime()
    runtime.check()
    wheel = runtime.wheel_name()
    shipped = [wheel] if wheel else []
    tasks = _Tasks(
        task_env(raw, config, environ),
        runtime,
        [CONFIG_FILE] + ([trainer] if trainer else []) + shipped,
        retry_policy(config).kestra(),
    )
    name = config.pipeline
    continued = [{"id": "run_id", "type": "STRING", "description": "the detect execution's id"}]
    run = "{{ inputs.run_id }}"
    retrain = {
        "description": f"driftloop pipeline '{name}': retrain, promote if better, publish.",
        "inputs": continued,
        "tasks": [tasks.directory([tasks.step(s, run) for s in _flow_steps(config, "retrain")])],
        # an input, not a task output: it resolves whatever state the flow ends in
        "outputs": [{"id": "run_id", "type": "STRING", "value": "{{ inputs.run_id }}"}],
        "triggers": [_flow_trigger(namespace, name, "detect", ["SUCCESS"])],
    }
    alert = {
        "description": f"driftloop pipeline '{name}': alert the team, with the model's fate.",
        "inputs": continued,
        "tasks": [tasks.directory([tasks.step(s, run) for s in _flow_steps(config, "alert")])],
        "triggers": [_flow_trigger(namespace, name, "retrain", ENDED)],
    }
    bodies = {"detect": _detect_flow(config, tasks), "retrain": retrain, "alert": alert}
    return {f"{name}-{part}": _flow(part, namespace, name, body) for part, body in bodies.items()}


def _flow(part: str, namespace: str, pipeline: str, body: dict[str, Any]) -> dict[str, Any]:
    description, inputs = body.pop("description"), body.pop("inputs")
    return {
        "id": f"{pipeline}-{part}",
        "namespace": namespace,
        "description": description,
        "labels": {"driftloop.pipeline": pipeline},
        "inputs": inputs,
        "concurrency": {"limit": 1, "behavior": "QUEUE"},
        **body,
    }


def export_kestra(
    config_path: Path,
    config: PipelineConfig,
    out_dir: Path,
    namespace: str = "driftloop",
    *,
    env: Mapping[str, str] | None = None,
    runtime: Runtime | None = None,
) -> list[Path]:
    """Write the flows, the config, a ``file.py`` trainer and a driftloop wheel (the namespace
    files the flows read) into ``out_dir``."""
    raw_text = config_path.read_text(encoding="utf-8")
    generated = flows(config, raw_text, namespace, env=env, runtime=runtime)
    trainer = trainer_file(yaml.safe_load(raw_text) or {})
    source = config_path.parent / trainer if trainer else None
    if source is not None and not source.is_file():
        raise ConfigError(f"training.entry_point names '{trainer}', which does not exist.")
    wheel = Path(runtime.wheel) if runtime and runtime.wheel_name() and runtime.wheel else None
    if wheel is not None and not (wheel.is_file() and wheel.suffix == ".whl"):
        raise ConfigError(
            f"--wheel names '{wheel}', which is not a wheel file. Build one with: "
            "pip wheel --no-deps -w dist ."
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for flow_id, flow in generated.items():
        path = out_dir / f"{flow_id}.yaml"
        header = f"# Generated by `driftloop export kestra` from {config_path.name}; do not edit.\n"
        path.write_text(header + yaml.safe_dump(flow, sort_keys=False, width=100), encoding="utf-8")
        written.append(path)
    namespace_file = out_dir / CONFIG_FILE
    namespace_file.write_text(raw_text, encoding="utf-8")  # still holds ${NAME} references only
    written.append(namespace_file)
    if source is not None and trainer is not None:
        (out_dir / trainer).parent.mkdir(parents=True, exist_ok=True)
        written.append(Path(shutil.copyfile(source, out_dir / trainer)))
    if wheel is not None:
        written.append(Path(shutil.copyfile(wheel, out_dir / wheel.name)))
    return written
