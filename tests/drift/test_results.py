"""DriftReport's JSON form: stable, versioned, and read back exactly."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import driftloop
from driftloop.drift.results import (
    SCHEMA_VERSION,
    ColumnDrift,
    DegradationAlert,
    DriftReport,
    ExcludedColumn,
    Histogram,
)
from driftloop.errors import ConfigError

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
maybe = st.none() | finite
text = st.text(max_size=12)
counts = st.integers(min_value=0, max_value=10**9)

histograms = st.builds(
    Histogram,
    reference=st.tuples(finite, finite),
    current=st.tuples(finite, finite),
    edges=st.none() | st.tuples(finite, finite, finite),
    labels=st.none() | st.tuples(text, text),
)
columns = st.builds(
    ColumnDrift,
    name=text,
    kind=st.sampled_from(["numerical", "categorical"]),
    method=text,
    statistic=maybe,
    p_value=maybe,
    threshold=finite,
    drifted=st.booleans(),
    family=text,
    n_reference=counts,
    n_current=counts,
    p_adjusted=maybe,
    skipped=st.none() | text,
    histogram=st.none() | histograms,
)
alerts = st.builds(
    DegradationAlert,
    feature=text,
    kind=text,
    current=st.none() | finite | text,
    baseline=st.none() | finite | text,
    message=text,
)
excluded = st.builds(ExcludedColumn, name=text, kind=text, reason=text)
reports = st.builds(
    DriftReport,
    dataset_drift=st.booleans(),
    drift_share=finite,
    share_drifted=finite,
    columns=st.lists(columns, max_size=4).map(tuple),
    degradation=st.lists(alerts, max_size=3).map(tuple),
    excluded=st.lists(excluded, max_size=3).map(tuple),
    reference_rows=counts,
    current_rows=counts,
    fdr=st.booleans(),
    seconds=st.floats(min_value=0, max_value=1e6).map(lambda s: round(s, 4)),
)


def same(a: DriftReport, b: DriftReport) -> bool:
    """Equal including what dataclass equality leaves out (histograms, seconds)."""
    return (
        a == b
        and a.seconds == b.seconds
        and [c.histogram for c in a.columns] == [c.histogram for c in b.columns]
    )


@settings(max_examples=150, deadline=None)
@given(reports)
def test_from_dict_reads_back_exactly_what_to_dict_wrote(report: DriftReport) -> None:
    through_json = json.loads(report.to_json())
    back = DriftReport.from_dict(through_json)
    assert same(back, report)
    assert back.to_dict() == report.to_dict()


def test_a_real_report_round_trips_through_its_file(tmp_path) -> None:
    rng = np.random.default_rng(3)
    ref = pl.DataFrame(
        {"x": rng.normal(size=500), "c": rng.choice(["a", "b"], 500), "k": np.ones(500)}
    )
    cur = pl.DataFrame(
        {"x": rng.normal(0.5, size=500), "c": rng.choice(["a", "b", "z"], 500), "k": np.ones(500)}
    )
    report = driftloop.detect(ref, cur)
    report.to_json(tmp_path / "r.json")
    back = DriftReport.from_json(tmp_path / "r.json")
    assert back.to_dict() == report.to_dict()
    assert back.drifted_columns == report.drifted_columns
    assert back.to_markdown() == report.to_markdown()


def test_the_schema_version_is_written_and_checked() -> None:
    data = DriftReport(False, 0.5, 0.0, (), (), (), 1, 1).to_dict()
    assert data["schema_version"] == SCHEMA_VERSION
    with pytest.raises(ConfigError, match=r"^Drift report schema_version '9\.0' is not readable"):
        DriftReport.from_dict({**data, "schema_version": "9.0"})
