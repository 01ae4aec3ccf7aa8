"""detect(): inputs, the automatic method table, the dataset verdict, settings and the JSON shape."""

from __future__ import annotations

import html
import json

import numpy as np
import polars as pl
import pytest

import driftloop
from driftloop.drift.choose import choose_method
from driftloop.drift.columns import ColumnKind


def frames(n: int = 400, shift: dict[str, float] | None = None, seed: int = 0):
    rng = np.random.default_rng(seed)
    shift = shift or {}
    out = []
    for side in ("ref", "cur"):
        s = shift if side == "cur" else {}
        out.append(
            pl.DataFrame(
                {
                    "a": rng.normal(s.get("a", 0.0), size=n),
                    "b": rng.normal(s.get("b", 0.0), size=n),
                    "c": rng.normal(s.get("c", 0.0), size=n),
                    "d": rng.normal(s.get("d", 0.0), size=n),
                }
            )
        )
    return out


@pytest.mark.parametrize(
    ("kind", "n_ref", "n_unique", "expected"),
    [
        (ColumnKind.NUMERICAL, 1000, 6, "ks"),
        (ColumnKind.NUMERICAL, 1000, 5, "chisquare"),
        (ColumnKind.NUMERICAL, 1000, 2, "ztest"),
        (ColumnKind.CATEGORICAL, 1000, 3, "chisquare"),
        (ColumnKind.BINARY, 10, 2, "ztest"),
        (ColumnKind.NUMERICAL, 1001, 6, "wasserstein"),
        (ColumnKind.NUMERICAL, 1001, 5, "jensenshannon"),
        (ColumnKind.CATEGORICAL, 5000, 40, "jensenshannon"),
        (ColumnKind.BINARY, 5000, 2, "jensenshannon"),
    ],
    ids=lambda v: str(v),
)
def test_evidently_choice_table(kind: ColumnKind, n_ref: int, n_unique: int, expected: str) -> None:
    assert choose_method(kind, n_ref, n_unique, 7, table="evidently") == expected


@pytest.mark.parametrize(
    ("kind", "n_ref", "n_cur", "n_unique", "expected"),
    [
        # a small window gets a test however large the reference
        (ColumnKind.NUMERICAL, 5000, 7, 40, "ks"),
        (ColumnKind.NUMERICAL, 100_000, 100, 40, "ks"),
        (ColumnKind.CATEGORICAL, 5000, 30, 50, "chisquare"),
        (ColumnKind.BINARY, 5000, 30, 2, "ztest"),
        # Evidently's rule would use distances at 1,001 a side: not yet quiet enough
        (ColumnKind.NUMERICAL, 1001, 1001, 6, "ks"),
        # large on both sides: distances
        (ColumnKind.NUMERICAL, 2000, 2000, 6, "wasserstein"),
        (ColumnKind.NUMERICAL, 5000, 5000, 5, "jensenshannon"),
        (ColumnKind.BINARY, 5000, 5000, 2, "jensenshannon"),
        # many categories keep JS noisy: the chi-square test until the samples are larger
        (ColumnKind.CATEGORICAL, 2500, 2500, 200, "chisquare"),
        (ColumnKind.CATEGORICAL, 50_000, 50_000, 200, "jensenshannon"),
    ],
    ids=lambda v: str(v),
)
def test_auto_choice_is_size_aware(
    kind: ColumnKind, n_ref: int, n_cur: int, n_unique: int, expected: str
) -> None:
    assert choose_method(kind, n_ref, n_unique, n_cur) == expected


def test_auto_choice_end_to_end_small_and_large() -> None:
    rng = np.random.default_rng(1)
    for n, numeric, labels in ((500, "ks", "chisquare"), (5000, "wasserstein", "jensenshannon")):
        df = pl.DataFrame(
            {
                "x": rng.normal(size=n),
                "cat": rng.choice(["a", "b", "c"], n),
                "flag": rng.integers(0, 2, n),
            }
        )
        report = driftloop.detect(df, df)
        methods = {c.name: c.method for c in report.columns}
        assert methods["x"] == numeric and methods["cat"] == labels
        assert report.column("flag").kind == "binary"
        assert not report.dataset_drift


def test_dataset_verdict_uses_drift_share() -> None:
    ref, cur = frames(shift={"a": 1.0, "b": 1.0})
    report = driftloop.detect(ref, cur)
    assert sorted(report.drifted_columns) == ["a", "b"]
    assert report.share_drifted == 0.5 and report.dataset_drift
    strict = driftloop.detect(ref, cur, config={"drift_share": 0.75})
    assert not strict.dataset_drift


def test_benjamini_hochberg_adjusts_p_values() -> None:
    ref, cur = frames(n=200, shift={"a": 0.25})
    plain = driftloop.detect(ref, cur)
    bh = driftloop.detect(ref, cur, config={"fdr": True})
    raw = [c.p_value for c in bh.columns]
    assert raw == [c.p_value for c in plain.columns]
    for c in bh.columns:
        assert c.p_adjusted is not None and c.p_adjusted >= c.p_value
        assert c.drifted == (c.p_adjusted < c.threshold)
    assert bh.fdr and bh.to_dict()["fdr"]


