"""A stored reference profile: built once from the source, reused, rebuilt when it changes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from driftloop.cli import app
from driftloop.config import PipelineConfig, load_config
from driftloop.data.sources import filter_window
from driftloop.data.warehouse import Warehouse
from driftloop.demo import demo_config, month
from driftloop.pipeline.runner import Runner
from driftloop.pipeline.steps.fetch import FetchResult
from driftloop.profiles import load_profile

from .conftest import write_config

FEB, MAR, APR = month(2011, 2), month(2011, 3), month(2011, 4)
QUIET = {"retrain": False, "alert": False}


def fetched(config: PipelineConfig, window: Any = MAR, **options: Any) -> FetchResult:
    outcome = Runner(config).run(start=window[0], end=window[1], **options)
    assert outcome.status == "succeeded", outcome.error
    result = outcome.results["fetch_reference"]
    assert isinstance(result, FetchResult)
    return result


def add_reference_rows(config: PipelineConfig, bikes: pl.DataFrame) -> None:
    rows = filter_window(bikes, "dteday", *FEB)
    Warehouse(config.stores.warehouse.get_secret_value()).seed(
        rows, table="reference", if_exists="append"
    )


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_rows_updated_in_place_rebuild_the_profile_through_updated_column(
    make_pipeline, bikes, tmp_path: Path, pg_databases, database: str
) -> None:  # type: ignore[no-untyped-def]
    """Same count, same last date: only the column every update sets can tell."""
    import sqlalchemy as sa

    warehouse = pg_databases() if database == "postgresql" else None
    store = tmp_path / "reference.profile"
    options = {"reference__profile": str(store), "reference__updated_column": "updated_at"}
    config = make_pipeline(warehouse, on_drift=QUIET, seed=False, **options)
    january = filter_window(bikes, "dteday", *month(2011, 1)).with_columns(
        updated_at=pl.lit(dt.datetime(2011, 2, 1))
    )
    url = config.stores.warehouse.get_secret_value()
    Warehouse(url).seed(january, table="reference", if_exists="replace")
    first = fetched(config)
    assert (first.profile, first.profile_reason) == ("built", "nothing stored yet")
    assert fetched(config).profile == "reused"
    before = load_profile(store).column("temp").numeric
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE reference SET temp = temp + 0.5, updated_at = :at"),
            {"at": dt.datetime(2011, 3, 5, 9, 30)},
        )
    engine.dispose()
    changed = fetched(config)
    assert changed.profile == "built" and changed.rows == 31
    assert changed.profile_reason.startswith("the source changed (last_update 2011-02-01")
    assert "2011-03-05 09:30:00" in changed.profile_reason
    after = load_profile(store).column("temp").numeric
    assert after is not None and before is not None
    assert after.mean == pytest.approx(before.mean + 0.5)


def test_a_misspelt_updated_column_is_one_line_not_a_constant(
    make_pipeline, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """SQLite reads an unknown double-quoted name as text: MAX("updated_att") was the same
    string every run, so updates were never seen (found by a red-team run)."""
    options = {"reference__profile": str(tmp_path / "r.profile")}
    config = make_pipeline(on_drift=QUIET, reference__updated_column="updated_att", **options)
    outcome = Runner(config).run(start=MAR[0], end=MAR[1])
    assert outcome.status == "failed" and not (tmp_path / "r.profile").exists()
    assert "reference.updated_column 'updated_att' is not a column of reference" in str(
        outcome.error
    )


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_sql_reference_is_built_once_reused_and_rebuilt_when_rows_arrive(
    make_pipeline, bikes, tmp_path: Path, pg_databases, database: str
) -> None:  # type: ignore[no-untyped-def]
    warehouse = pg_databases() if database == "postgresql" else None
    store = tmp_path / "profiles" / "reference.profile"
    config = make_pipeline(warehouse, on_drift=QUIET, reference__profile=str(store))
    first = fetched(config)
    assert (first.profile, first.profile_reason) == ("built", "nothing stored yet")
    assert first.rows == 31 and load_profile(store).height == 31
    built_at = store.stat().st_mtime_ns

    again = fetched(config, APR)
    assert (again.profile, again.profile_reason) == ("reused", "source unchanged")
    assert store.stat().st_mtime_ns == built_at

    add_reference_rows(config, bikes)
    changed = fetched(config)
    assert changed.profile == "built"
    assert changed.profile_reason.startswith("the source changed (")
    assert "rows 31 -> 59" in changed.profile_reason
    assert changed.rows == 59 and load_profile(store).height == 59
    assert store.stat().st_mtime_ns != built_at


def test_the_profile_verdict_equals_the_data_verdict(make_pipeline, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from_data = Runner(make_pipeline(on_drift=QUIET)).run(start=MAR[0], end=MAR[1])
    store = tmp_path / "reference.profile"
    config = make_pipeline(on_drift=QUIET, reference__profile=str(store), seed=False)
    outcome = Runner(config).run(start=MAR[0], end=MAR[1])
    assert outcome.verdict.dataset_drift == from_data.verdict.dataset_drift
    assert outcome.verdict.drifted == from_data.verdict.drifted
    run_copy = Path(config.stores.runs) / outcome.run_id / "reference.profile"
    assert run_copy.read_bytes() == store.read_bytes()


def test_rebuild_profile_forces_a_build_and_never_keeps_the_stored_one(
    make_pipeline, bikes, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    store = tmp_path / "reference.profile"
    config = make_pipeline(
        on_drift=QUIET, reference__profile=str(store), reference__rebuild="never"
    )
    assert fetched(config).profile == "built"
    add_reference_rows(config, bikes)
    kept = fetched(config, APR)
    assert (kept.profile, kept.rows) == ("reused", 31)  # never: the source's change is ignored
    forced = fetched(config, rebuild_profile=True)
    assert (forced.profile, forced.profile_reason, forced.rows) == (
        "built",
        "--rebuild-profile",
        59,
    )


def test_rebuild_always_builds_every_run(make_pipeline, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store = tmp_path / "reference.profile"
    config = make_pipeline(
        on_drift=QUIET, reference__profile=str(store), reference__rebuild="always"
    )
    fetched(config)
    assert (fetched(config, APR).profile_reason) == "rebuild: always"


def test_a_parquet_reference_window_is_profiled_out_of_core_and_follows_the_file(
    make_pipeline, bikes, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "reference.parquet"
    bikes.write_parquet(source)
    store = tmp_path / "reference.profile"
    reference = {"uri": str(source), "date_column": "dteday", "profile": str(store)}
    reference |= {"start": "2011-01-01", "end": "2011-01-31"}
    config = make_pipeline(on_drift=QUIET, reference=reference, seed=False)
    first = fetched(config)
    assert (first.profile, first.rows) == ("built", 31)
    assert (first.window_start, first.window_end) == ("2011-01-01", "2011-01-31")
    assert fetched(config, APR).profile == "reused"
    bikes.head(400).write_parquet(source)  # the file is rewritten: another size and time
    assert fetched(config).profile_reason.startswith("the source changed (")


def test_an_s3_store_is_reused(make_pipeline, s3_env) -> None:  # type: ignore[no-untyped-def]
    key = "profiles/bike/reference.profile"
    store = f"s3://{s3_env.bucket}/{key}"
    config = make_pipeline(on_drift=QUIET, reference__profile=store)
    assert fetched(config).profile == "built"
    client = s3_env.client()
    stamp = client.head_object(Bucket=s3_env.bucket, Key=key)["ETag"]
    again = fetched(config, APR)
    assert (again.profile, again.rows) == ("reused", 31)
    assert client.head_object(Bucket=s3_env.bucket, Key=key)["ETag"] == stamp


def test_a_corrupt_stored_profile_is_rebuilt_under_auto_and_refused_under_never(
    make_pipeline, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    store = tmp_path / "reference.profile"
    store.write_bytes(b"PAR1 half a profile")
    config = make_pipeline(on_drift=QUIET, reference__profile=str(store))
    rebuilt = fetched(config)
    assert (rebuilt.profile, rebuilt.profile_reason) == (
        "built",
        "the stored profile was unreadable",
    )
    assert load_profile(store).height == 31

    store.write_bytes(b"PAR1 half a profile")
    pinned = make_pipeline(
        on_drift=QUIET, reference__profile=str(store), reference__rebuild="never", seed=False
    )
    outcome = Runner(pinned).run(start=MAR[0], end=MAR[1])
    assert outcome.status == "failed"
    error = str(outcome.error)
    assert "is not a readable Parquet file" in error and "rebuild is 'never'" in error
    assert "\n" not in error
    assert store.read_bytes() == b"PAR1 half a profile"  # nothing written


def test_no_partial_file_is_left_behind(make_pipeline, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store = tmp_path / "profiles" / "reference.profile"
    fetched(make_pipeline(on_drift=QUIET, reference__profile=str(store)))
    assert sorted(p.name for p in store.parent.iterdir()) == ["reference.profile"]


def test_the_window_profile_is_kept_with_the_run(make_pipeline) -> None:  # type: ignore[no-untyped-def]
    config = make_pipeline(on_drift=QUIET)
    outcome = Runner(config).run(start=MAR[0], end=MAR[1])
    detect = outcome.results["detect"]
    saved = load_profile(detect.current_profile)  # type: ignore[attr-defined]
    assert Path(detect.current_profile).parent.name == outcome.run_id  # type: ignore[attr-defined]
    assert saved.height == outcome.results["fetch_current"].rows  # type: ignore[attr-defined]
    assert saved.column("temp").numeric is not None


def test_the_command_line_says_built_then_reused(make_pipeline, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store = tmp_path / "reference.profile"
    config = make_pipeline(on_drift=QUIET, reference__profile=str(store))
    path = write_config(config, tmp_path / "driftloop.yaml")
    cli = CliRunner()
    args = ["run", "--config", str(path), "--start", "2011-03-01", "--end", "2011-03-31"]
    first = cli.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "31 rows; profile built (nothing stored yet)" in first.output
    second = cli.invoke(app, args)
    assert "31 rows; profile reused (source unchanged)" in second.output
    forced = cli.invoke(app, [*args, "--rebuild-profile"])
    assert "31 rows; profile built (--rebuild-profile)" in forced.output
    shown = cli.invoke(app, ["profile", "show", str(store)])
    assert shown.exit_code == 0 and "source fingerprint: " in shown.output, shown.output[:600]
    assert "rows 31, table reference" in shown.output, shown.output[:800]


def test_step_fetch_reference_rebuilds_on_request_as_run_does(
    make_pipeline, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """An orchestrator running the loop step by step can force the rebuild too."""
    import json

    config = make_pipeline(on_drift=QUIET, reference__profile=str(tmp_path / "reference.profile"))
    path = write_config(config, tmp_path / "driftloop.yaml")
    cli, window = CliRunner(), ["--start", "2011-03-01", "--end", "2011-03-31"]
    args = ["step", "fetch_reference", "--config", str(path), *window]
    said = [json.loads(cli.invoke(app, args + extra).stdout)["profile"] for extra in ([], [])]
    forced = cli.invoke(app, [*args, "--rebuild-profile"])
    assert forced.exit_code == 0, forced.output
    assert [*said, json.loads(forced.stdout)["profile"]] == ["built", "reused", "built"]
    wrong = cli.invoke(app, ["step", "detect", "--config", str(path), *window, "--rebuild-profile"])
    assert wrong.exit_code == 2
    assert wrong.output.strip().splitlines() == [
        "error: --rebuild-profile is read by step fetch_reference, not detect: pass it to "
        "driftloop step fetch_reference."
    ]


def test_rebuild_profile_without_a_stored_profile_is_one_line(
    make_pipeline, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    path = write_config(make_pipeline(on_drift=QUIET), tmp_path / "driftloop.yaml")
    bad = CliRunner().invoke(app, ["run", "--config", str(path), "--rebuild-profile"])
    assert bad.exit_code == 2
    assert bad.output.strip().splitlines() == [
        "error: --rebuild-profile rebuilds a stored reference profile, and this pipeline has "
        "none: set reference.profile next to reference.uri or reference.url."
    ]


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ({"rebuild": "auto"}, "'rebuild' applies to a stored profile: add 'profile"),
        ({"profile": "r.profile", "rebuild": "sometimes"}, "rebuild"),
        (
            {"profile": "r.profile", "date_column": "dteday", "lag_days": 364},
            "a stored profile summarises one fixed reference, and a 'lag' baseline",
        ),
        (
            {
                "profile": "r.profile",
                "date_column": "dteday",
                "baseline": {"type": "trailing", "days": 28},
            },
            "and a 'trailing' baseline moves",
        ),
        ({"profile": "https://host/r.profile"}, "use a URL like s3://host/path"),
    ],
    ids=["rebuild alone", "bad rebuild", "lag", "trailing", "http store"],
)
def test_bad_stored_profile_settings_are_one_line(
    tmp_path: Path, reference: dict[str, Any], message: str
) -> None:
    raw = demo_config(tmp_path)
    raw["reference"] |= reference
    raw["on_drift"] = {"retrain": False}
    path = tmp_path / "driftloop.yaml"
    path.write_text(yaml.safe_dump(raw))
    bad = CliRunner().invoke(app, ["config", "check", "--config", str(path)])
    assert bad.exit_code == 2, bad.output
    lines = bad.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], lines


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        (
            {"profile": "r.profile", "rebuild": "auto"},
            "a given profile file stands alone: remove 'rebuild'",
        ),
        ({"profile": " ", "table": None}, "name a profile file or s3:// URI"),
    ],
    ids=["given with rebuild", "blank"],
)
def test_profile_settings_are_checked(
    tmp_path: Path, reference: dict[str, Any], message: str
) -> None:
    from driftloop.errors import ConfigError

    raw = demo_config(tmp_path)
    raw["reference"] = reference if "table" not in reference else raw["reference"] | reference
    raw["reference"] = {k: v for k, v in raw["reference"].items() if v is not None}
    raw["on_drift"] = {"retrain": False}
    with pytest.raises(ConfigError, match=message):
        load_config(raw)


def test_fetch_results_recorded_before_profiles_still_read() -> None:
    old = {"schema_version": 1, "rows": 3, "columns": 2, "window_start": None, "window_end": None}
    assert FetchResult.from_dict(old).summary() == "3 rows"


def test_an_s3_source_is_fingerprinted_by_its_etag(
    make_pipeline, bikes, s3_env, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    client = s3_env.client()
    january = filter_window(bikes, "dteday", *month(2011, 1))
    client.put_object(Bucket=s3_env.bucket, Key="data/reference.csv", Body=january.write_csv())
    reference = {"uri": f"s3://{s3_env.bucket}/data/reference.csv"}
    reference["profile"] = str(tmp_path / "reference.profile")
    config = make_pipeline(on_drift=QUIET, reference=reference, seed=False)
    assert fetched(config).profile == "built"
    assert fetched(config, APR).profile == "reused"
    both = pl.concat([january, filter_window(bikes, "dteday", *FEB)])
    client.put_object(Bucket=s3_env.bucket, Key="data/reference.csv", Body=both.write_csv())
    changed = fetched(config)
    assert changed.profile_reason.startswith("the source changed (") and changed.rows == 59


def test_an_http_source_without_etag_is_rebuilt_every_run(
    make_pipeline, bikes, http_files, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    base, folder = http_files
    filter_window(bikes, "dteday", *month(2011, 1)).write_csv(folder / "reference.csv")
    reference = {"uri": f"{base}/reference.csv", "profile": str(tmp_path / "reference.profile")}
    config = make_pipeline(on_drift=QUIET, reference=reference, seed=False)
    fetched(config)
    again = fetched(config, APR)
    assert again.profile == "built"
    assert again.profile_reason == "the source has no fingerprint (no ETag or Last-Modified)"


def test_a_query_source_with_a_window_is_fingerprinted_in_sql(
    make_pipeline, bikes, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    config = make_pipeline(on_drift=QUIET)
    add_reference_rows(config, bikes)  # January and February in the table
    reference = {
        "url": config.stores.warehouse.get_secret_value(),
        "query": "SELECT * FROM reference WHERE temp IS NOT NULL",
        "date_column": "dteday",
        "start": "2011-02-01",
        "end": "2011-02-28",
        "profile": str(tmp_path / "reference.profile"),
    }
    windowed = make_pipeline(on_drift=QUIET, reference=reference, seed=False)
    first = fetched(windowed)
    assert (first.profile, first.rows) == ("built", 28)
    assert fetched(windowed, APR).profile == "reused"
    add_reference_rows(config, bikes)  # more February rows: the window's count moves
    assert "rows 28 -> 56" in fetched(windowed).profile_reason


def test_a_failed_rebuild_leaves_the_stored_profile_as_it_was(
    make_pipeline, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    import sqlalchemy as sa

    store = tmp_path / "reference.profile"
    config = make_pipeline(on_drift=QUIET, reference__profile=str(store))
    fetched(config)
    before = store.read_bytes()
    engine = sa.create_engine(config.stores.warehouse.get_secret_value())
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE reference"))
    engine.dispose()
    outcome = Runner(config).run(start=MAR[0], end=MAR[1])
    assert outcome.status == "failed"
    assert "it does not exist" in str(outcome.error), outcome.error
    assert store.read_bytes() == before
    assert sorted(p.name for p in store.parent.iterdir() if "partial" in p.name) == []


def test_a_given_profile_can_be_an_s3_object(make_pipeline, bikes, s3_env) -> None:  # type: ignore[no-untyped-def]
    from driftloop.profiles import profile
    from driftloop.profiles.fileformat import profile_to_bytes

    january = filter_window(bikes, "dteday", *month(2011, 1))
    key = "given/reference.profile"
    s3_env.client().put_object(
        Bucket=s3_env.bucket, Key=key, Body=profile_to_bytes(profile(january))
    )
    given = {"profile": f"s3://{s3_env.bucket}/{key}"}
    config = make_pipeline(on_drift=QUIET, reference=given, seed=False)
    result = fetched(config)
    assert (result.profile, result.rows) == ("given", 31)
    missing = make_pipeline(
        on_drift=QUIET, reference={"profile": f"s3://{s3_env.bucket}/nope.profile"}, seed=False
    )
    outcome = Runner(missing).run(start=MAR[0], end=MAR[1])
    assert outcome.status == "failed"
    assert f"s3://{s3_env.bucket}/nope.profile does not exist" in str(outcome.error)


def test_concurrent_rebuilds_leave_one_whole_profile(make_pipeline, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from concurrent.futures import ThreadPoolExecutor

    from driftloop.pipeline.reference_profile import resolve_profile

    store = tmp_path / "shared" / "reference.profile"
    config = make_pipeline(on_drift=QUIET, reference__profile=str(store))
    with ThreadPoolExecutor(4) as pool:
        built = list(pool.map(lambda _: resolve_profile(config.reference, force=True), range(8)))
    assert {b.action for b in built} == {"built"}
    assert load_profile(store).height == 31
    assert [p.name for p in store.parent.iterdir()] == ["reference.profile"]


def test_a_stored_profile_reference_retrains_on_rows_read_only_when_a_retrain_fires(
    make_pipeline, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Before: 'on_drift.retrain trains on the reference's rows, and reference.profile has
    none', so a pipeline that retrains re-read its whole reference on every run."""
    from driftloop.pipeline.steps import RetrainResult

    store = tmp_path / "reference.profile"
    config = make_pipeline(reference__profile=str(store))
    quiet = Runner(config).run(start=FEB[0], end=FEB[1])
    assert quiet.status == "succeeded", quiet.error
    assert not (Path(config.stores.runs) / quiet.run_id / "reference.parquet").exists()
    drifted = Runner(config).run(start=APR[0], end=APR[1])
    assert drifted.status == "succeeded", drifted.error
    retrained = drifted.results["retrain"]
    assert isinstance(retrained, RetrainResult) and retrained.version >= 1
    rows = pl.read_parquet(Path(config.stores.runs) / drifted.run_id / "reference.parquet")
    assert rows.height == 31  # January's rows, read for the retrain


