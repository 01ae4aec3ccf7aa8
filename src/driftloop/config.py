"""``driftloop.yaml``: one pipeline's sources, detection, actions, schedule and stores.

Validated with pydantic; ``driftloop config schema`` prints the JSON Schema and ``driftloop init``
writes a commented example. Secrets are ``${ENV_VAR}`` references, resolved when the config is
loaded and held as :class:`pydantic.SecretStr`, so they never appear in logs, reports, run records
or error messages. Config errors name the field path and the bad value.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import re
from collections.abc import Sequence
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
    "secret_field",
]

_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,62}$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DateRange(_Model):
    """Dates ``start``..``end``, both inclusive."""

    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end < self.start:
            raise ValueError(
                f"the exclude range ends ({self.end}) before it starts ({self.start}); swap them"
            )
        return self


class BaselineConfig(_Model):
    """Which rows the reference holds, relative to the run's window.

    ``fixed``: the source's own window; ``lag``: the run's window moved back ``days``;
    ``same_period``: the run's dates in each of the ``years`` previous years, pooled;
    ``trailing``: the ``days`` before the run's window, ``offset_days`` earlier. Rows in an
    ``exclude`` range (holidays, outages) never enter the reference.
    """

    type: Literal["fixed", "lag", "same_period", "trailing"] = "fixed"
    days: int | None = Field(None, ge=1, description="lag and trailing: how many days")
    years: int = Field(1, description="same_period: how many previous years")
    offset_days: int = Field(0, ge=0, description="trailing: a gap before the run's window")
    exclude: list[DateRange] = Field(default_factory=list)

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.years < 1:
            raise ValueError(
                f"baseline years = {self.years} must be at least 1 (the previous year)"
            )
        if self.type in ("lag", "trailing") and self.days is None:
            example = (
                "{type: lag, days: 364}" if self.type == "lag" else "{type: trailing, days: 28}"
            )
            raise ValueError(f"a {self.type} baseline needs days, e.g. {example}")
        ranges = sorted(self.exclude, key=lambda r: r.start)
        for before, after in itertools.pairwise(ranges):
            if after.start <= before.end:
                raise ValueError(
                    f"the exclude ranges {before.start}..{before.end} and "
                    f"{after.start}..{after.end} overlap; merge them"
                )
        return self


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
    baseline: BaselineConfig | None = Field(
        None, description="reference only: fixed, lag, same_period or trailing, with exclusions"
    )
    profile: str | None = Field(
        None,
        description="reference only: alone, a profile file used as is; with uri/url, where the "
        "source's profile is stored (a path or s3:// URI), built once and reused",
    )
    rebuild: Literal["auto", "always", "never"] | None = Field(
        None,
        description="a stored profile: auto (when the source changed), always, or never (once "
        "built); default auto",
    )
    engine: Literal["rows", "streamed", "spark"] = Field(
        "rows",
        description="current only: rows (the window read whole), streamed (profiled batch by "
        "batch out of core: memory about `workers` row groups) or spark (profiled on Spark)",
    )
    workers: int | None = Field(
        None, ge=1, le=256, description="current.engine streamed: processes (default: the cores)"
    )
    updated_column: str | None = Field(
        None,
        description="a stored profile of a database source: a column every insert and update "
        "sets (e.g. updated_at); its maximum joins the fingerprint, so rows changed in place "
        "rebuild the profile",
    )

    @field_validator("table")
    @classmethod
    def _table(cls, value: str | None) -> str | None:
        return None if value is None else _table_name(value)

    @field_validator("url")
    @classmethod
    def _url(cls, value: SecretStr | None) -> SecretStr | None:
        return None if value is None else _check_database_url(value)

    @field_validator("uri")
    @classmethod
    def _uri(cls, value: str | None) -> str | None:
        if value is not None and "://" in value:
            _check_url(value, schemes=("http", "https", "s3", "file"))
        return value

    @field_validator("updated_column")
    @classmethod
    def _updated_column(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("name the column every insert and update sets, or remove it")
        return value

    @field_validator("profile")
    @classmethod
    def _profile(cls, value: str | None) -> str | None:
        if value is not None and "://" in value:
            _check_url(value, schemes=("s3",))
        if value is not None and not value.strip():
            raise ValueError("name a profile file or s3:// URI, or remove 'profile'")
        return value

    @property
    def stored_profile(self) -> bool:
        """The profile is built from this source and stored (not a given file)."""
        return self.profile is not None and (self.uri is not None or self.url is not None)

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if self.profile is not None and self.uri is None and self.url is None:
            return self._given_profile()
        if self.rebuild is not None and self.profile is None:
            raise ValueError(
                "'rebuild' applies to a stored profile: add 'profile: PATH_OR_S3_URI' (where the "
                "source's profile is kept) or remove 'rebuild'"
            )
        if self.updated_column is not None and (self.profile is None or self.url is None):
            raise ValueError(
                "'updated_column' tells when a database source's rows last changed, for its "
                "stored profile: use it with 'url' and 'profile', or remove it"
            )
        if self.profile is not None:
            self._fixed_for_profile()
        if (self.uri is None) == (self.url is None):
            raise ValueError("set exactly one of 'uri' (a file or URL) or 'url' (a database)")
        if self.url is not None and (self.table is None) == (self.query is None):
            raise ValueError("a database source needs exactly one of 'table' or 'query'")
        if self.lag_days is not None and self.date_column is None:
            raise ValueError("lag_days needs the date_column the window applies to")
        if self.lag_days is not None and self.baseline is not None:
            raise ValueError(
                "set lag_days or baseline, not both (lag_days: N is baseline: {type: lag, days: N})"
            )
        if self.baseline is not None and self.date_column is None:
            raise ValueError("baseline needs the date_column the window applies to")
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError(f"the window ends ({self.end}) before it starts ({self.start})")
        return self

    def _given_profile(self) -> Self:
        keys = ("table", "query", "lag_days", "rebuild", "updated_column")
        extra = [k for k in keys if getattr(self, k)]
        if extra:
            raise ValueError(
                f"a given profile file stands alone: remove {', '.join(repr(k) for k in extra)}, "
                "or add the source's 'uri' or 'url' to have driftloop build and store its profile"
            )
        return self

    def _fixed_for_profile(self) -> None:
        """A stored profile summarises one fixed reference: a baseline that moves with each
        run's window would need a new profile every run."""
        moving = "lag" if self.lag_days is not None else None
        if self.baseline is not None and self.baseline.type != "fixed":
            moving = self.baseline.type
        if moving is not None:
            raise ValueError(
                f"a stored profile summarises one fixed reference, and a '{moving}' baseline "
                "moves with each run's window: use a fixed window (start/end) or remove 'profile'"
            )


