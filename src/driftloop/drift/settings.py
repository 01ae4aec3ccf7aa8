"""Detection settings: methods, thresholds, dataset verdict, degradation thresholds.

They are the ``detection`` section of ``driftloop.yaml`` and the ``config`` of :func:`detect`.
Validated once here; the engine trusts them afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from driftloop.drift.columns import ColumnKind
from driftloop.drift.methods import AUTOMATIC, get_method
from driftloop.errors import ConfigError

__all__ = [
    "ColumnSettings",
    "DegradationSettings",
    "DetectionSettings",
    "FamilySettings",
    "MultivariateSettings",
    "SegmentSettings",
    "load_settings",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnSettings(_Strict):
    """Overrides for one column."""

    kind: ColumnKind | None = None
    method: str | None = None
    threshold: float | None = None


class DegradationSettings(_Strict):
    """When a feature counts as broken rather than shifted (defaults from long practice)."""

    enabled: bool = True
    alpha: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="a check fires only when its no-drift tail is below this (default: the "
        "family's degradation level over its checks, drift/family.py)",
    )
    null_rate: float = Field(0.05, ge=0, le=1, description="alert above this current null share")
    null_rate_ratio: float = Field(3.0, ge=1, description="... and above this x the reference's")
    variance_ratio: float = Field(0.1, gt=0, le=1, description="alert below this x ref variance")
    cardinality_ratio: float = Field(0.3, gt=0, le=1, description="alert below this x expected")
    cardinality_min_unique: int = Field(10, ge=1, description="only when reference has more")
    new_category_share: float = Field(0.05, ge=0, le=1, description="unseen categories share")
    out_of_range_share: float = Field(0.1, ge=0, le=1, description="share outside ref [min, max]")
    constant_probability: float = Field(
        0.001, gt=0, lt=1, description="alert on a constant column if it is this unlikely"
    )

    @property
    def check_alpha(self) -> float:
        """Each check's level: ``alpha``, or 0.005 outside a family (a check run alone)."""
        return STANDALONE_ALPHA if self.alpha is None else self.alpha


STANDALONE_ALPHA = 0.005
FAMILY_PARTS = ("columns", "degradation", "multivariate", "segments", "concept", "performance")
FamilyPart = Literal["columns", "degradation", "multivariate", "segments", "concept", "performance"]
DEFAULT_WEIGHTS: dict[str, float] = {
    "columns": 0.4,
    "degradation": 0.2,
    "multivariate": 0.15,
    "segments": 0.15,
    "concept": 0.1,
    "performance": 0.15,
}


class FamilySettings(_Strict):
    """The window's family (``drift/family.py``): the chance that a no-drift window makes the
    loop act is at most ``rate``, split between the parts the window runs by ``weights``."""

    rate: float = Field(0.05, gt=0, lt=1, description="chance a no-drift window acts, at most")
    weights: dict[FamilyPart, float] = Field(
        default_factory=dict, description="each part's share before renormalising (see defaults)"
    )
    concept: bool = Field(
        False, description="the loop's concept step shares the family (set by the pipeline)"
    )
    performance: bool = Field(
        False,
        description="the loop's performance estimate shares the family (set by the pipeline)",
    )

    @model_validator(mode="after")
    def _check_weights(self) -> Self:
        for part, weight in self.weights.items():
            if not 0 < weight <= 1:
                raise ConfigError(
                    f"The weight detection.family.weights.{part} must be a float in (0, 1]. "
                    f"Got {weight!r} instead."
                )
        return self

    def weight(self, part: str) -> float:
        given = {str(name): weight for name, weight in self.weights.items()}
        return given.get(part, DEFAULT_WEIGHTS[part])


MultivariateMethod = Literal["domain_classifier", "pca_reconstruction"]
_MULTIVARIATE_METHODS: tuple[MultivariateMethod, ...] = ("domain_classifier", "pca_reconstruction")


class MultivariateSettings(_Strict):
    """Drift in how columns relate, which no single column shows (``drift/multivariate.py``).

    Rows are capped at ``max_rows`` per side, drawn at random (seeded): the domain classifier
    compares equal numbers of rows from each side (the smaller side's count, at most the cap).
    """

    methods: list[MultivariateMethod] = Field(
        default_factory=lambda: list(_MULTIVARIATE_METHODS), min_length=1
    )
    columns: list[str] | None = Field(
        None, min_length=2, description="default: the tested numerical and categorical columns"
    )
    max_rows: int = Field(2000, ge=50, le=1_000_000, description="rows drawn per side")
    alpha: float = Field(0.05, gt=0, lt=1, description="drifted when the p-value is below this")
    permutations: int = Field(199, ge=19, le=9999, description="pca_reconstruction's null draws")
    folds: int = Field(2, ge=2, le=10, description="domain classifier cross-validation folds")
    explained_variance: float = Field(0.9, gt=0, lt=1, description="PCA components kept")
    seed: int = 0


