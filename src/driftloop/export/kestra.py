"""Kestra flows equivalent to the seed pipeline's three, calling the same ``driftloop step`` CLI.

- ``<pipeline>-detect``: Schedule trigger (the config's cron) and Webhook trigger (its key a
  secret); the steps of the ``detect`` flow (fetch_reference, fetch_current, detect, concept when
  configured, append) in one working directory; flow outputs ``drift_detected`` (the
  ``on_drift`` verdict), ``dataset_drift`` and ``run_id``.
- ``<pipeline>-retrain`` and ``<pipeline>-alert``: Flow triggers with preconditions on the detect
  flow's SUCCESS and an ExecutionOutputs condition on ``drift_detected``; they continue the same
  run (its id is the detect execution's) with the steps of the ``retrain`` flow (retrain,
  publish) or the ``alert`` flow (alert).

Which task goes in which flow is the step table's (:data:`driftloop.pipeline.steps.STEPS`).

Every task retries with exponential backoff; each flow runs one execution at a time (QUEUE).
Secrets are never written: each ``${NAME}`` reference in the config becomes an environment
variable ``NAME: "{{ secret('NAME') }}"`` (open-source Kestra reads ``SECRET_NAME``, base64).
The config travels as a namespace file; ``stores.runs`` must be a path the workers share.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from driftloop.config import PipelineConfig
from driftloop.pipeline.steps import STEPS, step_named

__all__ = ["export_kestra", "flows"]

_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
SHELL = "io.kestra.plugin.scripts.shell.Commands"
PROCESS = "io.kestra.plugin.core.runner.Process"
WORKDIR = "io.kestra.plugin.core.flow.WorkingDirectory"
RETRY = {"type": "exponential", "interval": "PT30S", "maxInterval": "PT10M", "maxAttempts": 3}
WEBHOOK_KEY_SECRET = "DRIFTLOOP_WEBHOOK_KEY"


def _secret_env(raw_text: str, config: PipelineConfig) -> dict[str, str]:
    names = sorted(set(_REF.findall(raw_text)))
    if config.stores.artifacts.startswith("s3://"):
        names = sorted({*names, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"})
    return {name: f"{{{{ secret('{name}') }}}}" for name in names}


def _step(
    name: str, env: dict[str, str], window: bool = False, run_id: str = "{{ execution.id }}"
) -> dict[str, Any]:
    command = f"driftloop step {name} --config driftloop.yaml --run-id {run_id}"
    if window:
        command += (
            " --start \"{{ inputs.start ?? (trigger.body.start ?? '') }}\""
            " --end \"{{ inputs.end ?? (trigger.body.end ?? '') }}\""
        )
    return {
        "id": name,
        "type": SHELL,
        "taskRunner": {"type": PROCESS},
        "env": dict(env),
        "commands": [command],
        "retry": dict(RETRY),
    }


def _flow_steps(config: PipelineConfig, flow: str) -> list[str]:
    """The configured steps the flow runs, in the table's order."""
    return [s.name for s in STEPS if s.flow == flow and s.configured(config)]


def _working_directory(tasks: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": "loop",
        "type": WORKDIR,
        "namespaceFiles": {"enabled": True, "include": ["driftloop.yaml"]},
        "tasks": tasks,
    }


def _after_detect(namespace: str, detect_id: str) -> dict[str, Any]:
    return {
        "id": "after_detect",
        "type": "io.kestra.plugin.core.trigger.Flow",
        "inputs": {"run_id": "{{ trigger.outputs.run_id }}"},
        "preconditions": {
            "id": "detect_succeeded",
            "flows": [{"namespace": namespace, "flowId": detect_id, "states": ["SUCCESS"]}],
        },
        "conditions": [
            {
                "type": "io.kestra.plugin.core.condition.ExecutionOutputs",
                "expression": "{{ trigger.outputs.drift_detected == true }}",
            }
        ],
    }


CONCURRENCY = {"limit": 1, "behavior": "QUEUE"}
WINDOW_INPUTS = [
    {"id": "start", "type": "STRING", "required": False, "description": "window start, YYYY-MM-DD"},
    {"id": "end", "type": "STRING", "required": False, "description": "window end, YYYY-MM-DD"},
]
RUN_INPUT = [{"id": "run_id", "type": "STRING", "description": "the detect execution's run id"}]
DESCRIPTIONS = {
    "detect": "fetch, detect drift, append the window.",
    "retrain": "retrain, promote if better, publish.",
    "alert": "alert the team through the outbox.",
}