def test_method_and_threshold_globally_and_per_column() -> None:
    ref, cur = frames(shift={"a": 0.3})
    report = driftloop.detect(
        ref,
        cur,
        config={
            "method": "psi",
            "threshold": 0.05,
            "columns": {"b": {"method": "wasserstein", "threshold": 0.5}},
            "thresholds": {"ks": 0.01},
        },
    )
    assert report.column("a").method == "psi" and report.column("a").threshold == 0.05
    assert report.column("b").method == "wasserstein" and report.column("b").threshold == 0.5
    # a distance at 400 rows a side: judged by its threshold, its resampled p-value shown beside
    assert 0 < report.column("b").p_value <= 1  # type: ignore[operator]


def test_global_method_falls_back_to_auto_where_it_does_not_apply() -> None:
    df = pl.DataFrame({"x": np.arange(100.0), "cat": ["a", "b", "c", "d"] * 25})
    report = driftloop.detect(df, df, config={"method": "ks"})
    assert report.column("x").method == "ks"
    assert report.column("cat").method == "chisquare"


def test_columns_argument_and_missing_feature() -> None:
    ref, cur = frames()
    report = driftloop.detect(ref, cur.drop("c"), columns=["a", "c"])
    assert [c.name for c in report.columns] == ["a"]
    assert [(a.feature, a.kind) for a in report.degradation] == [("c", "missing_feature")]


def test_pandas_polars_and_arrow_inputs_agree() -> None:
    ref, cur = frames(shift={"a": 0.5})
    expected = driftloop.detect(ref, cur).to_dict()
    for convert in (lambda f: f.to_pandas(), lambda f: f.to_arrow(), lambda f: f.lazy()):
        got = driftloop.detect(convert(ref), convert(cur)).to_dict()
        assert got["columns"] == expected["columns"]


def test_datetime_and_identifier_columns_are_excluded_and_free_text_is_tested() -> None:
    n = 200
    df = pl.DataFrame(
        {
            "x": np.linspace(0, 1, n),
            "when": pl.date_range(pl.date(2024, 1, 1), pl.date(2024, 7, 18), eager=True),
            "comment": [f"free text number {i}" for i in range(n)],
            "order_id": [f"ord-{i:05d}" for i in range(n)],
        }
    )
    report = driftloop.detect(df, df)
    assert {(e.name, e.kind) for e in report.excluded} == {
        ("when", "datetime"),
        ("order_id", "text"),
    }
    assert [c.name for c in report.columns] == ["x", "comment"]
    assert report.column("comment").kind == "text" and not report.column("comment").drifted


def test_kind_override() -> None:
    df = pl.DataFrame({"code": [1, 2, 3, 4, 5, 6, 7] * 20})
    report = driftloop.detect(df, df, config={"columns": {"code": {"kind": "categorical"}}})
    assert report.column("code").kind == "categorical"
    assert report.column("code").method == "chisquare"


def test_json_shape_is_stable() -> None:
    ref, cur = frames(shift={"a": 1.0})
    cur = cur.with_columns(pl.when(pl.col("b") > 0).then(None).otherwise(pl.col("b")).alias("b"))
    data = json.loads(driftloop.detect(ref, cur).to_json())
    assert {"schema_version", "dataset_drift", "drift_share", "share_drifted", "columns",
            "degradation"} <= set(data)  # fmt: skip
    assert data["schema_version"] == "1.7"
    for column in data["columns"]:
        assert {"name", "kind", "method", "statistic", "p_value", "threshold", "drifted"} <= set(
            column
        )
    assert data["degradation"][0].keys() >= {"feature", "kind", "current", "baseline", "message"}
    assert isinstance(data["dataset_drift"], bool) and isinstance(data["share_drifted"], float)


def test_current_column_all_null_is_a_degradation_not_a_crash() -> None:
    ref, cur = frames()
    cur = cur.with_columns(pl.lit(None, dtype=pl.Float64).alias("d"))
    report = driftloop.detect(ref, cur)
    assert report.column("d").skipped == "no valid values in the current data"
    assert ("d", "null_rate") in {(a.feature, a.kind) for a in report.degradation}
    assert report.n_tested == 3


def test_large_inputs_use_the_parallel_path_with_identical_results() -> None:
    ref, cur = frames(n=60_000, shift={"a": 0.2})
    parallel = driftloop.detect(ref, cur)
    serial = driftloop.detect(ref, cur, config={"workers": 1})
    assert parallel.columns == serial.columns
    assert parallel.drifted_columns == ["a"]


@pytest.mark.parametrize("rows", [100, 60_000], ids=["serial", "threads"])
def test_progress_reports_every_column_once_in_order(rows: int) -> None:
    rng = np.random.default_rng(2)
    names = [f"c{i}" for i in range(7)]
    ref = pl.DataFrame({n: rng.normal(size=rows) for n in names})
    cur = pl.DataFrame({n: rng.normal(size=rows) for n in names})
    calls: list[tuple[int, int]] = []
    driftloop.detect(ref, cur, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(i, 7) for i in range(1, 8)]


