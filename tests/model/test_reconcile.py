"""Production reconciled with what is published, on real MLflow and a real S3 (SeaweedFS)."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from driftloop.actions.publish import LocalPublisher, S3Publisher
from driftloop.config import TrainingConfig
from driftloop.data.synthetic import bike_sharing
from driftloop.model.lifecycle import retrain
from driftloop.model.reconcile import check, reconcile
from driftloop.model.registry import Registry

SPEC = TrainingConfig(
    target="cnt", time_column="dteday", exclude=("instant", "casual", "registered")
)
ALWAYS = -1.0  # a margin every challenger wins by: each retrain is promoted


@pytest.fixture(scope="module")
def data() -> pl.DataFrame:
    return bike_sharing()


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    root = tmp_path_factory.mktemp("mlflow")
    return Registry(f"sqlite:///{root / 'mlflow.db'}", str(root / "artifacts"))


def _promoted_unpublished(
    registry: Registry, data: pl.DataFrame, publisher: Any, name: str
) -> None:
    """v1 published; then v2 promoted in the registry with no publish (a process killed after
    the alias moved and before S3 had v2's objects and pointer)."""
    year = data.filter(pl.col("yr") == 0)
    first = retrain(year, SPEC, registry, name=name, publisher=publisher)
    assert first.promoted and first.published
    second = retrain(data, SPEC, registry, name=name, margin=ALWAYS)
    assert second.promoted and second.version == 2 and not second.published


def _objects(s3: Any, prefix: str) -> dict[str, tuple[str, Any]]:
    listing = s3.client().list_objects_v2(Bucket=s3.bucket, Prefix=prefix)
    return {o["Key"]: (o["ETag"], o["LastModified"]) for o in listing.get("Contents", [])}


def _stored_matches_manifest(s3: Any, prefix: str, version: int) -> dict[str, str]:
    client = s3.client()
    sums = client.get_object(Bucket=s3.bucket, Key=f"{prefix}/{version}/SHA256SUMS")
    manifest = dict(
        reversed(line.split("  ", 1)) for line in sums["Body"].read().decode().splitlines()
    )
    assert "model_card.md" in manifest and any(k.endswith(".skops") for k in manifest)
    for key, digest in manifest.items():
        obj = client.get_object(Bucket=s3.bucket, Key=f"{prefix}/{version}/{key}")
        assert hashlib.sha256(obj["Body"].read()).hexdigest() == digest, key
        assert obj["Metadata"]["sha256"] == digest
    return manifest


def _pointer(s3: Any, prefix: str) -> dict[str, Any]:
    body = s3.client().get_object(Bucket=s3.bucket, Key=f"{prefix}/production.json")["Body"]
    found: dict[str, Any] = json.loads(body.read())
    return found


def _count_puts(publisher: S3Publisher) -> list[str]:
    """Every PutObject the publisher's client sends (botocore's own event hook)."""
    puts: list[str] = []
    publisher.client.meta.events.register(
        "before-call.s3.PutObject", lambda params, **_: puts.append(params["Key"])
    )
    return puts


def test_promoted_but_unpublished_production_is_published(
    registry: Registry, data: pl.DataFrame, s3_env
) -> None:
    prefix = f"rec-{uuid.uuid4().hex[:8]}"
    publisher = S3Publisher(s3_env.bucket, prefix, endpoint_url=s3_env.endpoint)
    _promoted_unpublished(registry, data, publisher, "killed")
    assert _pointer(s3_env, f"{prefix}/killed")["version"] == 1  # the state a kill leaves
    found = check(registry, publisher, "killed")
    assert (found.production, found.pointed) == (2, 1)
    assert found.problems == ("the pointer names v1", "v2 has no checksum manifest")
    done = reconcile(registry, publisher, "killed")
    assert done.line() == (
        "production v2 of killed was not published (the pointer names v1; v2 has no checksum "
        "manifest); published it"
    )
    pointer = _pointer(s3_env, f"{prefix}/killed")
    manifest = _stored_matches_manifest(s3_env, f"{prefix}/killed", 2)
    assert pointer["version"] == 2 == registry.production_version("killed")
    assert pointer["files"] == {k.rsplit("/", 1)[-1]: v for k, v in manifest.items()}
    assert check(registry, publisher, "killed").consistent


def test_a_corrupted_or_missing_object_is_published_again(
    registry: Registry, data: pl.DataFrame, s3_env
) -> None:
    prefix = f"rec-{uuid.uuid4().hex[:8]}"
    publisher = S3Publisher(s3_env.bucket, prefix, endpoint_url=s3_env.endpoint)
    retrain(data, SPEC, registry, name="corrupt", publisher=publisher)
    client, base = s3_env.client(), f"{prefix}/corrupt/1"
    model_key = next(k for k in _objects(s3_env, base) if k.endswith(".skops"))
    original = client.get_object(Bucket=s3_env.bucket, Key=model_key)["Body"].read()
    client.put_object(Bucket=s3_env.bucket, Key=model_key, Body=b"not a model")
    client.delete_object(Bucket=s3_env.bucket, Key=f"{base}/model_card.md")
    found = check(registry, publisher, "corrupt")
    assert found.problems == (  # in the manifest's order: the model's files, then the card
        f"2 files ({model_key.removeprefix(base + '/')}, model_card.md) missing or not matching "
        "the manifest",
    )
    reconcile(registry, publisher, "corrupt")
    assert client.get_object(Bucket=s3_env.bucket, Key=model_key)["Body"].read() == original
    _stored_matches_manifest(s3_env, f"{prefix}/corrupt", 1)
    assert check(registry, publisher, "corrupt").consistent


def test_nothing_to_do_writes_nothing(registry: Registry, data: pl.DataFrame, s3_env) -> None:
    prefix = f"rec-{uuid.uuid4().hex[:8]}"
    publisher = S3Publisher(s3_env.bucket, prefix, endpoint_url=s3_env.endpoint)
    retrain(data, SPEC, registry, name="settled", publisher=publisher)
    before = _objects(s3_env, prefix)
    puts = _count_puts(publisher)
    found = reconcile(registry, publisher, "settled")
    assert found.consistent and found.published == () and found.checked == len(before) - 2
    assert found.line().startswith("production v1 of settled is published (")
    assert puts == [] and _objects(s3_env, prefix) == before


def test_no_production_version_means_nothing_to_check(registry: Registry, s3_env) -> None:
    publisher = S3Publisher(s3_env.bucket, "rec-none", endpoint_url=s3_env.endpoint)
    puts = _count_puts(publisher)
    found = reconcile(registry, publisher, "never-trained")
    assert found.production is None and found.consistent and puts == []


def test_an_unreadable_local_pointer_and_file_are_repaired(
    registry: Registry, data: pl.DataFrame, tmp_path: Path
) -> None:
    publisher = LocalPublisher(tmp_path / "published")
    retrain(data, SPEC, registry, name="local", publisher=publisher)
    folder = tmp_path / "published" / "local"
    card = (folder / "1" / "model_card.md").read_text()
    (folder / "production.json").write_text("{half a pointer")
    (folder / "1" / "model_card.md").write_text("edited by hand")
    found = reconcile(registry, publisher, "local")
    assert found.problems == (
        "the production pointer is unreadable",
        "1 file (model_card.md) missing or not matching the manifest",
    )
    assert json.loads((folder / "production.json").read_text())["version"] == 1
    assert (folder / "1" / "model_card.md").read_text() == card
    assert check(registry, publisher, "local").consistent
