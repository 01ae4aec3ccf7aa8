"""Retrain, register, champion/challenger, rollback, model cards and publishing, on real MLflow and S3."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

import driftloop
from driftloop.actions.publish import LocalPublisher, S3Publisher
from driftloop.cli import app
from driftloop.config import TrainingConfig
from driftloop.data.synthetic import bike_sharing
from driftloop.errors import SourceError
from driftloop.model import load_production
from driftloop.model.lifecycle import retrain
from driftloop.model.registry import Registry, RegistryError

SPEC = TrainingConfig(
    target="cnt",
    time_column="dteday",
    exclude=("instant", "casual", "registered"),
    slice_columns=("season", "weathersit"),
)


@pytest.fixture(scope="module")
def data() -> pl.DataFrame:
    return bike_sharing()


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    root = tmp_path_factory.mktemp("mlflow")
    return Registry(f"sqlite:///{root / 'mlflow.db'}", str(root / "artifacts"))


def test_first_retrain_is_registered_with_everything_and_promoted(
    registry: Registry, data: pl.DataFrame, tmp_path: Path
) -> None:
    year = data.filter(pl.col("yr") == 0)
    drift = driftloop.detect(year.head(31), year.slice(31, 28))
    report = tmp_path / "drift.html"
    drift.to_html(report)
    result = retrain(
        year,
        SPEC,
        registry,
        name="first",
        trigger="drift: temp, atemp",
        drift=drift,
        publisher=LocalPublisher(tmp_path / "published"),
        report_path=report,
    )
    assert result.promoted and result.version == 1 and result.champion_version is None
    assert registry.production_version("first") == 1
    run = registry.client.get_run(result.run_id)
    params = run.data.params
    assert params["rows_train"] == "329" and params["rows_holdout"] == "36"
    assert params["window_start"] == "2011-01-01" and params["window_end"] == "2011-12-31"
    assert {"target_mean", "target_std", "best_alpha", "entry_point"} <= params.keys()
    assert run.data.metrics["rmsle"] == pytest.approx(result.score)
    artifacts = {a.path for a in registry.client.list_artifacts(result.run_id)}
    assert {"coefficients.json", "drift_report.json", "model_card.md", "drift.html"} <= artifacts
    coefficients = json.loads(
        Path(
            registry.client.download_artifacts(result.run_id, "coefficients.json", str(tmp_path))
        ).read_text()
    )
    assert any(name.startswith("onehot__season") for name in coefficients)
    info = registry.show("first@production")
    assert info.trigger == "drift: temp, atemp" and info.status == "production"
    assert info.description.startswith("# Model card: first version 1")
    for needle in (
        "## Intended use",
        "Window: 2011-01-01 to 2011-12-31",
        "### By season",
        "### By weathersit",
        "## Limitations",
        "drift: temp, atemp",
        "tested features drifted",
    ):
        assert needle in info.description
    model_dir = tmp_path / "published" / "first" / "1"
    assert (model_dir / "model.skops").is_file() and "signature" in (
        model_dir / "MLmodel"
    ).read_text()
    sums = dict(
        line.split("  ")[::-1] for line in (model_dir / "SHA256SUMS").read_text().splitlines()
    )
    for key, digest in sums.items():
        assert hashlib.sha256((model_dir / key).read_bytes()).hexdigest() == digest
    model = load_production("first", tracking_uri=registry.tracking_uri)
    assert np.all(model.predict(year.to_pandas().head(5)) > 0)


def test_worse_challenger_leaves_the_alias(registry: Registry, data: pl.DataFrame) -> None:
    year = data.filter(pl.col("yr") == 0)
    first = retrain(year, SPEC, registry, name="guarded")
    noisy = year.with_columns(
        pl.Series("cnt", np.random.default_rng(0).permutation(year["cnt"].to_numpy()))
    )
    # the holdout must be the same rows for both: keep the latest 10% as they were
    noisy = pl.concat([noisy.head(329), year.tail(36)])
    second = retrain(noisy, SPEC, registry, name="guarded", margin=0.02)
    assert not second.promoted and second.champion_version == first.version
    assert second.champion_score == pytest.approx(first.score, rel=1e-9)
    assert registry.production_version("guarded") == first.version
    info = registry.show(f"guarded/{second.version}")
    assert info.status == "rejected" and "does not beat production v1" in info.reason


def test_promote_and_rollback_round_trip(registry: Registry, data: pl.DataFrame) -> None:
    year = data.filter(pl.col("yr") == 0)
    versions = [retrain(year, SPEC, registry, name="flip").version]
    versions.append(retrain(data, SPEC, registry, name="flip", margin=-10).version)  # always wins
    assert registry.production_version("flip") == versions[1]
    assert registry.rollback("flip") == (versions[1], versions[0])
    assert registry.production_version("flip") == versions[0]
    assert registry.promote("flip", versions[1]) == versions[0]
    assert [v.status for v in registry.versions("flip")] == ["archived", "production"]
    with pytest.raises(RegistryError, match=r"^Model 'flip' has no version 9\. Versions: 1, 2\.$"):
        registry.promote("flip", 9)
    runner = CliRunner()
    listed = runner.invoke(app, ["model", "list", "flip", "--registry", registry.tracking_uri])
    assert listed.exit_code == 0 and "production" in listed.output
    back = runner.invoke(app, ["model", "rollback", "flip", "--registry", registry.tracking_uri])
    assert back.exit_code == 0 and "rolled back from version 2 to 1" in back.output
    shown = runner.invoke(
        app, ["model", "show", "flip@production", "--registry", registry.tracking_uri]
    )
    assert shown.exit_code == 0 and '"version": 1' in shown.output
    missing = runner.invoke(
        app, ["model", "show", "flip@staging", "--registry", registry.tracking_uri]
    )
    assert (
        missing.exit_code == 2
        and "Model 'flip' has no alias 'staging'. Aliases: production." in missing.output
    )


@pytest.mark.postgres
def test_mlflow_on_postgres(pg_url: str, data: pl.DataFrame, tmp_path: Path, capfd) -> None:
    registry = Registry(pg_url, str(tmp_path / "artifacts"))
    result = retrain(data.filter(pl.col("yr") == 0), SPEC, registry, name="pg_model")
    assert result.promoted and registry.production_version("pg_model") == 1
    second = retrain(data, SPEC, registry, name="pg_model")  # metrics logged over a champion
    assert second.version == 2
    assert load_production("pg_model", tracking_uri=pg_url) is not None
    # psycopg's "error ignored terminating <Pipeline>: pipeline aborted" (MLflow handles the
    # duplicate row behind it) no longer reaches stderr
    assert "pipeline aborted" not in capfd.readouterr().err


def test_registry_store_unavailable_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as info:
        Registry("postgresql://mlflow:hunter2@127.0.0.1:1/mlflow", str(tmp_path))
    text = str(info.value)
    assert text.startswith(
        "The model registry store at postgresql://mlflow:***@127.0.0.1:1/mlflow is unreachable ("
    )
    assert text.endswith("Check that the MLflow store is running and reachable.")
    assert "hunter2" not in text


def test_publish_to_s3_with_checksums(registry: Registry, data: pl.DataFrame, s3_env) -> None:
    publisher = S3Publisher(s3_env.bucket, "published", endpoint_url=s3_env.endpoint)
    result = retrain(
        data.filter(pl.col("yr") == 0), SPEC, registry, name="shipped", publisher=publisher
    )
    client = s3_env.client()
    keys = sorted(
        o["Key"]
        for o in client.list_objects_v2(Bucket=s3_env.bucket, Prefix="published/shipped/1/")[
            "Contents"
        ]
    )
    assert "published/shipped/1/model.skops" in keys and "published/shipped/1/model_card.md" in keys
    # the files, their checksum manifest (not listed), and the production pointer (listed last)
    assert "published/shipped/1/SHA256SUMS" in keys and len(keys) == len(result.published)
    assert result.published[-1].uri == f"s3://{s3_env.bucket}/published/shipped/production.json"
    for key in [*keys, "published/shipped/production.json"]:
        obj = client.get_object(Bucket=s3_env.bucket, Key=key)
        assert obj["Metadata"]["sha256"] == hashlib.sha256(obj["Body"].read()).hexdigest()
    body = client.get_object(Bucket=s3_env.bucket, Key="published/shipped/production.json")
    pointer = json.loads(body["Body"].read())
    assert (
        pointer["version"] == 1
        and pointer["location"] == f"s3://{s3_env.bucket}/published/shipped/1"
    )
    model_sha = client.head_object(Bucket=s3_env.bucket, Key="published/shipped/1/model.skops")
    assert pointer["files"]["model.skops"] == model_sha["Metadata"]["sha256"]


def test_s3_unreachable_fails_clearly_after_retries(tmp_path: Path, s3_env) -> None:
    publisher = S3Publisher(
        s3_env.bucket, "x", endpoint_url="http://127.0.0.1:1", max_attempts=2, connect_timeout=0.5
    )
    file = tmp_path / "m.bin"
    file.write_bytes(b"model")
    with pytest.raises(
        SourceError,
        match=r"^Cannot reach the S3 endpoint to publish 's3://models/x/m/1/m\.bin' after 2 attempts\. Check the endpoint URL and the network\.$",
    ):
        publisher.publish("m", 1, [(file, "m.bin")])


def test_s3_bad_credentials_leave_no_object(
    tmp_path: Path, s3_env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    publisher = S3Publisher(s3_env.bucket, "denied", endpoint_url=s3_env.endpoint)
    file = tmp_path / "m.bin"
    file.write_bytes(b"model")
    with pytest.raises(
        SourceError,
        match=r"^Publishing 's3://models/denied/m/1/m\.bin' was refused \(SignatureDoesNotMatch\)\.",
    ):
        publisher.publish("m", 1, [(file, "m.bin")])
    listing = s3_env.client().list_objects_v2(Bucket=s3_env.bucket, Prefix="denied/")
    assert listing.get("KeyCount", 0) == 0


def test_a_model_worse_than_predicting_the_mean_is_never_promoted(
    registry: Registry, data: pl.DataFrame, tmp_path: Path
) -> None:
    # The seed's trainer copied literally: it fits log1p(y) and predict() answers in log space.
    trainer = tmp_path / "log_space.py"
    trainer.write_text(
        "import numpy as np\n"
        "from sklearn.linear_model import Ridge\n\n"
        "class LogSpace:\n"
        "    def __init__(self, model):\n"
        "        self.model = model\n"
        "    def predict(self, X):\n"
        "        return self.model.predict(X)\n\n"
        "def train(X, y, params):\n"
        "    return LogSpace(Ridge().fit(X.select_dtypes('number'), np.log1p(y)))\n"
    )
    spec = TrainingConfig(
        target="cnt",
        entry_point=f"{trainer}:train",
        time_column="dteday",
        exclude=("instant", "casual", "registered", "dteday"),
    )
    result = retrain(data.filter(pl.col("yr") == 0), spec, registry, name="log-space")
    assert not result.promoted
    assert "no better than a trivial model" in result.reason and "target's units" in result.reason
    assert registry.production_version("log-space") is None


def test_the_catalog_reads_what_mlflow_reads(registry: Registry, data: pl.DataFrame) -> None:
    from driftloop.model.catalog import open_catalog

    year = data.filter(pl.col("yr") == 0)
    retrain(year, SPEC, registry, name="catalogued")
    retrain(data, SPEC, registry, name="catalogued", margin=-10)  # promoted: aliases move
    catalog = open_catalog(registry.tracking_uri)
    assert catalog is not None
    full = [(v.to_dict(), v.description) for v in registry.versions("catalogued")]
    assert [(v.to_dict(), v.description) for v in catalog.versions("catalogued")] == full
    for ref in ("catalogued", "catalogued@production", "catalogued/1"):
        assert catalog.show(ref) == registry.show(ref)
    for ref, message in (
        ("nope", "No registered model 'nope'"),
        ("catalogued@staging", "Model 'catalogued' has no alias 'staging'. Aliases: production."),
        ("catalogued/9", "Model 'catalogued' has no version 9. Versions: 1, 2."),
    ):
        with pytest.raises(RegistryError, match=message):
            catalog.show(ref)
        with pytest.raises(RegistryError, match=message):
            registry.show(ref)
    assert open_catalog("http://127.0.0.1:5000") is None  # a server store: MLflow reads it


def _trainer_module(tmp_path: Path) -> str:
    trainer = tmp_path / "wrapped.py"
    trainer.write_text(
        "from sklearn.linear_model import Ridge\n\n"
        "class Wrapped:\n"
        "    def __init__(self, model=None):\n"
        "        self.model = model\n"
        "    def predict(self, X):\n"
        "        return self.model.predict(X.select_dtypes('number'))\n\n"
        "def train(X, y, params):\n"
        "    return Wrapped(Ridge().fit(X.select_dtypes('number'), y))\n"
    )
    return f"{trainer}:train"


def test_loading_production_trusts_driftloop_not_the_artifact(
    registry: Registry, data: pl.DataFrame, tmp_path: Path
) -> None:
    spec = TrainingConfig(
        target="cnt",
        entry_point=_trainer_module(tmp_path),
        time_column="dteday",
        exclude=("instant", "casual", "registered", "dteday"),
    )
    year = data.filter(pl.col("yr") == 0)
    first = retrain(year, spec, registry, name="guarded-load")
    assert first.promoted
    # the team's own class is refused until the config trusts it
    with pytest.raises(
        driftloop.ConfigError,
        match=r"contains types driftloop does not trust: driftloop_user_wrapped\.Wrapped\. If they are your team's own",
    ):
        registry.load("guarded-load")
    assert registry.load("guarded-load", trusted=("driftloop_user_wrapped.Wrapped",)).predict
    second = retrain(
        data, spec, registry, name="guarded-load", trusted_types=("driftloop_user_wrapped.Wrapped",)
    )
    assert second.version == 2
    # an artifact rewritten to load with cloudpickle is refused: no code runs
    (mlmodel,) = [
        p for p in Path(registry.artifact_root).rglob("MLmodel") if _is_version(p, first.run_id)
    ]
    mlmodel.write_text(
        mlmodel.read_text().replace(
            "serialization_format: skops", "serialization_format: cloudpickle"
        )
    )
    registry.promote("guarded-load", 1, "test")
    with pytest.raises(
        driftloop.ConfigError,
        match=r"asks to be loaded with serialization 'cloudpickle'; driftloop loads only skops",
    ):
        registry.load("guarded-load", trusted=("driftloop_user_wrapped.Wrapped",))


def _is_version(mlmodel: Path, run_id: str) -> bool:
    return f"run_id: {run_id}" in mlmodel.read_text()


def test_mlflow_artifacts_on_an_s3_compatible_store(
    data: pl.DataFrame, tmp_path: Path, s3_env, monkeypatch
) -> None:
    import os

    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)  # only the registry's setting
    monkeypatch.delenv("MLFLOW_S3_ENDPOINT_URL", raising=False)
    registry = Registry(
        f"sqlite:///{tmp_path / 'mlflow.db'}",
        f"s3://{s3_env.bucket}/mlartifacts",
        s3_endpoint_url=s3_env.endpoint,
    )
    first = retrain(data.filter(pl.col("yr") == 0), SPEC, registry, name="on-s3")
    second = retrain(data, SPEC, registry, name="on-s3", margin=-10)  # loads v1 from S3
    assert first.promoted and second.promoted
    listed = s3_env.client().list_objects_v2(Bucket=s3_env.bucket, Prefix="mlartifacts/")
    keys = [o["Key"] for o in listed.get("Contents", [])]
    assert any(k.endswith("model.skops") for k in keys) and any(k.endswith("MLmodel") for k in keys)
    assert registry.load("on-s3").predict is not None
    assert "MLFLOW_S3_ENDPOINT_URL" not in os.environ  # set around MLflow's calls only


def test_a_version_registered_by_a_dead_process_is_finished_not_registered_again(
    data: pl.DataFrame, tmp_path: Path
) -> None:
    class Killed(BaseException):
        pass

    class DiesAfterRegistering(Registry):
        def finish_version(self, name: str, version: int, run_id: str, card: str) -> None:
            raise Killed  # the process ends right after MLflow registered the version

    uri, artifacts = f"sqlite:///{tmp_path / 'mlflow.db'}", str(tmp_path / "artifacts")
    year = data.filter(pl.col("yr") == 0)
    with pytest.raises(Killed):
        retrain(year, SPEC, DiesAfterRegistering(uri, artifacts), name="once", run_id="run-7")
    registry = Registry(uri, artifacts)
    assert [v.status for v in registry.versions("once")] == ["candidate"]
    resumed = retrain(year, SPEC, registry, name="once", run_id="run-7")
    assert resumed.version == 1 and resumed.promoted
    assert [(v.version, v.status) for v in registry.versions("once")] == [(1, "production")]
    assert registry.production_version("once") == 1
    again = retrain(year, SPEC, registry, name="once", run_id="run-8")  # a new run trains anew
    assert again.version == 2
