"""Drift ranked by what the model uses: the production version's reliance on each feature."""

from __future__ import annotations

import json
from pathlib import Path

from driftloop.demo import month
from driftloop.model.registry import Registry
from driftloop.pipeline.runner import Runner

MAR, APR = month(2011, 3), month(2011, 4)


def test_a_drift_window_carries_the_production_models_reliance_and_the_alert_ranks_by_it(
    make_pipeline,
) -> None:  # type: ignore[no-untyped-def]
    config = make_pipeline()
    first = Runner(config, printer=lambda _: None).run(start=MAR[0], end=MAR[1])
    assert first.status == "succeeded", first.error
    registry = Registry.open(
        config.stores.mlflow.get_secret_value(), config.stores.mlflow_artifacts
    )
    shares = registry.production_reliance(config.model.name)
    assert shares and abs(sum(shares.values()) - 1) < 1e-6
    alerts: list[str] = []
    second = Runner(config, printer=alerts.append).run(start=APR[0], end=APR[1])
    assert second.status == "succeeded", second.error
    report = json.loads((Path(config.stores.runs) / second.run_id / "report.json").read_text())
    assert report["impact"] == shares
    text = "\n".join(alerts)
    assert "the model relies on it for" in text or "low impact" in text
    listed = [
        line.split("`")[1]
        for line in text.splitlines()
        if line.lstrip().startswith("• `") and ("relies on it" in line or "low impact" in line)
    ]
    assert listed, text
    assert listed == sorted(listed, key=lambda n: -shares[n])  # most relied-on first
