"""``driftloop.yaml``: one pipeline's sources, detection, actions, schedule and stores.

Validated with pydantic; ``driftloop config schema`` prints the JSON Schema and ``driftloop init``
writes a commented example. Secrets are ``${ENV_VAR}`` references, resolved when the config is
loaded and held as :class:`pydantic.SecretStr`, so they never appear in logs, reports, run records
or error messages. Config errors name the field path and the bad value.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Any, Literal, Self

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from driftloop.drift.settings import DetectionSettings, describe_validation_error
from driftloop.errors import ConfigError

__all__ = [
    "AlertsConfig",
    "PipelineConfig",
    "SourceConfig",
    "load_config",
    "read_yaml",
    "resolve_env",
]

_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,62}$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceConfig(_Model):
    """Where a table comes from: a file/URL (``uri``) or a database (``url`` + table/query)."""

    uri: str | None = Field(None, description="CSV/Parquet path, http(s):// or s3:// URL")
    url: SecretStr | None = Field(None, description="SQLAlchemy URL; ${ENV} references allowed")
    table: str | None = None
    query: str | None = None
    date_column: str | None = Field(None, description="column the window filters on")
    start: dt.date | None = Field(None, description="fixed window start (inclusive)")
    end: dt.date | None = Field(None, description="fixed window end (inclusive)")
    lag_days: int | None = Field(
        None,
        ge=1,
        description="reference only: the run's window moved back N days (364: last year)",
    )

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.uri is None) == (self.url is None):
            raise ValueError("set exactly one of 'uri' (a file or URL) or 'url' (a database)")
        if self.url is not None and (self.table is None) == (self.query is None):
            raise ValueError("a database source needs exactly one of 'table' or 'query'")
        if self.lag_days is not None and self.date_column is None:
            raise ValueError("lag_days needs the date_column the window applies to")
        return self


class AppendConfig(_Model):
    enabled: bool = True
    table: str = "current"
    on_conflict: Literal["replace", "skip"] = "replace"


class TriggerConfig(_Model):
    """When ``on_drift`` actions fire."""

    dataset_drift: bool = True
    degradation: bool = True
    concept_drift: bool = True
    features: list[str] = Field(default_factory=list, description="any of these drifting fires")


class OnDriftConfig(_Model):
    when: TriggerConfig = Field(default_factory=TriggerConfig)
    alert: bool = True
    retrain: bool = True
    publish: bool = True


class SlackConfig(_Model):
    webhook_url: SecretStr
    retries: int = Field(3, ge=0, le=10)
    timeout: float = Field(10, gt=0)


class WebhookConfig(_Model):
    url: SecretStr
    headers: dict[str, SecretStr] = Field(default_factory=dict)
    retries: int = Field(3, ge=0, le=10)


class AlertsConfig(_Model):
    console: bool = True
    slack: SlackConfig | None = None
    webhooks: list[WebhookConfig] = Field(default_factory=list)
    cooldown_hours: float = Field(24, ge=0, description="same drift, same features: page once")
    top_features: int = Field(5, ge=1, le=50)


class TrainingConfig(_Model):
    entry_point: str = "driftloop.model.bike:train"
    target: str
    time_column: str | None = None
    features: list[str] | None = None
    exclude: list[str] = Field(default_factory=list)
    params: dict[str, Any] = Field(default_factory=dict)
    metric: str = "rmsle"
    holdout: float = Field(0.1, gt=0, lt=1)
    margin: float = Field(0.0, ge=-1, le=1, description="relative win needed to promote")
    slice_columns: list[str] = Field(default_factory=list)
    intended_use: str = ""


class BaselineWindow(_Model):
    start: dt.date
    end: dt.date


class ConceptConfig(_Model):
    """Concept drift: the window's prediction-outcome pairs against a baseline period's."""

    enabled: bool = True
    task: Literal["regression", "classification"] = "regression"
    error_metric: Literal["rmse", "mae", "rmsle"] = "rmse"
    baseline: BaselineWindow = Field(description="a period when the model was known to be good")
    max_error_increase: float = Field(0.25, gt=0, description="relative error increase that alerts")
    max_correlation_drop: float = Field(0.1, gt=0, le=2)
    max_score_drop: float = Field(0.05, gt=0, le=1)
    min_pairs: int = Field(20, ge=3)
    confidence: float = Field(0.95, gt=0.5, lt=1)
    detectors: list[Literal["adwin", "page_hinkley", "ddm"]] = Field(default_factory=list)


class ModelConfig(_Model):
    name: str
    experiment: str | None = None


class ScheduleConfig(_Model):
    cron: str = Field("0 11 * * MON", description="crontab: minute hour day month weekday")
    timezone: str = "UTC"
    window_days: int = Field(7, ge=1, description="each scheduled run checks the last N days")


class WebhookTriggerConfig(_Model):
    token: SecretStr | None = Field(None, description="bearer token; ${ENV} reference")
    hmac_secret: SecretStr | None = Field(None, description="HMAC-SHA256 key; ${ENV} reference")
    max_body_bytes: int = Field(1_048_576, ge=1024)
    tolerance_seconds: float = Field(
        300, gt=0, le=3600, description="signed requests older or newer than this get 401"
    )


class StoresConfig(_Model):
    warehouse: SecretStr = SecretStr("sqlite:///.driftloop/warehouse.db")
    mlflow: SecretStr = SecretStr("sqlite:///.driftloop/mlflow.db")
    mlflow_artifacts: str = ".driftloop/mlartifacts"
    artifacts: str = Field(".driftloop/artifacts", description="folder or s3://bucket/prefix")
    s3_endpoint_url: str | None = None
    reports: str = ".driftloop/reports"
    runs: str = ".driftloop/runs"


class PipelineConfig(_Model):
    """One pipeline: fetch reference and window, detect, append, and act on drift."""

    pipeline: str
    reference: SourceConfig
    current: SourceConfig
    columns: list[str] | None = None
    detection: DetectionSettings = Field(default_factory=DetectionSettings)
    append: AppendConfig = Field(default_factory=AppendConfig)
    on_drift: OnDriftConfig = Field(default_factory=OnDriftConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    concept: ConceptConfig | None = None
    training: TrainingConfig | None = None
    model: ModelConfig | None = None
    schedule: ScheduleConfig | None = None
    webhook: WebhookTriggerConfig | None = None
    stores: StoresConfig = Field(default_factory=StoresConfig)

    @field_validator("pipeline")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("use letters, digits, '-' and '_', starting with a letter")
        return value

    @model_validator(mode="after")
    def _retrain_needs_training(self) -> Self:
        if self.on_drift.retrain and (self.training is None or self.model is None):
            raise ValueError("on_drift.retrain needs the 'training' and 'model' sections")
        return self

    def base_dir(self) -> Path:
        return Path(self.stores.runs).parent


def read_yaml(path: Path) -> dict[str, Any]:
    """A YAML mapping from ``path``, or a ConfigError naming the file and the problem."""
    if not path.is_file():
        raise ConfigError(f"Config file '{path}' does not exist. Check the path.")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(
            f"Config file '{path}' is not valid YAML{where}. Fix its syntax."
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"Config file '{path}' must hold a mapping; got {type(data).__name__}.")
    return data


def resolve_env(text: str, path: str, env: dict[str, str] | None = None) -> str:
    """Replace ``${NAME}`` references by environment values; a missing one is a ConfigError."""
    environ = os.environ if env is None else env

    def value(match: re.Match[str]) -> str:
        name = match[1]
        if name not in environ:
            raise ConfigError(
                f"Config '{path}' references ${{{name}}}, which is not set in the environment. "
                f"Export {name} or remove the reference."
            )
        return environ[name]

    return _REF.sub(value, text)


def _resolve(node: Any, path: str, env: dict[str, str] | None) -> Any:
    if isinstance(node, str):
        return resolve_env(node, path, env)
    if isinstance(node, dict):
        return {k: _resolve(v, f"{path}.{k}" if path else str(k), env) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v, f"{path}[{i}]", env) for i, v in enumerate(node)]
    return node


def load_config(
    source: str | Path | dict[str, Any], env: dict[str, str] | None = None
) -> PipelineConfig:
    """Read, resolve ``${ENV}`` references in, and validate a pipeline config."""
    if isinstance(source, dict):
        raw, where = source, "config"
    else:
        raw, where = read_yaml(Path(source)), str(source)
    try:
        return PipelineConfig.model_validate(_resolve(raw, "", env))
    except ValidationError as err:
        cause = err.errors()[0].get("ctx", {}).get("error")
        if isinstance(cause, ConfigError):
            raise cause from None
        message = describe_validation_error(err, "", hide=_secret_bearing)
        raise ConfigError(f"{where}: {message}") from None


_SECRET_FIELDS = ("url", "token", "hmac_secret", "webhook_url", "headers", "warehouse", "mlflow")


def _secret_bearing(path: list[str], value: Any) -> bool:
    """Never echo a secret field's value, nor a structure (it may hold one)."""
    return isinstance(value, dict | list) or any(part in _SECRET_FIELDS for part in path)


def config_schema() -> dict[str, Any]:
    """The JSON Schema of driftloop.yaml."""
    return PipelineConfig.model_json_schema()