class AppendConfig(_Model):
    enabled: bool = True
    table: str = "current"
    on_conflict: Literal["replace", "skip"] = "replace"

    @field_validator("table")
    @classmethod
    def _table(cls, value: str) -> str:
        return _table_name(value)


class TriggerConfig(_Model):
    """When ``on_drift`` actions fire."""

    dataset_drift: bool = True
    degradation: bool = True
    concept_drift: bool = True
    multivariate: bool = Field(True, description="a detection.multivariate method finding drift")
    features: list[str] = Field(default_factory=list, description="any of these drifting fires")
    segments: bool | list[str] = Field(
        False, description="drift inside a segment fires (true, or these segment columns only)"
    )
    performance_drop: bool = Field(
        True,
        description="an estimated (or, once labels arrived, realized) performance drop beyond "
        "its interval fires (with a 'performance' section)",
    )
    require_performance_drop: bool = Field(
        False,
        description="drift fires only when performance dropped too: a drifted feature that does "
        "not hurt the model is reported, not acted on",
    )


class OnDriftConfig(_Model):
    when: TriggerConfig = Field(default_factory=TriggerConfig)
    alert: bool = True
    retrain: bool = Field(
        True,
        description="retrain on drift that matters (default: on when 'training' and "
        "'model' are configured, off otherwise)",
    )
    publish: bool = True


class SlackConfig(_Model):
    webhook_url: SecretStr
    retries: int = Field(3, ge=0, le=10)
    timeout: float = Field(10, ge=1, le=300, description="seconds per attempt")

    @field_validator("webhook_url")
    @classmethod
    def _url(cls, value: SecretStr) -> SecretStr:
        _check_url(value.get_secret_value(), schemes=("http", "https"))
        return value


class WebhookConfig(_Model):
    url: SecretStr

    @field_validator("url")
    @classmethod
    def _url(cls, value: SecretStr) -> SecretStr:
        _check_url(value.get_secret_value(), schemes=("http", "https"))
        return value

    headers: dict[str, SecretStr] = Field(default_factory=dict)
    retries: int = Field(3, ge=0, le=10)


