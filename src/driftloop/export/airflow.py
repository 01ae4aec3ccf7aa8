"""An Airflow DAG equivalent to the loop: one ``BashOperator`` per configured step.

Each task runs the same ``driftloop step NAME --config ... --run-id ...`` command as the Kestra
export, in the step table's order (:data:`driftloop.pipeline.steps.STEPS`); a step that runs
after a failure (``alert``) gets ``trigger_rule="all_done"``, so the alert says what happened to
the model. One driftloop run per DAG run: its id is Airflow's ``run_id`` made path-safe.

The window: with the ``start`` and ``end`` params set, that window; otherwise the first task
passes the DAG run's logical date as ``--as-of`` (the window of the ``window_days`` before it,
as a scheduled ``driftloop`` run would check). Not the data interval: under ``airflow dags
test`` and manual runs ``data_interval_start`` equals ``data_interval_end``.

Retries are the config's ``orchestrator`` section. The config travels next to the DAG file (the
DAG folder reaches every worker) and the tasks run in that folder, so a ``file.py`` trainer
named relative to the config resolves; its ``${NAME}`` references are read from the worker's
environment, so no secret is written into the DAG. The stores must be shared
(:func:`driftloop.export.shared.check_shared_stores`).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from collections.abc import Mapping
from pathlib import Path

import yaml

from driftloop.config import PipelineConfig
from driftloop.errors import ConfigError
from driftloop.export.kestra import trainer_file
from driftloop.export.shared import check_shared_stores, retry_policy
from driftloop.pipeline.steps import STEPS, step_named

__all__ = ["dag_id", "dag_source", "export_airflow"]

RUN_ID = "{{ run_id | replace(':', '-') | replace('+', '-') }}"
START_DATE = "2011-01-01"  # before any window; catchup is off, so nothing is backfilled


def dag_id(config: PipelineConfig) -> str:
    """``driftloop_`` and the pipeline name, with characters Airflow refuses as ``_``.

    Examples
    --------
    >>> from driftloop.config import load_config
    >>> raw = {"pipeline": "bike-sharing", "reference": {"uri": "r.csv"},
    ...        "current": {"uri": "c.csv"}, "on_drift": {"retrain": False}}
    >>> dag_id(load_config(raw))
    'driftloop_bike-sharing'
    """
    return "driftloop_" + re.sub(r"[^A-Za-z0-9_.-]", "_", config.pipeline)


def _as_of(timezone: str) -> str:
    """The logical date as a calendar date in the schedule's time zone (a manual run of
    Airflow 3 may have no logical date: then when it was asked to run)."""
    moment = f"(logical_date or dag_run.run_after).in_timezone({timezone!r})"
    return "{{ " + moment + ".strftime('%Y-%m-%d') }}"


def _command(driftloop: str, step: str, config_name: str, first: bool) -> str:
    """The step's command; the run id and window come in the environment (never pasted into
    the shell line: a param or a run id holding a quote stays one argument)."""
    command = f'{driftloop} step {step} --config {config_name} --run-id "$DRIFTLOOP_RUN_ID"'
    if first:  # only the first task opens the run; later ones read its window
        command += ' --start "$DRIFTLOOP_START" --end "$DRIFTLOOP_END" --as-of "$DRIFTLOOP_AS_OF"'
    return command


def _task(driftloop: str, step: str, config_name: str, first: bool) -> str:
    command = _command(driftloop, step, shlex.quote(config_name), first)
    lines = [
        f"    {step} = BashOperator(",
        f"        task_id={step!r},",
        f"        bash_command={command!r},",
        f"        env={'WINDOW' if first else 'RUN'},",
        "        append_env=True,",
        "        cwd=HERE,",
    ]
    if step_named(step).after_failure:
        lines.append("        trigger_rule='all_done',")
    return "\n".join([*lines, "    )"])


def dag_source(config: PipelineConfig, config_name: str, driftloop: str = "driftloop") -> str:
    """The DAG file's Python source; ``config_name`` is the config's file next to it,
    ``driftloop`` the command that runs driftloop on the workers."""
    steps = [s for s in STEPS if s.configured(config)]
    retries = retry_policy(config)
    cron = config.schedule.cron if config.schedule else None
    timezone = config.schedule.timezone if config.schedule else "UTC"
    schedule = f"CronTriggerTimetable({cron!r}, timezone={timezone!r})" if cron else "None"
    run = shlex.quote(driftloop) if " " not in driftloop.strip() else driftloop
    tasks = [_task(run, s.name, config_name, i == 0) for i, s in enumerate(steps)]
    return _TEMPLATE.format(
        config_name=config_name,
        pipeline=config.pipeline,
        dag_id=dag_id(config),
        schedule=schedule,
        run_id=RUN_ID,
        as_of=_as_of(timezone),
        names=", ".join(s.name for s in steps),
        start_date=START_DATE,
        retries=retries.retries,
        delay=retries.delay_seconds,
        max_delay=retries.max_delay_seconds,
        tasks="\n".join(tasks),
        chain=" >> ".join(s.name for s in steps),
    )


_TEMPLATE = '''\
"""driftloop pipeline {pipeline!r} as an Airflow DAG: one task per step.

