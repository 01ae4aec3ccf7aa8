"""What detection returns: frozen results that say what they are.

Every tested column carries its method's ``statistic``, its ``p_value`` (``None`` for distances),
the ``threshold`` it was judged against and whether it ``drifted``: never one overloaded score.
``DriftReport.to_dict()`` has a stable shape, versioned by ``schema_version``.

The engine does not render: ``DriftReport.to_html`` and ``to_markdown`` call the renderer
registered for the format (:func:`register_renderer`); ``import driftloop`` registers
:mod:`driftloop.report`'s, which import their templates on first use.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from driftloop.errors import ConfigError

__all__ = [
    "SCHEMA_VERSION",
    "ColumnDrift",
    "DegradationAlert",
    "DriftReport",
    "ExcludedColumn",
    "FamilyFinding",
    "FamilyVerdict",
    "Histogram",
    "Movement",
    "MultivariateDrift",
    "Renderer",
    "SegmentDrift",
    "register_renderer",
]

# 1.1: columns[].warning; a distance's p_value at small sizes. 1.2: multivariate[].
# 1.3: segments (present when detection.segments is set).
# 1.4: reference_source and current_source ("data" or "profile"), columns[].error_bound
# 1.5: columns[].statistic_error (how far a statistic read from a profile may be off)
# 1.6: family (the window's family: rate, parts, findings); columns[].test and p_family,
#      multivariate[].p_family; a distance's p_value is its significance test's
# 1.7: embedding and text columns: columns[].moved (the dimensions or n-grams that moved most)
#      and columns[].descriptors (a text column's descriptor tests)
SCHEMA_VERSION = "1.7"
LOW_IMPACT = 0.02  # a reliance share below this: the model barely uses the feature


class Renderer(Protocol):
    """Renders a report as text in one format (``title=``, ``top=``... are its options)."""

    def __call__(self, report: DriftReport, /, **options: Any) -> str: ...


_RENDERERS: dict[str, Renderer] = {}


def register_renderer(fmt: str, render: Renderer) -> None:
    """Make ``DriftReport.to_<fmt>`` render through ``render`` (``html``, ``markdown``)."""
    _RENDERERS[fmt] = render


def _render(fmt: str, report: DriftReport, **options: Any) -> str:
    if fmt not in _RENDERERS:
        raise ConfigError(
            f"No {fmt} renderer is registered: import driftloop (it registers "
            f"driftloop.report's) or call register_renderer({fmt!r}, ...)."
        )
    return _RENDERERS[fmt](report, **options)


@dataclass(frozen=True, slots=True)
class Histogram:
    """Both sides' proportions over shared bins (``edges``) or categories (``labels``)."""

    reference: tuple[float, ...]
    current: tuple[float, ...]
    edges: tuple[float, ...] | None = None
    labels: tuple[str, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "reference": list(self.reference),
            "current": list(self.current),
            "edges": None if self.edges is None else list(self.edges),
            "labels": None if self.labels is None else list(self.labels),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Histogram:
        edges, labels = data.get("edges"), data.get("labels")
        return cls(
            reference=tuple(data["reference"]),
            current=tuple(data["current"]),
            edges=None if edges is None else tuple(edges),
            labels=None if labels is None else tuple(labels),
        )


@dataclass(frozen=True, slots=True)
class Movement:
    """One part of an embedding or text column and how far it moved: a dimension or an n-gram
    (its mean per row on each side, ``score`` the standardised mean difference), or a text
    descriptor (length, share empty...) with its own test's ``p_value``.

    Examples
    --------
    >>> Movement("dim 3", 0.0, 0.4, 0.41).to_dict()["score"]
    0.41
    """

    name: str
    reference: float
    current: float
    score: float
    p_value: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "reference": _finite(self.reference),
            "current": _finite(self.current),
            "score": _finite(self.score),
            "p_value": _finite(self.p_value),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Movement:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True, slots=True)