class AlertsConfig(_Model):
    console: bool = True
    slack: SlackConfig | None = None
    webhooks: list[WebhookConfig] = Field(default_factory=list)
    cooldown_hours: float = Field(24, ge=0, description="same drift, same features: page once")
    top_features: int = Field(5, ge=1, le=50)


# The training metrics driftloop scores with (driftloop.model.metrics.METRICS implements each;
# tests/model/test_train.py keeps the two lists equal).
METRIC_NAMES = ("accuracy", "f1", "mae", "r2", "rmse", "rmsle")


class TrainingConfig(_Model):
    """What to train and how to judge it: the ``training`` section of ``driftloop.yaml``, and the
    settings :func:`driftloop.model.train.fit` and :func:`driftloop.model.lifecycle.retrain` take.

    Examples
    --------
    >>> TrainingConfig(target="cnt", exclude=("instant",)).exclude
    ['instant']
    >>> TrainingConfig(target="cnt", holdout=1.5)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    driftloop.errors.ConfigError: The 'training.holdout' share must be a float in (0, 1). Got 1.5...
    """

    entry_point: str = "driftloop.model.bike:train"
    target: str
    time_column: str | None = None
    features: list[str] | None = None
    exclude: list[str] = Field(default_factory=list)
    params: dict[str, Any] = Field(default_factory=dict)
    metric: str = Field("rmsle", description=f"one of {', '.join(METRIC_NAMES)}")
    holdout: float = Field(0.1, gt=0, lt=1, description="latest share of rows kept for scoring")
    margin: float = Field(0.0, ge=-1, le=1, description="relative win needed to promote")
    slice_columns: list[str] = Field(default_factory=list)
    intended_use: str = ""

    def __init__(self, **data: Any) -> None:
        # built in Python (not from YAML): the same one-line errors as the config file's
        try:
            super().__init__(**data)
        except ValidationError as err:
            raise ConfigError(describe_validation_error(err, "training")) from None

    @field_validator("holdout", mode="before")
    @classmethod
    def _holdout_share(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not 0 < value < 1:
            raise ConfigError(
                f"The 'training.holdout' share must be a float in (0, 1). Got {value!r} instead."
            )
        return value

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str) -> str:
        if value not in METRIC_NAMES:
            raise ConfigError(
                f"Unknown metric '{value}'. Valid metrics: {', '.join(METRIC_NAMES)}."
            )
        return value


class BaselineWindow(_Model):
    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end < self.start:
            raise ValueError(f"the baseline ends ({self.end}) before it starts ({self.start})")
        return self


class PerformanceConfig(_Model):
    """The production classifier's performance on each window, estimated from its scores
    before labels arrive (``drift/performance.py``) and realized when they have."""

    enabled: bool = True
    metric: Literal["roc_auc", "accuracy", "f1", "precision", "recall"] = "roc_auc"
    confidence: float = Field(0.95, gt=0.5, lt=1, description="the intervals' coverage")
    min_labels: int = Field(
        50, ge=10, description="labelled rows a window needs for its realized performance"
    )


class ConceptConfig(_Model):
    """Concept drift: the window's prediction-outcome pairs against a baseline period's."""

    enabled: bool = True
    task: Literal["regression", "classification"] = "regression"
    error_metric: Literal["rmse", "mae", "rmsle"] = "rmse"
    baseline: BaselineWindow = Field(description="a period when the model was known to be good")
    max_error_increase: float = Field(0.25, gt=0, description="relative error increase that alerts")
    max_correlation_drop: float = Field(0.1, gt=0, le=2)
    max_score_drop: float = Field(0.05, gt=0, le=1)
    min_pairs: int = Field(
        20, ge=10, description="fewest pairs judged (the baseline's bound needs at least 10)"
    )
    pool_days: int = Field(
        28,
        ge=0,
        description="a window with fewer than min_pairs pairs is judged on the pairs of the last "
        "N days up to its end (0: never pool)",
    )
    confidence: float = Field(0.95, gt=0.5, lt=1)
    baseline_confidence: float = Field(
        0.9,
        ge=0.5,
        lt=1,
        description="the chance the stated rate holds for this baseline, not only on average "
        "over baselines (a small baseline is a sample too)",
    )
    detectors: list[Literal["adwin", "page_hinkley", "ddm"]] = Field(default_factory=list)


