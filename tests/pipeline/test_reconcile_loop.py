"""A run that died between promoting and publishing, then a plain re-run: production is published.

Real MLflow (SQLite), a real S3 (SeaweedFS), the real runner. The killed run is made as a kill
leaves it: the registry's ``production`` moved to v2, S3 without v2's objects, the pointer still
on v1, the run record interrupted (then superseded by the re-run, so ``--resume`` refuses it).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import pytest

from driftloop.actions.publish import publisher_for
from driftloop.config import PipelineConfig
from driftloop.demo import month
from driftloop.model.reconcile import check
from driftloop.model.registry import Registry
from driftloop.pipeline.records import RunStore
from driftloop.pipeline.runner import Runner
from driftloop.pipeline.steps import (
    DetectResult,
    PublishResult,
    ReconcileResult,
    RetrainResult,
    RunContext,
    Skip,
    Skipped,
    step_names,
    verdict_steps,
)
from driftloop.pipeline.steps.publish import publish
from driftloop.service.serve import reconcile_at_start

MAR, APR = month(2011, 3), month(2011, 4)
NEVER = 1.0  # a margin no challenger wins by: the re-run's retrain promotes nothing


def _pipeline(make_pipeline: Any, s3: Any, prefix: str, **overrides: Any) -> PipelineConfig:
    config: PipelineConfig = make_pipeline(
        stores__artifacts=f"s3://{s3.bucket}/{prefix}",
        stores__s3_endpoint_url=s3.endpoint,
        **overrides,
    )
    return config


def _registry(config: PipelineConfig) -> Registry:
    stores = config.stores
    return Registry.open(stores.mlflow.get_secret_value(), stores.mlflow_artifacts)


def _pointer(s3: Any, prefix: str) -> dict[str, Any]:
    key = f"{prefix}/bike-demand/production.json"
    found: dict[str, Any] = json.loads(
        s3.client().get_object(Bucket=s3.bucket, Key=key)["Body"].read()
    )
    return found


def _stored_sums(s3: Any, prefix: str, version: int) -> dict[str, str]:
    """Every file of the version's manifest, hashed from the bytes S3 holds."""
    client, base = s3.client(), f"{prefix}/bike-demand/{version}"
    sums = client.get_object(Bucket=s3.bucket, Key=f"{base}/SHA256SUMS")["Body"].read().decode()
    manifest = {key: digest for digest, key in (line.split("  ", 1) for line in sums.splitlines())}
    for key, digest in manifest.items():
        body = client.get_object(Bucket=s3.bucket, Key=f"{base}/{key}")["Body"].read()
        assert hashlib.sha256(body).hexdigest() == digest, key
    return manifest


def _killed_mid_publish(make_pipeline: Any, s3: Any, prefix: str) -> tuple[PipelineConfig, str]:
    """March published as v1; April's run registered v2, the registry moved production to it,
    and the process died before publishing."""
    config = _pipeline(make_pipeline, s3, prefix)
    first = Runner(config).run(start=MAR[0], end=MAR[1])
    assert (
        isinstance(first.results["publish"], PublishResult)
        and first.results["publish"].version == 1
    )
    unpublished = [n for n in step_names() if n not in ("publish", "alert")]
    killed = Runner(config).run(start=APR[0], end=APR[1], steps=unpublished)
    trained = killed.results["retrain"]
    assert isinstance(trained, RetrainResult) and trained.version == 2
    registry = _registry(config)
    registry.promote("bike-demand", 2, "promoted by the run that was killed")
    store = RunStore(config.stores.warehouse.get_secret_value())
    store.finish_run(killed.run_id, "interrupted", error="killed during publish")
    assert registry.production_version("bike-demand") == 2
    assert _pointer(s3, prefix)["version"] == 1
    listing = s3.client().list_objects_v2(Bucket=s3.bucket, Prefix=f"{prefix}/bike-demand/2/")
    assert listing.get("KeyCount", 0) == 0
    return config, killed.run_id


def test_a_plain_rerun_publishes_the_production_a_killed_run_left_unpublished(
    make_pipeline, s3_env
) -> None:
    prefix = f"loop-{uuid.uuid4().hex[:8]}"
    config, killed = _killed_mid_publish(make_pipeline, s3_env, prefix)
    stubborn = _pipeline(make_pipeline, s3_env, prefix, training__margin=NEVER)
    rerun = Runner(stubborn).run(start=APR[0], end=APR[1])
    assert rerun.status == "succeeded"
    reconciled = rerun.results["reconcile"]
    assert isinstance(reconciled, ReconcileResult)
    assert reconciled.summary() == (
        "production v2 of bike-demand was not published (the pointer names v1; v2 has no "
        "checksum manifest); published it"
    )
    retrained = rerun.results["retrain"]
    assert isinstance(retrained, RetrainResult) and not retrained.promoted
    assert isinstance(rerun.results["publish"], Skipped)
    # registry production == pointer == objects present with matching checksums
    pointer = _pointer(s3_env, prefix)
    sums = _stored_sums(s3_env, prefix, 2)
    assert pointer["version"] == 2 == _registry(config).production_version("bike-demand")
    assert pointer["files"] == {k.rsplit("/", 1)[-1]: v for k, v in sums.items()}
    store = RunStore(config.stores.warehouse.get_secret_value())
    record = store.run(rerun.run_id)
    assert {s["step"]: s["status"] for s in record["steps"]}["reconcile"] == "done"
    assert record["model_outcome"].startswith(
        "production v2 of bike-demand was not published (the pointer names v1;"
    )
    assert store.run(killed)["status"] == "superseded"
    # the next run finds nothing to do and writes nothing
    before = s3_env.client().list_objects_v2(Bucket=s3_env.bucket, Prefix=prefix)["Contents"]
    again = Runner(stubborn).run(start=APR[0], end=APR[1])
    assert again.results["reconcile"] == Skipped(
        f"production v2 of bike-demand is published ({len(sums)} files match their checksums)"
    )
    after = s3_env.client().list_objects_v2(Bucket=s3_env.bucket, Prefix=prefix)["Contents"]
    assert after == before