class ColumnDrift:
    """The drift verdict for one column."""

    name: str
    kind: str
    method: str
    statistic: float | None
    p_value: float | None
    threshold: float
    drifted: bool
    family: str
    n_reference: int
    n_current: int
    p_adjusted: float | None = None
    skipped: str | None = None
    warning: str | None = None
    error_bound: float = 0.0  # the CDF error of sketched sides (0: computed from exact values)
    statistic_error: float | None = 0.0  # how far the statistic may be off (drift.sketch_error)
    test: str | None = None  # a distance's significance test: ks, chisquare, ztest or resampled
    p_family: float | None = None  # the p-value adjusted over the window's family (drift.family)
    histogram: Histogram | None = field(default=None, compare=False)
    moved: tuple[Movement, ...] = ()  # embedding dimensions or n-grams that moved most
    descriptors: tuple[Movement, ...] = ()  # a text column's descriptor tests

    def to_dict(self) -> dict[str, Any]:
        out = {f: getattr(self, f) for f in self.__dataclass_fields__ if f != "histogram"}
        out["moved"] = [m.to_dict() for m in self.moved]
        out["descriptors"] = [m.to_dict() for m in self.descriptors]
        out["statistic"] = _finite(self.statistic)
        out["p_value"] = _finite(self.p_value)
        out["p_adjusted"] = _finite(self.p_adjusted)
        out["statistic_error"] = _finite(self.statistic_error)
        out["p_family"] = _finite(self.p_family)
        out["histogram"] = None if self.histogram is None else self.histogram.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnDrift:
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        histogram = fields.pop("histogram", None)
        for name in ("moved", "descriptors"):
            fields[name] = tuple(Movement.from_dict(m) for m in fields.get(name, ()))
        return cls(
            **fields, histogram=None if histogram is None else Histogram.from_dict(histogram)
        )


@dataclass(frozen=True, slots=True)
class DegradationAlert:
    """A feature that looks broken: missing, null, constant, collapsed, out of range..."""

    feature: str
    kind: str
    current: float | str | None
    baseline: float | str | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("current", "baseline"):  # a variance of values near 1e308 overflows
            if isinstance(out[key], float):
                out[key] = _finite(out[key])
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DegradationAlert:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True, slots=True)
class ExcludedColumn:
    """A column that was not tested, and why (datetime, free text, unsupported dtype)."""

    name: str
    kind: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExcludedColumn:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True, slots=True)
class MultivariateDrift:
    """Drift across columns by one method (``domain_classifier``, ``pca_reconstruction``).

    ``threshold`` is the statistic's critical value (the null distribution's 1 - alpha
    quantile); ``drifted`` means ``p_value`` < alpha. ``top_features`` are the columns that drive
    the statistic, most responsible first, with their share of it in ``importances``.
    """

    method: str
    statistic: float | None
    threshold: float | None
    p_value: float | None
    drifted: bool
    top_features: tuple[str, ...]
    columns: tuple[str, ...]
    n_reference: int
    n_current: int
    importances: tuple[float, ...] = ()
    skipped: str | None = None
    p_family: float | None = None  # the p-value adjusted over the window's family

    @property
    def finding(self) -> str:
        """What the drift means in words, e.g. ``rows no longer agree on temp vs atemp``."""
        if len(self.top_features) >= 2:
            return "rows no longer agree on " + " vs ".join(self.top_features[:3])
        if self.top_features:
            return f"driven by {self.top_features[0]}"
        return "no single column stands out"

    def to_dict(self) -> dict[str, Any]:
        out = {f: getattr(self, f) for f in self.__dataclass_fields__}
        for name in ("statistic", "threshold", "p_value", "p_family"):
            out[name] = _finite(out[name])
        for name in ("top_features", "columns", "importances"):
            out[name] = list(out[name])
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MultivariateDrift:
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for name in ("top_features", "columns", "importances"):
            fields[name] = tuple(fields.get(name, ()))
        return cls(**fields)


