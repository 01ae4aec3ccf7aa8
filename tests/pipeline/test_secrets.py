"""No secret anywhere: a whole run with a secret in every place a secret can be, then every log
line, report, run record, outbox row, MLflow param/tag and S3 object is searched for them."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import sqlalchemy as sa

from driftloop.actions.outbox import OUTBOX
from driftloop.demo import month
from driftloop.model.registry import Registry
from driftloop.pipeline.records import RunStore
from driftloop.pipeline.runner import Runner

pytestmark = pytest.mark.postgres

PG_PASSWORD = "pg-pass-5b1e"
DATA_TOKEN = "data-token-77c2"
API_KEY = "api-key-0d9f"
HEADER_SECRET = "header-secret-31aa"
HOOK_TOKEN = "hook-token-a4c8"
HMAC_SECRET = "hmac-secret-e6f0"


def test_a_run_leaves_no_secret_anywhere(
    make_pipeline, pg_databases, http_files, slack, s3_env, tmp_path: Path, caplog, capfd
) -> None:
    base, served = http_files
    warehouse = pg_databases().replace("root@", f"root:{PG_PASSWORD}@")  # trust auth ignores it
    seeded = make_pipeline(warehouse=warehouse)  # seeds the reference
    (tmp_path / "data" / "day.csv").replace(served / "day.csv")
    hook_base = slack.url.split("/services/")[0]
    stores = json.loads(seeded.stores.model_dump_json()) | {
        "warehouse": warehouse,
        "mlflow": seeded.stores.mlflow.get_secret_value(),
        "artifacts": f"s3://{s3_env.bucket}/published",
        "s3_endpoint_url": s3_env.endpoint,
    }
    config = make_pipeline(
        seed=False,
        warehouse=warehouse,
        current={"uri": f"{base}/day.csv?token={DATA_TOKEN}", "date_column": "dteday"},
        alerts={
            "console": True,
            "slack": {"webhook_url": slack.url, "retries": 1},
            "webhooks": [
                {
                    "url": f"{hook_base}/generic?api_key={API_KEY}",
                    "headers": {"Authorization": f"Bearer {HEADER_SECRET}"},
                }
            ],
        },
        webhook={"token": HOOK_TOKEN, "hmac_secret": HMAC_SECRET},
        stores=stores,
    )
    secrets = [
        PG_PASSWORD,
        DATA_TOKEN,
        API_KEY,
        HEADER_SECRET,
        HOOK_TOKEN,
        HMAC_SECRET,
        "secret-token",  # the Slack webhook URL's secret path
        s3_env.secret_key,
    ]
    caplog.set_level(logging.DEBUG)
    outcome = Runner(config).run(start=month(2011, 3)[0], end=month(2011, 3)[1])
    assert outcome.status == "succeeded", outcome.error
    assert len(slack.received) == 2  # Slack and the generic webhook both got the alert

    places: dict[str, str] = {"logs": caplog.text, "output": "".join(capfd.readouterr())}
    for path in Path(config.stores.reports).rglob("*"):
        if path.is_file():
            places[f"report {path.name}"] = path.read_text(errors="replace")
    store = RunStore(warehouse)
    places["run records"] = json.dumps(
        [store.run(r["run_id"]) for r in store.runs(config.pipeline)], default=str
    )
    engine = sa.create_engine(warehouse)
    with engine.begin() as conn:
        places["outbox"] = json.dumps(
            [dict(r) for r in conn.execute(sa.select(OUTBOX)).mappings()], default=str
        )
    engine.dispose()
    registry = Registry(config.stores.mlflow.get_secret_value())
    run = registry.client.get_run(outcome.results["retrain"].run_id)
    places["mlflow run"] = json.dumps([run.data.params, run.data.tags, run.data.metrics])
    places["mlflow versions"] = json.dumps(
        [v.to_dict() | {"description": v.description} for v in registry.versions("bike-demand")]
    )
    client = s3_env.client()
    for obj in client.list_objects_v2(Bucket=s3_env.bucket)["Contents"]:
        body = client.get_object(Bucket=s3_env.bucket, Key=obj["Key"])["Body"].read()
        places[f"s3 {obj['Key']}"] = body.decode("latin-1")
    assert len(places) > 10
    leaks = {(place, s) for place, text in places.items() for s in secrets if s in text}
    assert leaks == set()
