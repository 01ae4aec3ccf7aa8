"""Alerts to a real local HTTP receiver standing in for Slack: delivered once, never lost."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from driftloop.actions.notify import SlackSender, WebhookSender, build_alert
from driftloop.actions.outbox import OUTBOX
from driftloop.demo import month
from driftloop.drift.results import SCHEMA_VERSION, DriftReport
from driftloop.pipeline.runner import Runner
from driftloop.pipeline.steps import AlertResult

MAR, APR, MAY = month(2011, 3), month(2011, 4), month(2011, 5)


def as_report(partial: dict) -> DriftReport:
    """A report written by hand with only the keys an alert reads, read as ``report.json`` is."""
    column = {"kind": "numerical", "family": "p_value", "n_reference": 100, "n_current": 31}
    return DriftReport.from_dict(
        {"schema_version": SCHEMA_VERSION, "excluded": [], "reference_rows": 100}
        | {"current_rows": 31, "fdr": False}
        | partial
        | {"columns": [column | c for c in partial["columns"]]}
    )


def slack_pipeline(make_pipeline, slack, cooldown_hours: float = 24):
    alerts = {
        "console": False,
        "slack": {"webhook_url": slack.url, "retries": 1},
        "cooldown_hours": cooldown_hours,
    }
    return make_pipeline(alerts=alerts, on_drift={"retrain": False})


def outbox_rows(config) -> list[dict]:
    engine = sa.create_engine(config.stores.warehouse.get_secret_value())
    with engine.begin() as conn:
        return [dict(r) for r in conn.execute(sa.select(OUTBOX).order_by(OUTBOX.c.id)).mappings()]


def test_rate_limited_then_delivered_exactly_once(make_pipeline, slack) -> None:
    slack.script = [(429, "rate_limited", {"Retry-After": "1"})]
    config = slack_pipeline(make_pipeline, slack)
    outcome = Runner(config).run(start=MAR[0], end=MAR[1])
    assert outcome.results["alert"].sent == 1 and slack.requests == 2
    assert len(slack.received) == 1
    message = slack.received[0]
    assert message["blocks"][0] == {
        "type": "header",
        "text": {
            "type": "plain_text",
            "text": "Dataset drift in 'bike-sharing' for 2011-03-01 to 2011-03-31",
        },
    }
    body = json.dumps(message["blocks"])
    assert "Top drifted features" in body and "`temp` ks = " in body and "report: " in body
    assert outcome.run_id in body
    assert [r["status"] for r in outbox_rows(config)] == ["sent"]


def test_slack_down_for_a_run_then_delivered_by_the_next(make_pipeline, slack) -> None:
    config = slack_pipeline(make_pipeline, slack)
    slack.down = True
    first = Runner(config).run(start=MAR[0], end=MAR[1])
    assert first.status == "succeeded"  # an undelivered alert does not fail the run: it waits
    assert first.results["alert"] == AlertResult(
        queued={"slack": "pending"}, sent=0, failed=1, pending=1
    )
    assert slack.received == [] and slack.requests == 2  # one try, one retry
    slack.down = False
    second = Runner(config).run(start=APR[0], end=APR[1])
    assert second.results["alert"].sent == 2
    texts = slack.texts()
    assert len(texts) == 2
    assert "2011-03-01 to 2011-03-31" in texts[0] and "2011-04-01 to 2011-04-30" in texts[1]
    Runner(config).run(start=APR[0], end=APR[1])  # nothing pending: nothing resent
    assert len(slack.received) == 2
    assert [r["status"] for r in outbox_rows(config)][:2] == ["sent", "sent"]


def test_same_drift_within_the_cooldown_is_recorded_not_paged(make_pipeline, slack) -> None:
    config = slack_pipeline(make_pipeline, slack)
    runs = [Runner(config).run(start=MAR[0], end=MAR[1], force=True) for _ in range(2)]
    assert runs[1].results["alert"].queued == {"slack": "suppressed"}
    assert len(slack.received) == 1
    assert [r["status"] for r in outbox_rows(config)] == ["sent", "suppressed"]
    no_cooldown = slack_pipeline(make_pipeline, slack, cooldown_hours=0)
    Runner(no_cooldown).run(start=MAR[0], end=MAR[1], force=True)
    assert len(slack.received) == 2
    assert "1 similar alert(s) suppressed by the cooldown since" in slack.texts()[1]


def test_cooldown_never_hides_news(make_pipeline, slack) -> None:
    alerts = {"console": False, "slack": {"webhook_url": slack.url, "retries": 1}}
    config = make_pipeline(alerts={**alerts, "cooldown_hours": 24})
    first, second = (Runner(config).run(start=MAR[0], end=MAR[1], force=True) for _ in range(2))
    assert first.results["retrain"].promoted
    assert second.results["alert"].queued == {"slack": "pending"}  # the model's fate is news
    assert len(slack.received) == 2
    quiet = slack_pipeline(make_pipeline, slack)  # no retraining: only the window can be news
    Runner(quiet).run(start=APR[0], end=APR[1])
    assert len(slack.received) == 3  # a new window is news, even with the same features


def test_generic_webhook_gets_the_json_payload(slack) -> None:
    report = {
        "dataset_drift": True,
        "share_drifted": 0.5,
        "drift_share": 0.5,
        "n_tested": 2,
        "columns": [
            {
                "name": "temp",
                "drifted": True,
                "p_value": 0.001,
                "statistic": 0.4,
                "method": "ks",
                "threshold": 0.05,
            },
            {
                "name": "hum",
                "drifted": False,
                "p_value": 0.6,
                "statistic": 0.1,
                "method": "ks",
                "threshold": 0.05,
            },
        ],
        "degradation": [
            {
                "feature": "hum",
                "kind": "null_rate",
                "current": 0.3,
                "baseline": 0.0,
                "message": "Null rate of 'hum' jumped.",
            }
        ],
    }
    alert = build_alert(
        "bikes",
        "run-1",
        ("2011-03-01", "2011-03-31"),
        as_report(report),
        model_outcome="v2 promoted",
    )
    delivery = WebhookSender(slack.url, {"Authorization": "Bearer t"}).send(alert)
    assert delivery.ok
    payload = slack.received[0]
    assert payload["drifted_features"] == ["temp"] and payload["model"] == "v2 promoted"
    assert payload["degradation"][0]["kind"] == "null_rate"
    slack.script = [(400, "invalid_payload", {})]
    assert not WebhookSender(slack.url).send(alert).ok  # 4xx is not retried


@pytest.mark.parametrize("status", [502, 504])
def test_slack_gateway_errors_are_retried(slack, status: int) -> None:
    slack.script = [(status, "bad gateway", {})]
    alert = build_alert("bikes", "run-1", ("2011-03-01", "2011-03-31"), as_report(INJECTED))
    delivery = SlackSender(slack.url, retries=2).send(alert)
    assert delivery.ok and slack.requests == 2 and len(slack.received) == 1


INJECTED = {
    "dataset_drift": True,
    "share_drifted": 1.0,
    "drift_share": 0.5,
    "n_tested": 1,
    "columns": [
        {
            "name": "<!here> <http://evil.example|click> `x",
            "drifted": True,
            "p_value": 0.001,
            "statistic": 0.4,
            "method": "chisquare",
            "threshold": 0.05,
        }
    ],
    "degradation": [
        {
            "feature": "<!channel>",
            "kind": "new_categories",
            "current": 0.3,
            "baseline": 0.0,
            "message": "12% of rows carry new categories: <!everyone>, <https://x.example|ok> & co",
        }
    ],
}


def test_user_data_in_a_slack_message_is_escaped(slack) -> None:
    alert = build_alert(
        "<!here>",
        "run-1",
        ("2011-03-01", "2011-03-31"),
        as_report(INJECTED),
        model_outcome="<@U123>",
    )
    assert SlackSender(slack.url).send(alert).ok
    message = json.dumps(slack.received[0])
    for raw in ("<!here>", "<!channel>", "<!everyone>", "<http://evil", "<https://x", "<@U123>"):
        assert raw not in message
    assert "&lt;!here&gt;" in message and "&amp; co" in message
    # the name stays one code span: its backtick cannot close it early
    assert "`&lt;!here&gt; &lt;http://evil.example|click&gt; 'x`" in message


def test_an_answer_that_never_comes_is_never_resent_and_is_reported(make_pipeline, slack) -> None:
    alerts = {"console": False, "slack": {"webhook_url": slack.url, "retries": 1, "timeout": 1}}
    config = make_pipeline(alerts={**alerts, "cooldown_hours": 0}, on_drift={"retrain": False})
    slack.delay = 2.5  # Slack takes the alert but answers after the client gave up
    first = Runner(config).run(start=MAR[0], end=MAR[1])
    assert first.results["alert"].sent == 0
    assert [r["status"] for r in outbox_rows(config)] == ["unknown"]
    assert len(slack.received) == 1
    slack.delay = 0.0
    Runner(config).run(start=APR[0], end=APR[1])  # the next run must not re-send March
    assert len(slack.received) == 2
    assert "may not have arrived" in slack.texts()[1] and first.run_id in slack.texts()[1]
    assert [r["status"] for r in outbox_rows(config)] == ["unknown", "sent"]
    Runner(config).run(start=MAY[0], end=MAY[1])  # reported once, not in every later alert
    assert "may not have arrived" not in slack.texts()[2]


def test_a_row_left_sending_by_a_dead_process_is_not_resent(make_pipeline, slack) -> None:
    import datetime as dt

    from driftloop.actions.outbox import STALE, Outbox

    config = slack_pipeline(make_pipeline, slack, cooldown_hours=0)
    Runner(config).run(start=MAR[0], end=MAR[1])
    engine = sa.create_engine(config.stores.warehouse.get_secret_value())
    with engine.begin() as conn:  # as a process killed between Slack's 200 and its own update
        conn.execute(
            OUTBOX.update().values(
                status="sending", sent_at=dt.datetime.now() - STALE - dt.timedelta(seconds=5)
            )
        )
    Runner(config).run(start=APR[0], end=APR[1])
    assert len(slack.received) == 2  # March once, April once: March not re-sent
    assert [r["status"] for r in outbox_rows(config)] == ["unknown", "sent"]
    assert "may not have arrived" in slack.texts()[1]
    Outbox(engine).release_stale()  # idempotent: nothing left to release


def test_the_alert_says_a_promoted_model_was_not_published(make_pipeline, slack, tmp_path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the publish folder should be")
    stores = make_pipeline().stores  # seeds the reference
    config = make_pipeline(
        seed=False,
        alerts={"console": False, "slack": {"webhook_url": slack.url, "retries": 1}},
        stores={
            **json.loads(stores.model_dump_json()),
            "warehouse": stores.warehouse.get_secret_value(),
            "mlflow": stores.mlflow.get_secret_value(),
            "artifacts": str(blocker / "published"),  # publishing fails: a file is in the way
        },
        reports={"base_url": "https://reports.example.com/driftloop"},
    )
    outcome = Runner(config).run(start=MAR[0], end=MAR[1])
    assert outcome.status == "failed" and outcome.error.startswith("publish: ")
    text = slack.texts()[0]
    assert "v1 promoted in MLflow but NOT published" in text
    assert f"resume with: driftloop run --resume {outcome.run_id}" in text
    assert "https://reports.example.com/driftloop/bike-sharing/2011-03-01_2011-03-31_" in text


def test_a_frozen_s3_fails_a_publish_within_its_configured_time(
    make_pipeline, tmp_path, monkeypatch
) -> None:
    import socket
    import threading
    import time

    from driftloop.actions.publish import publisher_for
    from driftloop.errors import SourceError

    frozen = socket.socket()  # accepts connections, never answers
    frozen.bind(("127.0.0.1", 0))
    frozen.listen(8)
    held: list[socket.socket] = []
    threading.Thread(
        target=lambda: [held.append(frozen.accept()[0]) for _ in range(8)], daemon=True
    ).start()
    stores = json.loads(make_pipeline().stores.model_dump_json())
    for secret in ("warehouse", "mlflow"):  # dumped masked ('**********'): keep the defaults
        stores.pop(secret)
    config = make_pipeline(
        seed=False,
        stores={
            **stores,
            "artifacts": "s3://models/published",
            "s3_endpoint_url": f"http://127.0.0.1:{frozen.getsockname()[1]}",
            "s3_timeout_seconds": 1,
            "s3_attempts": 2,
        },
    )
    model = tmp_path / "model.skops"
    model.write_bytes(b"model")
    started = time.monotonic()
    with pytest.raises(
        SourceError, match=r"^Publishing 's3://models/published/bikes/1/model\.skops' failed"
    ):
        publisher_for(config.stores).publish("bikes", 1, [(model, "model.skops")])
    assert time.monotonic() - started < 10  # 2 attempts x 1 s, not minutes
    frozen.close()