class ModelConfig(_Model):
    name: str
    experiment: str | None = None
    trusted_types: list[str] = Field(
        default_factory=list,
        description="your own estimator classes skops may load (module.Class); sklearn, numpy "
        "and scipy types are trusted already",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _MODEL_NAME.match(value):
            raise ValueError(
                "use letters, digits, '.', '_' and '-', starting with a letter or digit "
                "(a '/' would split the registry's NAME/VERSION references)"
            )
        return value


class ScheduleConfig(_Model):
    cron: str = Field("0 11 * * MON", description="crontab: minute hour day month weekday")
    timezone: str = "UTC"
    window_days: int = Field(7, ge=1, description="each scheduled run checks the last N days")

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError("use an IANA time zone such as 'UTC' or 'Europe/Paris'") from None
        return value

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        from apscheduler.triggers.cron import CronTrigger

        fields = value.split()
        if len(fields) not in (5, 6):
            raise ValueError("use five fields (minute hour day month weekday), e.g. '0 11 * * MON'")
        try:
            if len(fields) == 5:
                CronTrigger.from_crontab(value, timezone="UTC")
            else:
                names = ("second", "minute", "hour", "day", "month", "day_of_week")
                CronTrigger(**dict(zip(names, fields, strict=True)), timezone="UTC")
        except ValueError as err:
            raise ValueError(f"{err} (fields: minute hour day month weekday)") from None
        return value


class WebhookTriggerConfig(_Model):
    token: SecretStr | None = Field(None, description="bearer token; ${ENV} reference")
    hmac_secret: SecretStr | None = Field(None, description="HMAC-SHA256 key; ${ENV} reference")
    max_body_bytes: int = Field(1_048_576, ge=1024)
    tolerance_seconds: float = Field(
        300, gt=0, le=3600, description="signed requests older or newer than this get 401"
    )
    body_timeout_seconds: float = Field(
        10, gt=0, le=300, description="a body still arriving after this gets 408"
    )


class DashboardConfig(_Model):
    token: SecretStr | None = Field(
        None, description="read token for the dashboard, /api, /runs and /metrics; ${ENV} reference"
    )


class ReportsConfig(_Model):
    base_url: str | None = Field(
        None,
        description="public URL of the reports folder (dashboard, S3 website): alerts link there",
    )

    @field_validator("base_url")
    @classmethod
    def _base(cls, value: str | None) -> str | None:
        if value is not None:
            _check_url(value, schemes=("http", "https"))
        return value


class StoresConfig(_Model):
    @field_validator("warehouse")
    @classmethod
    def _warehouse(cls, value: SecretStr) -> SecretStr:
        return _check_database_url(value)

    @field_validator("s3_endpoint_url")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if value is not None:
            _check_url(value, schemes=("http", "https"))
        return value

    # defaults are shown in `config schema` (not secrets); values given in a config are hidden
    warehouse: SecretStr = Field(
        SecretStr("sqlite:///.driftloop/warehouse.db"),
        json_schema_extra={"default": "sqlite:///.driftloop/warehouse.db"},
    )
    mlflow: SecretStr = Field(
        SecretStr("sqlite:///.driftloop/mlflow.db"),
        json_schema_extra={"default": "sqlite:///.driftloop/mlflow.db"},
    )
    mlflow_artifacts: str = ".driftloop/mlartifacts"
    artifacts: str = Field(".driftloop/artifacts", description="folder or s3://bucket/prefix")
    s3_endpoint_url: str | None = None
    s3_timeout_seconds: float = Field(
        10, gt=0, le=300, description="S3 connect/read timeout per attempt"
    )
    s3_attempts: int = Field(
        3,
        ge=1,
        le=10,
        description="attempts per S3 request: a frozen S3 fails a publish "
        "after about attempts x timeout per file",
    )
    reports: str = ".driftloop/reports"
    runs: str = ".driftloop/runs"


class OrchestratorConfig(_Model):
    """Retries of the exported Kestra and Airflow tasks: waits start at the delay and double."""

    retries: int = Field(2, ge=0, le=10, description="tries after the first attempt")
    retry_delay_seconds: int = Field(30, ge=1, le=3600)
    max_retry_delay_seconds: int = Field(600, ge=1, le=86400)


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
    performance: PerformanceConfig | None = None
    training: TrainingConfig | None = None
    model: ModelConfig | None = None
    schedule: ScheduleConfig | None = None
    webhook: WebhookTriggerConfig | None = None
    stores: StoresConfig = Field(default_factory=StoresConfig)
    reports: ReportsConfig = Field(default_factory=ReportsConfig)
    dashboard: DashboardConfig = Field(default_factory=DashboardConfig)
    orchestrator: OrchestratorConfig = Field(default_factory=OrchestratorConfig)

    def _check_profiled_window(self) -> None:
        """A window profiled out of core keeps no rows: the steps that need them are refused."""
        needs = [
            name
            for name, on in (
                ("append", self.append.enabled),
                ("concept", self.concept is not None and self.concept.enabled),
                ("performance", self.performance is not None and self.performance.enabled),
            )
            if on
        ]
        if needs:
            raise ValueError(
                f"current.engine {self.current.engine} profiles the window and keeps no rows, "
                f"and {', '.join(needs)} need them: set "
                f"{', '.join(f'{n}: {{enabled: false}}' for n in needs)}, or current.engine: rows"
            )

    @field_validator("columns")
    @classmethod
    def _columns(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and not value:
            raise ValueError("name at least one column, or remove 'columns' to compare them all")
        return value

    @field_validator("pipeline")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("use letters, digits, '-' and '_', starting with a letter")
        return value

    @model_validator(mode="after")
    def _profile_reference_only(self) -> Self:
        if self.current.profile is not None:
            raise ValueError(
                "current.profile: the window is read from data; a profile can be the reference"
            )
        if self.reference.engine != "rows" or self.reference.workers is not None:
            raise ValueError(
                "reference.engine and reference.workers: the reference is profiled out of core "
                "with reference.profile; engine and workers are settings of current"
            )
        if self.current.engine != "rows":
            self._check_profiled_window()
        if (
            self.reference.profile is not None
            and not self.reference.stored_profile
            and self.on_drift.retrain
        ):
            raise ValueError(
                "on_drift.retrain trains on the reference's rows, and a given reference.profile "
                "has none: name the profile's source (url or uri; its rows are read only when a "
                "retrain fires) or turn retrain off"
            )
        return self

    @model_validator(mode="after")
    def _performance_needs_a_model(self) -> Self:
        if self.performance is not None and (self.training is None or self.model is None):
            raise ValueError(
                "performance estimates the production model's performance: it needs the "
                "'training' (its target) and 'model' sections"
            )
        return self

    @model_validator(mode="before")
    @classmethod
    def _detect_only_without_training(cls, data: Any) -> Any:
        """Without the 'training' and 'model' sections a config detects (and alerts) only:
        ``on_drift.retrain`` then defaults to off; set to true, it is refused below."""
        if not isinstance(data, dict) or (data.get("training") and data.get("model")):
            return data
        on_drift = data.get("on_drift")
        if on_drift is None:
            return {**data, "on_drift": {"retrain": False}}
        if isinstance(on_drift, dict) and "retrain" not in on_drift:
            return {**data, "on_drift": {**on_drift, "retrain": False}}
        return data

    @model_validator(mode="after")
    def _retrain_needs_training(self) -> Self:
        if self.on_drift.retrain and (self.training is None or self.model is None):
            raise ValueError("on_drift.retrain needs the 'training' and 'model' sections")
        return self

    @model_validator(mode="after")
    def _baseline_is_the_references(self) -> Self:
        if self.current.baseline is not None:
            raise ValueError(
                "current.baseline has no effect: the current data is the run's window. "
                "Move baseline under reference"
            )
        return self


_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def _table_name(value: str) -> str:
    from driftloop.data.identifiers import check_table_name

    for part in value.split(".", 1):  # schema.table
        try:
            check_table_name(part)
        except ConfigError:
            raise ValueError(
                "use letters, digits and underscores (optionally schema.table), starting with "
                "a letter or underscore"
            ) from None
    return value


def _check_database_url(value: SecretStr) -> SecretStr:
    """A SQLAlchemy URL of a database driftloop can open (checked without connecting)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    text = value.get_secret_value()
    example = "postgresql://user@host:5432/db or sqlite:///path.db"
    try:
        url = make_url(text)
    except (ArgumentError, ValueError):
        raise ValueError(
            f"not a database URL (check its port and characters): use one like {example}"
        ) from None
    try:
        url.get_dialect()
    except NoSuchModuleError:
        raise ValueError(f"unknown database kind '{url.drivername}': use {example}") from None
    return value


def _check_url(value: str, *, schemes: tuple[str, ...]) -> None:
    """A URL with one of ``schemes``, a host and (if any) a numeric port."""
    from urllib.parse import urlsplit

    parts = urlsplit(value)
    if parts.scheme.lower() not in schemes or not (parts.hostname or parts.scheme == "file"):
        raise ValueError(f"use a URL like {schemes[0]}://host/path")
    try:
        parts.port  # noqa: B018 - parsing it is the check
    except ValueError:
        raise ValueError("the port must be a number from 1 to 65535") from None


class _DuplicateKey(ValueError):
    pass


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key that appears twice in one mapping (the plain loader
    keeps the last one silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                line = key_node.start_mark.line + 1
                raise _DuplicateKey(f"repeats the key {key!r} at line {line}")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: Path) -> dict[str, Any]:
    """A YAML mapping from ``path``, or a ConfigError naming the file and the problem."""
    if path.is_dir():
        raise ConfigError(f"Config file '{path}' is a folder. Name the config file in it.")
    if not path.is_file():
        raise ConfigError(f"Config file '{path}' does not exist. Check the path.")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except _DuplicateKey as e:
        raise ConfigError(f"Config file '{path}' {e}. Keep one of them.") from None
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
        raw, where, folder = source, "config", None
    else:
        raw, where = read_yaml(Path(source)), str(source)
        folder = Path(source).resolve().parent
    try:
        resolved = _resolve(raw, "", env)
        if folder is not None and isinstance(resolved, dict):
            resolved = relative_to(resolved, folder)
        return PipelineConfig.model_validate(resolved)
    except ValidationError as err:
        cause = err.errors()[0].get("ctx", {}).get("error")
        if isinstance(cause, ConfigError):
            raise cause from None
        message = describe_validation_error(err, "", hide=_secret_bearing)
        raise ConfigError(f"{where}: {message}") from None


_STORE_FOLDERS = ("mlflow_artifacts", "artifacts", "reports", "runs")


def relative_to(raw: dict[str, Any], folder: Path) -> dict[str, Any]:
    """The config with its relative paths made absolute against ``folder`` (the config file's):
    store folders and SQLite files (defaults included), file sources and ``file.py:function``
    entry points. A config means the same whichever directory driftloop is started from.

    Examples
    --------
    >>> out = relative_to({"stores": {"runs": "runs"}, "training": {"entry_point": "t.py:train"}},
    ...                   Path("/srv/bikes"))
    >>> out["stores"]["runs"], out["training"]["entry_point"], out["stores"]["warehouse"]
    ('/srv/bikes/runs', '/srv/bikes/t.py:train', 'sqlite:////srv/bikes/.driftloop/warehouse.db')
    """
    out = dict(raw)
    stores = dict(out.get("stores") or {})
    for key, field in StoresConfig.model_fields.items():
        value = stores.get(key, field.default)
        if key in ("warehouse", "mlflow") or key in _STORE_FOLDERS:
            plain = value.get_secret_value() if isinstance(value, SecretStr) else value
            if isinstance(plain, str):
                stores[key] = _absolute(plain, folder)
    out["stores"] = stores
    for side in ("reference", "current"):
        source = out.get(side)
        if isinstance(source, dict):
            source = dict(source)
            for key in ("uri", "url", "profile"):
                if isinstance(source.get(key), str):
                    source[key] = _absolute(source[key], folder)
            out[side] = source
    training = out.get("training")
    if isinstance(training, dict) and isinstance(training.get("entry_point"), str):
        target, sep, function = training["entry_point"].rpartition(":")
        if sep and target.endswith(".py") and not Path(target).is_absolute():
            out["training"] = {**training, "entry_point": f"{folder / target}:{function}"}
    return out


def _absolute(value: str, folder: Path) -> str:
    if value.startswith("sqlite:///"):
        path = value.removeprefix("sqlite:///")
        if path and not path.startswith("/") and not path.startswith(":memory:"):
            return f"sqlite:///{folder / path}"
        return value
    if "://" in value or Path(value).is_absolute():
        return value
    return str(folder / value)


_SECRET_FIELDS = ("url", "token", "hmac_secret", "webhook_url", "headers", "warehouse", "mlflow")


def secret_field(path: Sequence[str]) -> bool:
    """Whether the config field at ``path`` holds a secret (database and webhook URLs, tokens,
    HMAC keys, headers): its value is never shown, logged or written out.

    Examples
    --------
    >>> secret_field(["stores", "warehouse"]), secret_field(["model", "name"])
    (True, False)
    """
    return any(part in _SECRET_FIELDS for part in path)


def _secret_bearing(path: list[str], value: Any) -> bool:
    """Never echo a secret field's value, nor a structure (it may hold one)."""
    return isinstance(value, dict | list) or secret_field(path)


def config_schema() -> dict[str, Any]:
    """The JSON Schema of driftloop.yaml."""
    return PipelineConfig.model_json_schema()
