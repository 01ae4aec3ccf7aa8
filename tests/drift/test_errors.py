"""Bad input: one clear error each, with the exact message."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

import driftloop
from driftloop.errors import (
    ConfigError,
    EmptyDataError,
    SchemaError,
    UnknownMethodError,
    ValueQualityError,
)

REF = pl.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": ["x", "y", "x", "y"]})


def test_empty_data() -> None:
    with pytest.raises(
        EmptyDataError,
        match=r"^The current data has no rows \(columns: a, b\)\. Pass a non-empty sample\.$",
    ):
        driftloop.detect(REF, REF.head(0))


def test_no_common_columns() -> None:
    other = pl.DataFrame({"x": [1.0], "y": [2.0]})
    with pytest.raises(
        SchemaError,
        match=r"^Reference and current data have no columns in common \(reference: a, b; current: x, y\)\. Rename columns to match\.$",
    ):
        driftloop.detect(REF, other)


def test_all_nan_reference_column() -> None:
    ref = REF.with_columns(pl.lit(float("nan")).alias("a"))
    with pytest.raises(
        ValueQualityError,
        match=r"^Column 'a' in reference data has no valid values \(all 4 are null, NaN or inf\)\. Drop it from columns or fix the reference\.$",
    ):
        driftloop.detect(ref, REF)


def test_inf_values_when_asked_to_fail() -> None:
    cur = pl.DataFrame({"a": [1.0, np.inf, 3.0, 4.0], "b": ["x", "y", "x", "y"]})
    with pytest.raises(
        ValueQualityError,
        match=r"^Column 'a' in current data has 1 inf value\(s\) \(first at row 1\)\. Replace them, or set nonfinite: drop to ignore them\.$",
    ):
        driftloop.detect(REF, cur, config={"nonfinite": "error"})
    assert driftloop.detect(REF, cur).column("a").n_current == 3  # default: dropped, counted


def test_mixed_types_in_a_column() -> None:
    cur = pd.DataFrame({"a": [1.0, "two", 3.0, 4.0], "b": ["x", "y", "x", "y"]})
    with pytest.raises(
        ValueQualityError,
        match=r"^Column 'a' in current data mixes types \(float, str\)\. Cast it to one type \(numbers or strings\) before comparing\.$",
    ):
        driftloop.detect(REF.to_pandas(), cur)


def test_unknown_method_lists_valid_ones() -> None:
    with pytest.raises(
        UnknownMethodError,
        match=r"^Unknown drift method 'kolmogorov' for detection\.method\. Valid methods: auto, evidently, chisquare, jensenshannon, ks, psi, wasserstein, ztest\.$",
    ):
        driftloop.detect(REF, REF, config={"method": "kolmogorov"})


def test_unknown_method_per_column() -> None:
    with pytest.raises(
        UnknownMethodError, match=r"^Unknown drift method 'kss' for column 'a'\. Valid"
    ):
        driftloop.detect(REF, REF, config={"columns": {"a": {"method": "kss"}}})


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"method": "ks", "threshold": 1.5},
            r"^The 'threshold' of detection\.threshold for method 'ks' must be a float in \(0, 1\)\. Got 1\.5 instead\.$",
        ),
        (
            {"thresholds": {"jensenshannon": 0}},
            r"^The 'threshold' of detection\.thresholds\.jensenshannon for method 'jensenshannon' must be a float in \(0, 1\]\. Got 0\.0 instead\.$",
        ),
        (
            {"threshold": 0.01},
            r"^detection\.threshold = 0\.01 needs an explicit method; with method 'auto' set it per method instead, e\.g\. thresholds: \{ks: 0\.01\}\.$",
        ),
        (
            {"drift_share": 0},
            r"^Invalid setting 'detection\.drift_share' = 0: Input should be greater than 0\.$",
        ),
        (
            {"drift_sahre": 0.3},
            r"^Unknown setting 'detection\.drift_sahre'\. Remove it or check its spelling\.$",
        ),
    ],
    ids=["p-value range", "distance range", "auto with threshold", "drift_share", "typo"],
)
def test_bad_settings(config: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        driftloop.detect(REF, REF, config=config)


def test_method_that_does_not_fit_the_column() -> None:
    with pytest.raises(
        ConfigError,
        match=r"^Method 'ks' needs a numerical column; column 'b' is binary\. Use 'chisquare', 'jensenshannon', 'psi' or 'ztest' for it\.$",
    ):
        driftloop.detect(REF, REF, config={"columns": {"b": {"method": "ks"}}})


def test_unknown_column() -> None:
    with pytest.raises(
        SchemaError, match=r"^Column 'zz' is not in the reference data\. Reference columns: a, b\.$"
    ):
        driftloop.detect(REF, REF, columns=["zz"])


def test_not_a_dataframe() -> None:
    with pytest.raises(
        ConfigError,
        match=r"^The reference data must be a pandas or Polars DataFrame or an Arrow table\. Got list instead\.$",
    ):
        driftloop.detect([1, 2, 3], REF)


def test_errors_are_builtin_compatible() -> None:
    with pytest.raises(ValueError):
        driftloop.detect(REF, REF.head(0))
    with pytest.raises(KeyError):
        driftloop.detect(REF, REF, config={"method": "nope"})