@dataclass(frozen=True, slots=True)
class SegmentDrift:
    """The drift verdict inside one segment: the rows where ``column`` equals ``value``.

    ``skipped`` says why a segment was not tested (too few rows on a side); its ``columns`` are
    then empty.
    """

    column: str
    value: str | int | float | bool
    n_reference: int
    n_current: int
    skipped: str | None
    share_drifted: float
    dataset_drift: bool
    columns: tuple[ColumnDrift, ...]

    @property
    def drifted_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.drifted]

    @property
    def where(self) -> str:
        """The segment in words: ``workingday = 0``."""
        return f"{self.column} = {self.value}"

    def findings(self) -> list[str]:
        """One line per drifted column: ``windspeed drifted where workingday = 0``."""
        return [f"{name} drifted where {self.where}" for name in self.drifted_columns]

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "value": self.value,
            "n_reference": self.n_reference,
            "n_current": self.n_current,
            "skipped": self.skipped,
            "share_drifted": self.share_drifted,
            "dataset_drift": self.dataset_drift,
            "columns": [c.to_dict() for c in self.columns],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SegmentDrift:
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        fields["columns"] = tuple(ColumnDrift.from_dict(c) for c in data["columns"])
        return cls(**fields)


@dataclass(frozen=True, slots=True)
class FamilyFinding:
    """One finding that survived the window's family adjustment (``drift/family.py``):
    a column, a degradation alert, a multivariate method or a segment's column."""

    part: str  # columns, degradation, multivariate, segments
    name: str  # the column, or the method
    where: str = ""  # the segment ("workingday = 0") or the degradation kind
    p_family: float | None = None
    segment_column: str | None = None

    @property
    def line(self) -> str:
        """The finding in words, e.g. ``windspeed drifted where workingday = 0``."""
        if self.part == "segments":
            return f"{self.name} drifted where {self.where}"
        if self.part == "degradation":
            return f"{self.name}: {self.where}"
        if self.part == "multivariate":
            return f"multivariate drift ({self.name})"
        return f"{self.name} drifted"

    def to_dict(self) -> dict[str, Any]:
        out = {f: getattr(self, f) for f in self.__dataclass_fields__}
        out["p_family"] = _finite(self.p_family)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FamilyFinding:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True, slots=True)
class FamilyVerdict:
    """The window's family: its rate, each part's level and tests, and what survived.

    ``bound`` is the union bound on the chance that a no-drift window yields any finding.
    """

    rate: float
    bound: float
    parts: tuple[tuple[str, float, int], ...]  # (part, level, number of tests)
    findings: tuple[FamilyFinding, ...]
    warning: str | None = None

    @property
    def acted(self) -> bool:
        return bool(self.findings)

    def of(self, part: str) -> list[FamilyFinding]:
        return [f for f in self.findings if f.part == part]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "bound": self.bound,
            "parts": [{"part": p, "level": lv, "tests": n} for p, lv, n in self.parts],
            "findings": [f.to_dict() for f in self.findings],
            "warning": self.warning,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FamilyVerdict:
        return cls(
            rate=data["rate"],
            bound=data["bound"],
            parts=tuple((p["part"], p["level"], p["tests"]) for p in data["parts"]),
            findings=tuple(FamilyFinding.from_dict(f) for f in data["findings"]),
            warning=data.get("warning"),
        )


