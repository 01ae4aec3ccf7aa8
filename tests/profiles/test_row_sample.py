"""A profile's row sample: mergeable exactly, kept in the file, and read by the checks that need
whole rows (multivariate drift, embedding columns)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from driftloop.cli import app
from driftloop.errors import ConfigError
from driftloop.profiles import load_profile, merge_profiles, profile, save_profile
from driftloop.profiles.detection import detect
from driftloop.profiles.rowsample import SAMPLE_ROWS

MULTIVARIATE = {"multivariate": {"methods": ["domain_classifier"], "permutations": 99}}


def correlated(rng: np.random.Generator, n: int, *, broken: bool = False) -> pl.DataFrame:
    a = rng.normal(size=n)
    b = 0.9 * a + np.sqrt(1 - 0.81) * rng.normal(size=n)
    if broken:  # the same marginals, the relationship gone
        b = rng.permutation(b)
    return pl.DataFrame({"a": a, "b": b, "c": rng.normal(size=n)})


def test_the_sample_of_parts_merged_is_the_sample_of_the_whole_and_survives_the_file(
    tmp_path: Path,
) -> None:
    frame = correlated(np.random.default_rng(0), 30_000)
    whole = profile(frame)
    parts = merge_profiles(profile(frame[:7_000]), profile(frame[7_000:]))
    assert whole.sample is not None and parts.sample is not None
    assert parts.sample.rows().equals(whole.sample.rows())
    assert whole.sample.rows().height == SAMPLE_ROWS and whole.sample.of == 30_000
    loaded = load_profile(save_profile(whole, tmp_path / "ref.profile"))
    assert loaded.sample is not None and loaded.sample.rows().equals(whole.sample.rows())
    # the sample is uniform: its column means sit within a few standard errors of the whole's
    assert abs(whole.sample.rows()["a"].mean() - frame["a"].mean()) < 4 / np.sqrt(SAMPLE_ROWS)


def test_multivariate_drift_runs_on_the_reference_profile_and_sees_a_broken_correlation() -> None:
    rng = np.random.default_rng(1)
    reference = profile(correlated(rng, 50_000))
    quiet = detect(reference, correlated(rng, 3_000), config=MULTIVARIATE)
    broken = detect(reference, correlated(rng, 3_000, broken=True), config=MULTIVARIATE)
    assert not broken.dataset_drift  # no single column moved
    assert broken.multivariate[0].drifted and broken.multivariate[0].n_reference == SAMPLE_ROWS
    assert not quiet.multivariate[0].drifted


def test_an_embedding_column_is_tested_against_the_profile_sample() -> None:
    rng = np.random.default_rng(2)
    ref = pl.DataFrame({"e": list(rng.normal(size=(20_000, 8)))})
    cur = pl.DataFrame({"e": list(rng.normal(0.5, 1.0, size=(500, 8)))})
    report = detect(profile(ref), cur)
    column = report.column("e")
    assert column.kind == "embedding" and column.drifted


def test_a_profile_without_a_sample_refuses_multivariate_in_one_line(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    frame = correlated(rng, 5_000)
    frame.write_parquet(tmp_path / "ref.parquet")
    correlated(rng, 1_000).write_csv(tmp_path / "cur.csv")
    out = tmp_path / "ref.profile"
    built = CliRunner().invoke(
        app,
        [
            "profile",
            "build",
            str(tmp_path / "ref.parquet"),
            "--out",
            str(out),
            "--sample-rows",
            "0",
        ],
    )
    assert built.exit_code == 0, built.output
    assert load_profile(out).sample is None
    with pytest.raises(ConfigError, match=r"built without one\. Rebuild it with a row sample"):
        detect(load_profile(out), correlated(rng, 1_000), config=MULTIVARIATE)
    (tmp_path / "c.yaml").write_text(
        "detection:\n  multivariate: {methods: [domain_classifier], permutations: 49}\n"
    )
    refused = CliRunner().invoke(
        app, ["detect", str(out), str(tmp_path / "cur.csv"), "--config", str(tmp_path / "c.yaml")]
    )
    assert refused.exit_code == 2 and "Traceback" not in refused.output
    assert len(refused.output.strip().splitlines()) == 1, refused.output


def test_a_smaller_sample_is_the_head_of_the_larger(tmp_path: Path) -> None:
    full = profile(correlated(np.random.default_rng(4), 10_000))
    small = full.with_sample_rows(300)
    assert small.sample is not None and small.sample.rows().equals(full.sample.rows().head(300))
    assert (
        profile(correlated(np.random.default_rng(4), 10_000), sample_rows=300)
        .sample.rows()
        .equals(small.sample.rows())
    )


def test_a_sample_smaller_than_multivariate_max_rows_is_one_line(tmp_path: Path) -> None:
    """Before: the test ran on the sample's 500 rows where max_rows asked for 2,000."""
    rng = np.random.default_rng(5)
    small = save_profile(profile(correlated(rng, 5_000), sample_rows=500), tmp_path / "r.profile")
    (tmp_path / "c.yaml").write_text(
        "detection:\n  multivariate: {methods: [domain_classifier], max_rows: 2000}\n"
    )
    correlated(rng, 3_000).write_csv(tmp_path / "cur.csv")
    refused = CliRunner().invoke(
        app, ["detect", str(small), str(tmp_path / "cur.csv"), "--config", str(tmp_path / "c.yaml")]
    )
    assert refused.exit_code == 2 and "Traceback" not in refused.output
    (line,) = refused.output.strip().splitlines()
    assert (
        "max_rows is 2,000, and the reference profile's row sample holds 500 of its 5,000" in line
    )
    assert "--sample-rows 2000" in line
    # a sample that holds every row of a small side is enough, whatever max_rows says
    whole = profile(correlated(rng, 400), sample_rows=500)
    report = detect(whole, correlated(rng, 400), config={"multivariate": {"max_rows": 2000}})
    assert report.multivariate and report.multivariate[0].n_reference == 400
