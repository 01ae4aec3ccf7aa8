"""The whole loop on real parts: PostgreSQL warehouse, MLflow on PostgreSQL, SeaweedFS S3, and a
local HTTP server standing in for Slack (answering 429, then 200, and 500s), over several months."""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa

from driftloop.actions.outbox import OUTBOX
from driftloop.data.warehouse import Warehouse
from driftloop.demo import month
from driftloop.model.registry import Registry
from driftloop.pipeline.records import RunStore
from driftloop.pipeline.runner import Runner

pytestmark = pytest.mark.postgres


def test_monthly_windows_end_to_end(make_pipeline, pg_databases, s3_env, slack) -> None:
    warehouse_url, mlflow_url = pg_databases(), pg_databases()
    config = make_pipeline(
        warehouse=warehouse_url,
        mlflow=mlflow_url,
        alerts={
            "console": False,
            "slack": {"webhook_url": slack.url, "retries": 1},
            "cooldown_hours": 0,
        },
        stores__artifacts=f"s3://{s3_env.bucket}/e2e",
        stores__s3_endpoint_url=s3_env.endpoint,
    )
    runner = Runner(config)
    months = [month(2011, m) for m in (2, 3, 4, 5)]
    slack.script = [
        (429, "rate_limited", {"Retry-After": "1"})
    ]  # the first alert is throttled once
    outcomes = [runner.run(start=s, end=e, trigger="cron") for s, e in months[:2]]
    slack.down = True  # Slack is down for April's run
    outcomes.append(runner.run(start=months[2][0], end=months[2][1], trigger="cron"))
    slack.down = False
    outcomes.append(runner.run(start=months[3][0], end=months[3][1], trigger="webhook"))
    outcomes.append(
        runner.run(start=months[1][0], end=months[1][1], trigger="manual")
    )  # March again: checked, but already decided (nothing registered or paged twice)

    assert [o.status for o in outcomes] == ["succeeded"] * 5
    assert [o.verdict.dataset_drift for o in outcomes] == [False, True, True, True, True]

    # rows appended exactly once per window, whatever the re-runs
    warehouse = Warehouse(warehouse_url)
    assert warehouse.count("current") == 28 + 31 + 30 + 31
    assert [(a["window_start"].month, a["rows"]) for a in warehouse.appends()] == [
        (2, 28),
        (3, 31),
        (4, 30),
        (5, 31),
    ]

    # each alert received exactly once: March, April (late, with May's run), May
    texts = slack.texts()
    assert len(texts) == 3
    assert [
        "2011-03-01" in texts[0],
        "2011-04-01" in texts[1],
        "2011-05-01" in texts[2],
    ] == [True] * 3
    engine = sa.create_engine(warehouse_url)
    with engine.begin() as conn:
        statuses = conn.execute(
            sa.select(OUTBOX.c.status, OUTBOX.c.attempts).order_by(OUTBOX.c.id)
        ).all()
    assert [s for s, _ in statuses] == ["sent"] * 3 and statuses[1][
        1
    ] == 2  # April: failed once, then sent

    # model versions and the production alias
    registry = Registry(mlflow_url, config.stores.mlflow_artifacts)
    versions = registry.versions("bike-demand")
    assert len(versions) == 3
    assert "already decided" in outcomes[4].results["retrain"].summary()
    retrained = [o.results["retrain"] for o in outcomes[1:4]]
    assert retrained[0].promoted and retrained[0].version == 1
    production = registry.production_version("bike-demand")
    assert production == max(r.version for r in retrained if r.promoted)
    for r in retrained:
        status = registry.show(f"bike-demand/{r.version}").status
        assert status in (("production", "archived") if r.promoted else ("rejected",))

    # S3 objects with checksums, for every promoted version
    client = s3_env.client()
    for r in retrained:
        listing = client.list_objects_v2(
            Bucket=s3_env.bucket, Prefix=f"e2e/bike-demand/{r.version}/"
        )
        if not r.promoted:
            assert listing.get("KeyCount", 0) == 0
            continue
        keys = [o["Key"] for o in listing["Contents"]]
        assert any(k.endswith("model.skops") for k in keys) and any(
            k.endswith("model_card.md") for k in keys
        )
        for key in keys:
            obj = client.get_object(Bucket=s3_env.bucket, Key=key)
            assert obj["Metadata"]["sha256"] == hashlib.sha256(obj["Body"].read()).hexdigest()

    # the run records
    records = RunStore(warehouse_url).runs(config.pipeline)
    assert len(records) == 5 and {r["status"] for r in records} == {"succeeded"}
    assert sorted(r["trigger"] for r in records) == ["cron", "cron", "cron", "manual", "webhook"]
    again, may = records[0], records[1]  # newest first: March again, then May
    assert again["verdict"]["dataset_drift"] and again["model_outcome"] is None
    assert may["verdict"]["dataset_drift"] and may["model_outcome"] and may["report_path"]