def _flow(config: PipelineConfig, flow: str, namespace: str, **fields: Any) -> dict[str, Any]:
    """The fields every flow has, in the order Kestra's editor shows them, then ``fields``."""
    name = config.pipeline
    head = {
        "id": f"{name}-{flow}",
        "namespace": namespace,
        "description": f"driftloop pipeline '{name}': {DESCRIPTIONS[flow]}",
        "labels": {"driftloop.pipeline": name},
    }
    return head | fields


def _detect_triggers(config: PipelineConfig) -> list[dict[str, Any]]:
    """The config's cron (when it has a schedule) and a webhook keyed by a secret."""
    triggers: list[dict[str, Any]] = []
    if config.schedule is not None:
        triggers.append(
            {
                "id": "schedule",
                "type": "io.kestra.plugin.core.trigger.Schedule",
                "cron": config.schedule.cron,
                "timezone": config.schedule.timezone,
            }
        )
    key = f"{{{{ secret('{WEBHOOK_KEY_SECRET}') }}}}"
    triggers.append({"id": "webhook", "type": "io.kestra.plugin.core.trigger.Webhook", "key": key})
    return triggers


def _detect_flow(config: PipelineConfig, env: dict[str, str], namespace: str) -> dict[str, Any]:
    detecting = _flow_steps(config, "detect")
    verdict_task = [s for s in detecting if step_named(s).verdict][-1]  # concept's covers both
    outputs = [
        {
            "id": "drift_detected",
            "type": "BOOLEAN",
            "value": f"{{{{ outputs.{verdict_task}.vars.fires }}}}",
        },
        {
            "id": "dataset_drift",
            "type": "BOOLEAN",
            "value": "{{ outputs.detect.vars.dataset_drift }}",
        },
        {"id": "run_id", "type": "STRING", "value": "{{ execution.id }}"},
    ]
    return _flow(
        config,
        "detect",
        namespace,
        inputs=WINDOW_INPUTS,
        concurrency=CONCURRENCY,
        tasks=[_working_directory([_step(s, env, window=i == 0) for i, s in enumerate(detecting)])],
        outputs=outputs,
        triggers=_detect_triggers(config),
    )


def _follow_up_flow(
    config: PipelineConfig, flow: str, env: dict[str, str], namespace: str
) -> dict[str, Any]:
    """A flow that continues the detect execution's run when it found drift that matters."""
    tasks = [_step(s, env, run_id="{{ inputs.run_id }}") for s in _flow_steps(config, flow)]
    return _flow(
        config,
        flow,
        namespace,
        inputs=RUN_INPUT,
        concurrency=CONCURRENCY,
        tasks=[_working_directory(tasks)],
        triggers=[_after_detect(namespace, f"{config.pipeline}-detect")],
    )


def flows(
    config: PipelineConfig, raw_text: str, namespace: str = "driftloop"
) -> dict[str, dict[str, Any]]:
    """The three flows as dicts (flow id -> flow)."""
    env = _secret_env(raw_text, config)
    built = [
        _detect_flow(config, env, namespace),
        _follow_up_flow(config, "retrain", env, namespace),
        _follow_up_flow(config, "alert", env, namespace),
    ]
    return {flow["id"]: flow for flow in built}


def export_kestra(
    config_path: Path, config: PipelineConfig, out_dir: Path, namespace: str = "driftloop"
) -> list[Path]:
    """Write the flows (and the config as the namespace file they read) into ``out_dir``."""
    raw_text = config_path.read_text(encoding="utf-8")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for flow_id, flow in flows(config, raw_text, namespace).items():
        path = out_dir / f"{flow_id}.yaml"
        header = f"# Generated by `driftloop export kestra` from {config_path.name}; do not edit.\n"
        path.write_text(header + yaml.safe_dump(flow, sort_keys=False, width=100), encoding="utf-8")
        written.append(path)
    namespace_file = out_dir / "driftloop.yaml"
    namespace_file.write_text(raw_text, encoding="utf-8")  # still holds ${NAME} references only
    written.append(namespace_file)
    return written