@dataclass(frozen=True, slots=True)
class DriftReport:
    """The outcome of comparing a current sample against a reference sample.

    ``dataset_drift`` is true when the share of drifted columns among those tested reaches
    ``drift_share``. ``degraded`` is true when any feature looks broken.
    """

    dataset_drift: bool
    drift_share: float
    share_drifted: float
    columns: tuple[ColumnDrift, ...]
    degradation: tuple[DegradationAlert, ...]
    excluded: tuple[ExcludedColumn, ...]
    reference_rows: int
    current_rows: int
    fdr: bool = False
    seconds: float = field(default=0.0, compare=False)
    reference_source: str = "data"  # "profile" when a side was a profile
    current_source: str = "data"
    schema_version: str = SCHEMA_VERSION
    multivariate: tuple[MultivariateDrift, ...] = ()

    @property
    def multivariate_drift(self) -> bool:
        """True when any multivariate method found drift (``dataset_drift`` stays univariate)."""
        return any(m.drifted for m in self.multivariate)

    segments: tuple[SegmentDrift, ...] = ()
    family: FamilyVerdict | None = None  # None in reports of schema 1.5 and older
    performance: dict[str, Any] | None = None  # estimate_performance's, with a performance section
    impact: dict[str, float] | None = None  # feature -> the production model's reliance share

    @property
    def drifted_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.drifted]

    @property
    def n_tested(self) -> int:
        return sum(1 for c in self.columns if c.skipped is None)

    @property
    def degraded(self) -> bool:
        return bool(self.degradation)

    @property
    def segment_findings(self) -> list[str]:
        """Every column that drifted inside a segment, in words: those that survived the
        window's family when the report has one."""
        if self.family is not None:
            return [f.line for f in self.family.of("segments")]
        return [line for s in self.segments for line in s.findings()]

    def column(self, name: str) -> ColumnDrift:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(
            f"No column '{name}' in this report; tested: {[c.name for c in self.columns]}"
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "schema_version": self.schema_version,
            "dataset_drift": self.dataset_drift,
            "drift_share": self.drift_share,
            "share_drifted": self.share_drifted,
            "n_drifted": len(self.drifted_columns),
            "n_tested": self.n_tested,
            "degraded": self.degraded,
            "fdr": self.fdr,
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "reference_source": self.reference_source,
            "current_source": self.current_source,
            "seconds": round(self.seconds, 4),
            "columns": [c.to_dict() for c in self.columns],
            "degradation": [d.to_dict() for d in self.degradation],
            "excluded": [e.to_dict() for e in self.excluded],
            "multivariate": [m.to_dict() for m in self.multivariate],
        }
        if self.segments:
            out["segments"] = [s.to_dict() for s in self.segments]
        if self.family is not None:
            out["family"] = self.family.to_dict()
        if self.performance is not None:
            out["performance"] = dict(self.performance)
        if self.impact is not None:
            out["impact"] = dict(self.impact)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DriftReport:
        """The report ``to_dict`` (or ``report.json``) describes; derived keys (``n_drifted``,
        ``n_tested``, ``degraded``) are recomputed, not read.

        Examples
        --------
        >>> import numpy as np, polars as pl, driftloop
        >>> rng = np.random.default_rng(0)
        >>> ref = pl.DataFrame({"x": rng.normal(size=300)})
        >>> report = driftloop.detect(ref, pl.DataFrame({"x": rng.normal(1, size=300)}))
        >>> DriftReport.from_dict(report.to_dict()).to_dict() == report.to_dict()
        True
        """
        version = str(data.get("schema_version", ""))
        if version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
            raise ConfigError(
                f"Drift report schema_version {version!r} is not readable by this driftloop "
                f"(it reads {SCHEMA_VERSION.split('.')[0]}.x). Re-run detection to rebuild it."
            )
        return cls(
            dataset_drift=data["dataset_drift"],
            drift_share=data["drift_share"],
            share_drifted=data["share_drifted"],
            columns=tuple(ColumnDrift.from_dict(c) for c in data["columns"]),
            degradation=tuple(DegradationAlert.from_dict(a) for a in data["degradation"]),
            excluded=tuple(ExcludedColumn.from_dict(e) for e in data["excluded"]),
            reference_rows=data["reference_rows"],
            current_rows=data["current_rows"],
            fdr=data["fdr"],
            seconds=data.get("seconds", 0.0),
            reference_source=data.get("reference_source", "data"),
            current_source=data.get("current_source", "data"),
            schema_version=version,
            multivariate=tuple(
                MultivariateDrift.from_dict(m) for m in data.get("multivariate", [])
            ),
            segments=tuple(SegmentDrift.from_dict(s) for s in data.get("segments", ())),
            family=None if data.get("family") is None else FamilyVerdict.from_dict(data["family"]),
            performance=data.get("performance"),
            impact=data.get("impact"),
        )

    @classmethod
    def from_json(cls, path: str | Path) -> DriftReport:
        """Read a report written by :meth:`to_json`."""
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def to_json(self, path: str | Path | None = None, *, indent: int | None = 2) -> str:
        text = json.dumps(self.to_dict(), indent=indent, allow_nan=False)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    def to_html(self, path: str | Path | None = None, *, title: str = "Drift report") -> str:
        html = _render("html", self, title=title)
        if path is not None:
            Path(path).write_text(html, encoding="utf-8")
        return html

    def to_markdown(self, *, top: int = 5) -> str:
        return _render("markdown", self, top=top)


def _finite(value: float | None) -> float | None:
    """JSON has no NaN or inf: report them as null rather than emit invalid JSON."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)