def test_a_given_profile_without_its_source_still_refuses_retrain(
    make_pipeline, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from driftloop.errors import ConfigError

    raw = demo_config(tmp_path)
    raw["reference"] = {"profile": str(tmp_path / "given.profile")}
    with pytest.raises(ConfigError, match=r"a given reference\.profile has none"):
        load_config(raw)


def test_a_stored_profile_keeps_the_segments_detection_asks_for(
    make_pipeline, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Before: 'detection.segments needs the rows of both sides, and a profile keeps none'."""
    import json

    segments = {"segments": [{"column": "workingday", "min_rows": 5}]}
    from_data = Runner(make_pipeline(on_drift=QUIET, detection=segments)).run(
        start=MAR[0], end=MAR[1]
    )
    store = tmp_path / "reference.profile"
    config = make_pipeline(
        on_drift=QUIET, detection=segments, reference__profile=str(store), seed=False
    )
    outcome = Runner(config).run(start=MAR[0], end=MAR[1])
    assert outcome.status == "succeeded", outcome.error
    assert load_profile(store).segment_values("workingday") == [0, 1]

    def segments_of(run_id: str, runs: str) -> list[Any]:
        report = json.loads((Path(runs) / run_id / "report.json").read_text())
        return [
            (s["value"], [(c["name"], c["p_value"], c["drifted"]) for c in s["columns"]])
            for s in report["segments"]
        ]

    found = segments_of(outcome.run_id, config.stores.runs)
    assert [value for value, _ in found] == [0, 1] and all(columns for _, columns in found)
    assert found == segments_of(from_data.run_id, config.stores.runs)
    unsegmented = make_pipeline(on_drift=QUIET, reference__profile=str(store), seed=False)
    rebuilt = fetched(unsegmented)
    assert (rebuilt.profile, rebuilt.profile_reason) == (
        "built",
        "the segment columns changed (workingday -> none)",
    )
    assert fetched(unsegmented).profile == "reused"


def test_a_stored_profile_keeps_the_sample_multivariate_asks_for(
    make_pipeline, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Before: max_rows above the default sample refused every run of a stored profile."""
    store = tmp_path / "reference.profile"
    first = fetched(make_pipeline(on_drift=QUIET, reference__profile=str(store)))
    assert first.profile == "built" and load_profile(store).sample.k == 2_000
    wider = {"multivariate": {"methods": ["domain_classifier"], "max_rows": 3_000}}
    config = make_pipeline(on_drift=QUIET, detection=wider, reference__profile=str(store))
    rebuilt = fetched(config)
    assert (rebuilt.profile, rebuilt.profile_reason) == (
        "built",
        "the row sample is smaller than asked (2,000 < 3,000 rows)",
    )
    assert load_profile(store).sample.k == 3_000 and fetched(config).profile == "reused"