def test_values_near_the_float_limit_do_not_overflow_into_wrong_verdicts() -> None:
    import warnings

    rng = np.random.default_rng(4)
    ref = pl.DataFrame({"x": rng.normal(size=3000) * 1e307})
    shifted = pl.DataFrame({"x": rng.normal(3.0, size=3000) * 1e307})
    same = pl.DataFrame({"x": rng.normal(size=3000) * 1e307})
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no overflow anywhere
        moved, quiet = driftloop.detect(ref, shifted), driftloop.detect(ref, same)
    assert moved.column("x").drifted and moved.column("x").statistic == pytest.approx(3.0, rel=0.1)
    assert not quiet.column("x").drifted
    assert "variance_collapse" not in {a.kind for a in quiet.degradation}
    small = driftloop.detect(ref / 1e307, shifted / 1e307)  # the same data in small units
    assert moved.column("x").statistic == pytest.approx(small.column("x").statistic, rel=1e-9)


def test_a_distance_forced_on_a_small_window_says_how_noisy_it_is() -> None:
    rng = np.random.default_rng(21)
    ref = pl.DataFrame({"x": rng.normal(size=5000)})
    cur = pl.DataFrame({"x": rng.normal(size=30)})
    report = driftloop.detect(ref, cur, config={"method": "wasserstein"})
    column = report.column("x")
    assert column.p_value is not None and column.p_value > 0.01  # no drift
    assert (
        column.warning is not None and "of no-drift windows at 30 vs 5,000 rows" in column.warning
    )
    assert "⚠" in report.to_markdown()
    assert html.escape(column.warning, quote=False) in report.to_html().replace("&#39;", "'")
    assert column.test == "resampled" and not column.drifted  # its own p-value decides too
    # large on both sides: no resampling, no warning; KS on the same samples must agree
    big = driftloop.detect(
        ref, pl.DataFrame({"x": rng.normal(size=5000)}), config={"method": "wasserstein"}
    )
    assert big.column("x").test == "ks" and big.column("x").warning is None
    assert big.column("x").p_value is not None and big.column("x").p_value > 0.01


@pytest.mark.parametrize("method", ["auto", "ks", "psi"])
def test_a_prepared_reference_gives_the_frames_report_and_is_reduced_once(method: str) -> None:
    from driftloop.drift.detection import PreparedTable, prepare

    rng = np.random.default_rng(4)
    n = 60_000  # the parallel path
    ints = rng.poisson(3, size=n).astype(float)
    ints[::97] = np.nan
    ref = pl.DataFrame(
        {
            "x": np.append(rng.normal(size=n - 2), [np.inf, -np.inf]),
            "counts": ints,
            "label": rng.choice(["a", "b", "c"], size=n),
            "flag": rng.random(size=n) < 0.3,
        }
    )
    cur = ref.with_columns(pl.col("x") + 0.05).sample(fraction=0.5, seed=1)
    config = {"method": method, "nonfinite": "drop"}
    prepared = prepare(ref, config=config)
    assert isinstance(prepared, PreparedTable)
    made = {name: dict(column.made) for name, column in prepared.prepared.items()}
    assert all(made.values())  # every column reduced by prepare itself
    expected = driftloop.detect(ref, cur, config=config)
    assert driftloop.detect(prepared, cur, config=config) == expected
    assert driftloop.detect(prepared, cur, config=config) == expected  # reused, not redone
    for name, column in prepared.prepared.items():
        assert all(column.made[key] is sample for key, sample in made[name].items())


def test_a_duration_column_is_tested_as_seconds_on_frames_and_profiles() -> None:
    """A duration is a quantity (a trip's length): it was excluded as a 'datetime column'."""
    import datetime as dt

    from driftloop.profiles import profile

    rng = np.random.default_rng(4)
    seconds = {
        side: rng.normal(600 + 60 * shift, 100, 3_000) for side, shift in (("r", 0), ("c", 1))
    }
    as_durations = {
        side: pl.DataFrame({"trip": [dt.timedelta(seconds=float(v)) for v in values]})
        for side, values in seconds.items()
    }
    as_numbers = {side: pl.DataFrame({"trip": values}) for side, values in seconds.items()}
    got = driftloop.detect(as_durations["r"], as_durations["c"])
    want = driftloop.detect(as_numbers["r"], as_numbers["c"])
    assert not got.excluded and got.column("trip").kind == "numerical"
    assert got.column("trip").statistic == pytest.approx(want.column("trip").statistic, abs=1e-9)
    assert got.column("trip").drifted
    profiled = profile(as_durations["r"]).column("trip")
    assert profiled.numeric is not None and profiled.numeric.mean == pytest.approx(
        float(np.mean(seconds["r"])), rel=1e-9
    )
    config = {"multivariate": {"permutations": 19}}
    with_other = {s: f.with_columns(x=rng.normal(size=f.height)) for s, f in as_durations.items()}
    both = driftloop.detect(with_other["r"], with_other["c"], config=config)
    assert {m.method for m in both.multivariate} == {"domain_classifier", "pca_reconstruction"}
