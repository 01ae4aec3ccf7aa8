"""Embedding (vector) columns: recognised by content in every input format, the MMD test's
level and power, attribution, bad vectors as one line, and the JSON report."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import driftloop
from driftloop.drift.embedding import mmd_test, moved_dimensions
from driftloop.drift.results import DriftReport
from driftloop.errors import ConfigError, ValueQualityError


def vectors(n: int, d: int = 8, *, shift: float = 0.0, dims: int = 0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = rng.normal(size=(n, d))
    out[:, :dims] += shift
    return out


def test_issue_reproduction_a_column_of_arrays_is_an_embedding_not_mixed_types() -> None:
    """Before: ValueQualityError "Column 'e' in reference data mixes types (ndarray)"."""
    ref = pd.DataFrame({"e": list(np.random.default_rng(0).normal(size=(300, 8)))})
    cur = pd.DataFrame({"e": list(np.random.default_rng(1).normal(size=(300, 8)))})
    report = driftloop.detect(ref, cur)
    column = report.column("e")
    assert (column.kind, column.method, column.family) == ("embedding", "mmd", "p_value")
    assert not column.drifted and column.p_value is not None and column.p_value > 0.05
    assert (column.n_reference, column.n_current) == (300, 300)


def _as_lists(m: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"e": [list(row) for row in m]})


def _as_polars_array(m: np.ndarray) -> pl.DataFrame:
    return pl.DataFrame({"e": m}, schema={"e": pl.Array(pl.Float64, m.shape[1])})


def _as_arrow_fixed(m: np.ndarray) -> pa.Table:
    return pa.table({"e": pa.array(m.tolist(), type=pa.list_(pa.float64(), m.shape[1]))})


def _as_arrow_list(m: np.ndarray) -> pa.Table:
    return pa.table({"e": pa.array(m.tolist(), type=pa.list_(pa.float32()))})


@pytest.mark.parametrize(
    "convert",
    [_as_lists, _as_polars_array, _as_arrow_fixed, _as_arrow_list],
    ids=["pandas-lists", "polars-array", "arrow-fixed-size-list", "arrow-list-float32"],
)
def test_every_input_format_is_recognised_and_detects_a_shift(convert) -> None:
    ref, cur = vectors(300), vectors(300, shift=0.6, dims=2, seed=1)
    column = driftloop.detect(convert(ref), convert(cur)).column("e")
    assert column.kind == "embedding" and column.drifted
    assert {m.name for m in column.moved[:2]} == {"dim 0", "dim 1"}


def test_no_drift_holds_its_rate_over_seeds() -> None:
    p_values = [
        mmd_test(vectors(150, 16, seed=s), vectors(150, 16, seed=1000 + s), permutations=99).p_value
        for s in range(60)
    ]
    # the permutation p-value is uniform on {1/100, ..., 1}: 5% of 60 is 3; allow noise
    assert sum(p < 0.05 for p in p_values) <= 8
    assert 0.3 < float(np.mean(p_values)) < 0.7


def test_permutation_p_value_has_no_floor_when_the_shift_is_strong() -> None:
    result = mmd_test(vectors(200), vectors(200, shift=1.0, dims=8, seed=1), permutations=99)
    assert result.p_value < 1 / 100  # refined by the second stage of draws
    assert result.statistic > 0 and result.bandwidth > 0


def test_result_is_deterministic_and_the_distance_is_the_mmd2_estimate() -> None:
    ref, cur = vectors(120, 4), vectors(120, 4, shift=0.5, dims=1, seed=1)
    first, second = mmd_test(ref, cur), mmd_test(ref, cur)
    assert first == second
    # the unbiased MMD² computed directly, with the same kernel width
    pooled = np.vstack([ref, cur])
    d2 = ((pooled[:, None, :] - pooled[None, :, :]) ** 2).sum(-1)
    k = np.exp(-d2 / (2 * first.bandwidth**2))
    n = len(ref)
    kxx, kyy, kxy = k[:n, :n], k[n:, n:], k[:n, n:]
    direct = (kxx.sum() - n) / (n * (n - 1)) + (kyy.sum() - n) / (n * (n - 1)) - 2 * kxy.mean()
    assert first.statistic == pytest.approx(direct, rel=1e-9)


def test_reference_rows_are_capped_and_the_cap_is_reported() -> None:
    result = mmd_test(vectors(5000, 4), vectors(300, 4, seed=1), max_rows=1000)
    assert (result.n_reference, result.n_current) == (1000, 300)


def test_moved_dimensions_rank_by_standardised_mean_difference() -> None:
    ref, cur = vectors(500, 10), vectors(500, 10, seed=1)
    cur[:, 7] += 2.0
    cur[:, 3] -= 0.8
    moved = moved_dimensions(ref, cur)
    assert [m.name for m in moved[:2]] == ["dim 7", "dim 3"]
    assert moved[0].score > 1.5 and moved[1].score < -0.5 and len(moved) == 5


def test_null_rows_are_missing_values_not_errors() -> None:
    ref = pl.DataFrame({"e": [*vectors(100).tolist(), None]})
    column = driftloop.detect(ref, ref).column("e")
    assert column.n_reference == 100 and not column.drifted


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        (
            pd.DataFrame({"e": [np.zeros(3), np.zeros(3), np.zeros(2)]}),
            r"Column 'e' in reference data has a vector of length 2 at row 2; row 0 has length 3",
        ),
        (
            pd.DataFrame({"e": [np.zeros(3), np.array([0.0, np.nan, 1.0])]}),
            r"Column 'e' in reference data has a vector with a NaN or null value at row 1 "
            r"\(dimension 1\)",
        ),
        (
            pd.DataFrame({"e": [np.zeros(3), 1.5]}),
            r"Column 'e' in reference data mixes vectors with other values: row 1 holds float",
        ),
        (
            pd.DataFrame({"e": [None, ["a", "b"], ["c", "d"]]}),
            r"Column 'e' in reference data holds List\(String\) \(row 1: \['a', 'b'\]\), "
            r"not vectors of numbers",
        ),
        (  # before: pyarrow's "Could not convert 'a' with type str: tried to convert to double"
            pd.DataFrame({"e": [[1.0, 2.0]] * 5 + [["a", "b"]]}),
            r"Column 'e' in reference data has a vector holding str values at row 5 "
            r"\(\['a', 'b'\]\); a vector column takes numbers only",
        ),
        (  # before: pyarrow's "Cannot mix NumPy dtypes float64 and unrecognized type"
            pd.DataFrame({"e": [np.zeros(2)] * 3 + [np.array(["a", "b"])]}),
            r"has a vector holding str values at row 3 \(\['a', 'b'\]\)",
        ),
        (
            pl.DataFrame({"e": [[1.0, 2.0], [1.0, float("inf")]]}),
            r"has a vector with a inf value at row 1",
        ),
    ],
    ids=[
        "ragged",
        "nan-inside",
        "mixed-vector-scalar",
        "strings",
        "one-list-of-strings",
        "one-array-of-strings",
        "inf-inside",
    ],
)
def test_bad_vectors_are_one_line_naming_the_column_and_row(reference, message) -> None:
    with pytest.raises(ValueQualityError, match=message) as caught:
        driftloop.detect(reference, reference)
    assert "\n" not in str(caught.value)


def test_current_vectors_of_another_length_name_the_reference_length() -> None:
    with pytest.raises(ValueQualityError, match="the reference's vectors have length 8"):
        driftloop.detect(_as_lists(vectors(50)), _as_lists(vectors(50, 6)))


def test_kind_embedding_on_a_number_column_is_a_config_error() -> None:
    df = pl.DataFrame({"x": np.arange(100.0)})
    with pytest.raises(ConfigError, match="kind 'embedding' needs a column of vectors"):
        driftloop.detect(df, df, config={"columns": {"x": {"kind": "embedding"}}})


def test_embedding_in_the_json_report_round_trips_with_its_moved_dimensions() -> None:
    ref = _as_lists(vectors(200))
    cur = _as_lists(vectors(200, shift=0.8, dims=1, seed=1))
    report = driftloop.detect(ref, cur)
    data = json.loads(report.to_json())
    assert data["schema_version"] == "1.7"
    column = data["columns"][0]
    assert column["kind"] == "embedding" and column["moved"][0]["name"] == "dim 0"
    assert DriftReport.from_dict(data).column("e").moved == report.column("e").moved
    assert [f.name for f in report.family.findings] == ["e"]


def test_embedding_next_to_tabular_columns_and_out_of_multivariate() -> None:
    rng = np.random.default_rng(0)
    ref = pd.DataFrame(
        {"e": list(vectors(300)), "x": rng.normal(size=300), "y": rng.normal(size=300)}
    )
    report = driftloop.detect(
        ref, ref, config={"multivariate": {"methods": ["pca_reconstruction"]}}
    )
    assert {c.name: c.kind for c in report.columns} == {
        "e": "embedding",
        "x": "numerical",
        "y": "numerical",
    }
    assert report.multivariate[0].columns == ("x", "y")


def test_a_profile_side_tests_embedding_and_text_columns_on_its_row_sample() -> None:
    rng = np.random.default_rng(0)
    texts = [f"a ticket about topic {i % 7} and more {i}" for i in range(200)]
    df = pl.DataFrame(
        {"e": rng.normal(size=(200, 4)).tolist(), "t": texts, "x": rng.normal(size=200)}
    )
    report = driftloop.detect(driftloop.profile(df), df)
    assert sorted(c.name for c in report.columns) == ["e", "t", "x"] and not report.excluded
    # a profile built without a row sample has no rows to test them on, and says so
    report = driftloop.detect(driftloop.profile(df, sample_rows=0), df)
    assert [c.name for c in report.columns] == ["x"]
    assert {(e.name, e.kind) for e in report.excluded} == {("e", "embedding"), ("t", "text")}
    assert all("built without a row sample" in e.reason for e in report.excluded)


def test_the_command_line_reads_parquet_vectors_and_refuses_ragged_ones(tmp_path) -> None:
    from typer.testing import CliRunner

    from driftloop.cli import app

    rng = np.random.default_rng(0)
    pl.DataFrame({"e": rng.normal(size=(100, 4)).tolist()}).write_parquet(tmp_path / "ref.parquet")
    shifted = (rng.normal(size=(100, 4)) + np.array([2.0, 0, 0, 0])).tolist()
    pl.DataFrame({"e": shifted}).write_parquet(tmp_path / "cur.parquet")
    ragged = [[0.0, 1.0]] * 10 + [[0.0]]
    pl.DataFrame({"e": ragged}).write_parquet(tmp_path / "bad.parquet")
    out = tmp_path / "report.json"
    runner = CliRunner()
    good = runner.invoke(
        app,
        [
            "detect",
            str(tmp_path / "ref.parquet"),
            str(tmp_path / "cur.parquet"),
            "--json",
            str(out),
        ],
    )
    assert good.exit_code == 0, good.output
    assert json.loads(out.read_text())["columns"][0]["moved"][0]["name"] == "dim 0"
    bad = runner.invoke(
        app, ["detect", str(tmp_path / "bad.parquet"), str(tmp_path / "cur.parquet")]
    )
    assert bad.exit_code == 2
    lines = [line for line in bad.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "vector of length 1 at row 10" in lines[0]


def test_a_method_set_for_an_embedding_column_is_a_config_error() -> None:
    df = _as_lists(vectors(50))
    with pytest.raises(
        ConfigError, match="Column 'e' is kind embedding, tested by its own test; method 'ks'"
    ):
        driftloop.detect(df, df, config={"columns": {"e": {"method": "ks"}}})


def test_bad_vectors_on_the_command_line_are_one_line_and_write_no_report(tmp_path) -> None:
    from typer.testing import CliRunner

    from driftloop.cli import app

    rng = np.random.default_rng(0)
    pl.DataFrame({"e": rng.normal(size=(60, 4)).tolist()}).write_parquet(tmp_path / "ref.parquet")
    pl.DataFrame({"e": [["a", "b", "c", "d"]] * 60}).write_parquet(tmp_path / "strings.parquet")
    out = tmp_path / "report.json"
    runner = CliRunner()
    argv = ["detect", str(tmp_path / "ref.parquet"), str(tmp_path / "strings.parquet")]
    result = runner.invoke(app, [*argv, "--json", str(out)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "Column 'e' in current data" in lines[0]
    assert "row 0: ['a', 'b', 'c', 'd']" in lines[0] and "Traceback" not in result.output
    assert not out.exists()


def test_an_embedding_column_missing_from_the_window_is_a_missing_feature_alert() -> None:
    """Like any reference column the window lacks: reported, not an error that hides the rest."""
    rng = np.random.default_rng(0)
    ref = pl.DataFrame({"e": vectors(100).tolist(), "x": rng.normal(size=100)})
    report = driftloop.detect(ref, ref.drop("e"))
    assert [(a.kind, a.feature) for a in report.degradation] == [("missing_feature", "e")]
    assert "Feature 'e' is missing from the current data" in report.degradation[0].message
    assert [c.name for c in report.columns] == ["x"]