class SegmentSettings(_Strict):
    """A column whose values split both samples into segments, each tested on its own."""

    column: str = Field(min_length=1)
    min_rows: int = Field(30, ge=1, description="a segment smaller on either side is skipped")


class DetectionSettings(_Strict):
    """How drift is decided.

    Examples
    --------
    >>> s = DetectionSettings(thresholds={"ks": 0.01}, columns={"temp": {"method": "psi"}})
    >>> s.threshold_for("ks", "hum"), s.threshold_for("psi", "temp")
    (0.01, 0.2)
    """

    method: str = "auto"
    threshold: float | None = None
    thresholds: dict[str, float] = Field(default_factory=dict)
    drift_share: float = Field(0.5, gt=0, le=1)
    alpha: float = Field(
        0.05, gt=0, lt=1, description="a distance flags only when its change is significant here"
    )
    family: FamilySettings = Field(default_factory=lambda: FamilySettings())
    fdr: bool = False
    psi_bins: int = Field(10, ge=2, le=1000)
    js_bins: int = Field(30, ge=2, le=1000)
    nonfinite: Literal["drop", "error"] = "drop"
    strict_schema: bool = False
    columns: dict[str, ColumnSettings] = Field(default_factory=dict)
    degradation: DegradationSettings = Field(default_factory=DegradationSettings)
    workers: int | None = Field(None, ge=1, le=64)
    multivariate: MultivariateSettings | None = None
    segments: list[SegmentSettings] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_methods(self) -> Self:
        if self.method not in AUTOMATIC:
            get_method(self.method, "detection.method")
            if self.threshold is not None:
                get_method(self.method).check_threshold(self.threshold, "detection.threshold")
        elif self.threshold is not None:
            raise ConfigError(
                f"detection.threshold = {self.threshold!r} needs an explicit method; with method "
                f"'{self.method}' set it per method instead, e.g. thresholds: {{ks: 0.01}}."
            )
        for name, value in self.thresholds.items():
            get_method(name, "detection.thresholds").check_threshold(
                value, f"detection.thresholds.{name}"
            )
        for column, override in self.columns.items():
            if override.method not in (None, *AUTOMATIC):
                method = get_method(override.method, f"column '{column}'")
                if override.threshold is not None:
                    method.check_threshold(override.threshold, f"column '{column}'")
            elif override.threshold is not None:
                raise ConfigError(
                    f"Column '{column}' sets threshold {override.threshold!r} without a method; "
                    "name the method it applies to (columns: {name: {method: ks, threshold: ...}})."
                )
        return self

    def method_for(self, column: str) -> str:
        override = self.columns.get(column)
        return override.method if override and override.method else self.method

    def threshold_for(self, method: str, column: str) -> float:
        override = self.columns.get(column)
        if override and override.threshold is not None and override.method == method:
            return override.threshold
        if self.threshold is not None and method == self.method:
            return self.threshold
        return self.thresholds.get(method, get_method(method).default_threshold)


def load_settings(config: DetectionSettings | dict[str, Any] | None) -> DetectionSettings:
    """Validate ``config`` into settings, turning pydantic errors into one-line ConfigErrors."""
    if isinstance(config, DetectionSettings):
        return config
    try:
        return DetectionSettings.model_validate(config or {})
    except ValidationError as err:
        cause = err.errors()[0].get("ctx", {}).get("error")
        if isinstance(cause, ConfigError):  # raised by our own validator: keep its class
            raise cause from None
        raise ConfigError(describe_validation_error(err, "detection")) from None


def describe_validation_error(
    err: ValidationError, prefix: str, hide: Callable[[list[str], Any], bool] | None = None
) -> str:
    """One line naming the first bad field's path, its value and what was expected.

    ``hide(path, value)`` says when a value must not be shown (a secret, or a structure that may
    hold one); it is then written ``<hidden>``.
    """
    first = err.errors()[0]
    cause = first.get("ctx", {}).get("error")
    if isinstance(cause, ConfigError):
        return str(cause)
    parts = [str(p) for p in (prefix, *first["loc"]) if p != ""]
    path = ".".join(parts)
    value: Any = first.get("input")
    if hide is not None and hide(parts, value):
        value = _Hidden()
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        return f"Unknown setting '{path}'. Remove it or check its spelling."
    if isinstance(first.get("input"), dict) and first["type"] == "value_error":
        rule = message.removeprefix("Value error, ")  # a rule across fields: it names them
        return f"Invalid section '{path}': {rule}." if path else f"{rule}."
    return f"Invalid setting '{path}' = {value!r}: {message.removeprefix('Value error, ')}."


class _Hidden:
    def __repr__(self) -> str:
        return "<hidden>"