Generated by `driftloop export airflow` from {config_name}; do not edit.
Trigger a window with params {{"start": "YYYY-MM-DD", "end": "YYYY-MM-DD"}}; without them a run
checks the window before its logical date.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, Param
from airflow.timetables.trigger import CronTriggerTimetable

HERE = str(Path(__file__).resolve().parent)  # the config (and a file trainer) live here
RUN = {{"DRIFTLOOP_RUN_ID": {run_id!r}}}  # Airflow's run id, path-safe
WINDOW = {{
    **RUN,
    "DRIFTLOOP_START": "{{{{ params.start }}}}",
    "DRIFTLOOP_END": "{{{{ params.end }}}}",
    "DRIFTLOOP_AS_OF": {as_of!r},  # not the data interval: it is empty in manual runs
}}

with DAG(
    dag_id={dag_id!r},
    description="driftloop pipeline {pipeline}: {names}",
    schedule={schedule},
    start_date=dt.datetime.fromisoformat({start_date!r}).replace(tzinfo=dt.timezone.utc),
    catchup=False,
    max_active_runs=1,
    params={{
        "start": Param("", type="string", description="window start, YYYY-MM-DD"),
        "end": Param("", type="string", description="window end, YYYY-MM-DD"),
    }},
    default_args={{
        "retries": {retries},
        "retry_delay": dt.timedelta(seconds={delay}),
        "retry_exponential_backoff": True,
        "max_retry_delay": dt.timedelta(seconds={max_delay}),
    }},
    tags=["driftloop"],
) as dag:
{tasks}

    {chain}
'''


def export_airflow(
    config_path: Path,
    config: PipelineConfig,
    out_dir: Path,
    driftloop: str = "driftloop",
    *,
    env: Mapping[str, str] | None = None,
) -> list[Path]:
    """Write the DAG file, the config next to it and a ``file.py`` trainer into ``out_dir``."""
    raw_text = config_path.read_text(encoding="utf-8")
    raw = yaml.safe_load(raw_text) or {}
    check_shared_stores(raw, os.environ if env is None else env, "Airflow")
    trainer = trainer_file(raw)
    source = config_path.parent / trainer if trainer else None
    if source is not None and not source.is_file():
        raise ConfigError(f"training.entry_point names '{trainer}', which does not exist.")
    stem = dag_id(config)
    config_name = f"{stem}.yaml"
    out_dir.mkdir(parents=True, exist_ok=True)
    dag = out_dir / f"{stem}.py"
    dag.write_text(dag_source(config, config_name, driftloop), encoding="utf-8")
    copied = out_dir / config_name
    copied.write_text(raw_text, encoding="utf-8")  # still holds ${NAME} references only
    written = [dag, copied]
    if source is not None and trainer is not None:
        (out_dir / trainer).parent.mkdir(parents=True, exist_ok=True)
        written.append(Path(shutil.copyfile(source, out_dir / trainer)))
    return written