def test_serve_finishes_the_publish_at_start_unless_the_pipeline_is_running(
    make_pipeline, s3_env
) -> None:
    prefix = f"serve-{uuid.uuid4().hex[:8]}"
    config, _ = _killed_mid_publish(make_pipeline, s3_env, prefix)
    store = RunStore(config.stores.warehouse.get_secret_value())
    store.acquire(config.pipeline, "other-run")
    (line,) = reconcile_at_start({config.pipeline: config})
    assert line.startswith(
        "bike-sharing: not reconciled now: Pipeline 'bike-sharing' is already running (run "
        "other-run"
    )
    assert _pointer(s3_env, prefix)["version"] == 1
    store.release(config.pipeline, "other-run")
    (line,) = reconcile_at_start({config.pipeline: config})
    assert line == (
        "bike-sharing: production v2 of bike-demand was not published (the pointer names v1; "
        "v2 has no checksum manifest); published it"
    )
    assert _pointer(s3_env, prefix)["version"] == 2
    assert check(_registry(config), publisher_for(config.stores), "bike-demand").consistent
    assert store.holder(config.pipeline) is None  # the lock is given back


@pytest.mark.parametrize("damage", ["corrupt", "delete"])
def test_a_damaged_published_file_is_repaired_by_the_next_run(
    make_pipeline, s3_env, damage: str
) -> None:
    prefix = f"dmg-{uuid.uuid4().hex[:8]}"
    config = _pipeline(make_pipeline, s3_env, prefix, training__margin=NEVER)
    Runner(config).run(start=MAR[0], end=MAR[1])
    client, key = s3_env.client(), f"{prefix}/bike-demand/1/model_card.md"
    card = client.get_object(Bucket=s3_env.bucket, Key=key)["Body"].read()
    if damage == "corrupt":
        client.put_object(Bucket=s3_env.bucket, Key=key, Body=b"tampered")
    else:
        client.delete_object(Bucket=s3_env.bucket, Key=key)
    rerun = Runner(config).run(start=MAR[0], end=MAR[1])
    reconciled = rerun.results["reconcile"]
    assert isinstance(reconciled, ReconcileResult) and reconciled.problems == (
        "1 file (model_card.md) missing or not matching the manifest",
    )
    assert client.get_object(Bucket=s3_env.bucket, Key=key)["Body"].read() == card
    _stored_sums(s3_env, prefix, 1)


def test_a_resumed_publish_overtaken_by_a_newer_production_publishes_nothing(
    make_pipeline, s3_env
) -> None:
    prefix = f"old-{uuid.uuid4().hex[:8]}"
    config, _ = _killed_mid_publish(make_pipeline, s3_env, prefix)
    detected = DetectResult(True, 0.5, ("temp",), (), True, ("dataset drift",), "", "", 0.0)
    march = RetrainResult("bike-demand", 1, True, "first version", "rmse", 1.0, None, None, "m")
    ctx = RunContext(
        config,
        "resumed-march",
        *MAR,
        results={"detect": detected, "retrain": march},
        verdicts=verdict_steps(config),
    )
    with pytest.raises(Skip, match=r"^v1 is no longer production \(v2 is\)$"):
        publish(ctx)
    assert _pointer(s3_env, prefix)["version"] == 1  # not moved back, nor forward by a stale run


def test_the_dashboard_serves_a_model_card_published_to_s3(make_pipeline, s3_env) -> None:  # type: ignore[no-untyped-def]
    """Before: a run that published to S3 linked no card, and /model-card answered 404."""
    import httpx

    from driftloop.service.dashboard import dashboard_app
    from tests.service.serving import app_in_thread

    config = _pipeline(make_pipeline, s3_env, "cards")
    outcome = Runner(config).run(start=MAR[0], end=MAR[1])
    assert outcome.status == "succeeded", outcome.error
    with app_in_thread(dashboard_app({config.pipeline: config})) as url:
        base = f"{url}/ui/runs/{outcome.run_id}"
        assert 'id="card"' in httpx.get(base).text
        card = httpx.get(f"{base}/model-card")
        stored = (
            s3_env.client()
            .get_object(Bucket=s3_env.bucket, Key="cards/bike-demand/1/model_card.md")["Body"]
            .read()
        )
        assert card.status_code == 200 and card.text == stored.decode()
        assert "bike-demand" in card.text
