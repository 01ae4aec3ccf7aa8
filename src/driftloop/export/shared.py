"""What every orchestrator export needs: stores its tasks share, and one retry policy.

An orchestrator runs each step as a task in a working folder of its own (Kestra's
``WorkingDirectory``, Airflow's temporary ``cwd``), maybe on another worker. The steps pass data
through the run store (``stores.runs/RUN_ID/``) and the run records (``stores.warehouse``), so a
relative path there names a different folder for every task: the export refuses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from driftloop.config import PipelineConfig, StoresConfig, resolve_env
from driftloop.errors import ConfigError

__all__ = ["RetryPolicy", "check_shared_stores", "retry_policy"]


_FOLDERS = ("runs", "artifacts", "mlflow_artifacts", "reports")


def _unshared(key: str, value: str) -> str | None:
    """Why the store ``key`` at ``value`` (as written in the config) is not one every task
    sees, or None. The run store is a local folder: only an absolute path will do (an ``s3://``
    URL there would become a relative folder named ``s3:``); the others may be URLs too.

    Examples
    --------
    >>> _unshared("runs", "/mnt/ml/runs") is None, _unshared("artifacts", "s3://b/m") is None
    (True, True)
    >>> _unshared("runs", "s3://b/runs")
    "stores.runs is 's3://b/runs', not an absolute path"
    >>> _unshared("warehouse", "sqlite:///.driftloop/w.db")
    "stores.warehouse is the SQLite file '.driftloop/w.db', a relative path"
    """
    if key in ("warehouse", "mlflow"):
        path = value.removeprefix("sqlite:///")
        if value.startswith("sqlite:///") and not path.startswith("/"):
            return f"stores.{key} is the SQLite file {path!r}, a relative path"
        return None
    if value.startswith("/") or (key != "runs" and "://" in value):
        return None
    return f"stores.{key} is {value!r}, not an absolute path"


def check_shared_stores(raw: dict[str, Any], env: Mapping[str, str], orchestrator: str) -> None:
    """Refuse, in one line, a store that each task would find in its own working folder.

    ``raw`` is the config as written (a loaded config has its relative paths made absolute
    against its own file, which an orchestrator copies into every task's folder).

    Examples
    --------
    >>> check_shared_stores({"stores": {"runs": "/mnt/ml/runs"}}, {}, "Kestra")
    Traceback (most recent call last):
    ...
    driftloop.errors.ConfigError: stores.warehouse is the SQLite file '.driftloop/warehouse.db', \
a relative path: every Kestra task runs in its own working folder, so the steps would not see \
what the others wrote. Set it to an absolute path every worker shares (e.g. \
sqlite:////mnt/ml/warehouse.db or a server URL).
    """
    found = raw.get("stores")
    stores: dict[str, Any] = found if isinstance(found, dict) else {}
    for key in ("runs", "warehouse", "mlflow", *_FOLDERS[1:]):
        value = stores.get(key, _default(key))
        if not isinstance(value, str):
            continue
        why = _unshared(key, resolve_env(value, f"stores.{key}", dict(env)))
        if why is not None:
            example = (
                "sqlite:////mnt/ml/{key}.db or a server URL"
                if key in ("warehouse", "mlflow")
                else f"/mnt/ml/{key}"
            )
            raise ConfigError(
                f"{why}: every {orchestrator} task runs in its own working folder, so the steps "
                "would not see what the others wrote. Set it to an absolute path every worker "
                f"shares (e.g. {example.format(key=key)})."
            )


def _default(key: str) -> str:
    default = StoresConfig.model_fields[key].default
    return default.get_secret_value() if isinstance(default, SecretStr) else str(default)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often a failed task is tried again: ``retries`` after the first attempt, the first
    wait ``delay_seconds``, doubling up to ``max_delay_seconds``."""

    retries: int
    delay_seconds: int
    max_delay_seconds: int

    def kestra(self) -> dict[str, object]:
        """Kestra's ``retry`` block (its ``maxAttempts`` counts the first attempt)."""
        return {
            "type": "exponential",
            "interval": f"PT{self.delay_seconds}S",
            "maxInterval": _duration(self.max_delay_seconds),
            "maxAttempts": self.retries + 1,
        }


def _duration(seconds: int) -> str:
    """An ISO 8601 duration: ``PT10M``, ``PT90S``."""
    return f"PT{seconds // 60}M" if seconds % 60 == 0 else f"PT{seconds}S"


def retry_policy(config: PipelineConfig) -> RetryPolicy:
    """The config's ``orchestrator`` retries, for every export."""
    settings = config.orchestrator
    return RetryPolicy(
        settings.retries, settings.retry_delay_seconds, settings.max_retry_delay_seconds
    )
