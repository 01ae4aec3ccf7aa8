"""The history store on real SQLite and real PostgreSQL: rows, superseding, schema version."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from driftloop.drift.results import SCHEMA_VERSION as REPORT_SCHEMA
from driftloop.drift.results import DriftReport
from driftloop.errors import SourceError
from driftloop.history.store import HistoryStore
from driftloop.history.tables import FEATURES, SCHEMA, SCHEMA_VERSION, WINDOWS

JAN = (dt.date(2011, 1, 1), dt.date(2011, 1, 7))
FEB = (dt.date(2011, 2, 1), dt.date(2011, 2, 7))
T0 = dt.datetime(2026, 1, 1, 11, 0)


def report(temp: float, hum: float = 0.01, *, drift: bool = False) -> dict[str, Any]:
    """A DriftReport.to_dict() with two KS-tested columns."""

    def column(name: str, statistic: float) -> dict[str, Any]:
        return {
            "name": name,
            "kind": "numerical",
            "method": "ks",
            "statistic": statistic,
            "p_value": 0.5 - statistic / 2,
            "threshold": 0.05,
            "drifted": statistic > 0.2,
            "family": "test",
            "n_reference": 31,
            "n_current": 7,
            "skipped": None,
        }

    columns = [column("temp", temp), column("hum", hum)]
    share = sum(c["drifted"] for c in columns) / 2
    return {
        "dataset_drift": drift,
        "drift_share": 0.5,
        "share_drifted": share,
        "columns": columns,
        "degradation": [
            {
                "feature": "hum",
                "kind": "nulls",
                "current": 0.4,
                "baseline": 0.0,
                "message": "hum is 40% null",
            }
        ],
    }


def typed(data: dict[str, Any]) -> DriftReport:
    """A report written as a dict, read as ``report.json`` is."""
    base = {"schema_version": REPORT_SCHEMA, "excluded": [], "fdr": False}
    return DriftReport.from_dict(base | {"reference_rows": 31, "current_rows": 7} | data)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path, pg_databases: Any) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'warehouse.db'}"
    return str(pg_databases())


def test_a_window_is_stored_per_run_and_feature(url: str) -> None:
    store = HistoryStore(url)
    store.record(
        "bikes", "r1", JAN, typed(report(0.3, drift=True)), null_shares={"hum": 0.4}, run_at=T0
    )
    store.record("bikes", "r2", FEB, typed(report(0.1)), run_at=T0)
    history = store.history("bikes")
    assert history["windows"][1]["features"]["temp"]["statistic"] == 0.1
    history["windows"][1]["features"] = {}
    assert history == {
        "pipeline": "bikes",
        "windows": [
            {
                "start": "2011-01-01",
                "end": "2011-01-07",
                "run_id": "r1",
                "dataset_drift": True,
                "share_drifted": 0.5,
                "features": {
                    "hum": {
                        "method": "ks",
                        "statistic": 0.01,
                        "p_value": 0.495,
                        "threshold": 0.05,
                        "drifted": False,
                    },
                    "temp": {
                        "method": "ks",
                        "statistic": 0.3,
                        "p_value": 0.35,
                        "threshold": 0.05,
                        "drifted": True,
                    },
                },
                "multivariate": {},
                "segments": [],
            },
            {
                "start": "2011-02-01",
                "end": "2011-02-07",
                "run_id": "r2",
                "dataset_drift": False,
                "share_drifted": 0.0,
                "features": {},
                "multivariate": {},
                "segments": [],
            },
        ],
    }
    hum = store.features("bikes", feature="hum")
    assert [(r["window_start"], r["null_share"]) for r in hum] == [(JAN[0], 0.4), (FEB[0], None)]
    (jan, _) = store.windows("bikes")
    assert jan["degradation"] == [{"feature": "hum", "kind": "nulls", "message": "hum is 40% null"}]
    assert (jan["n_tested"], jan["n_drifted"], jan["source"]) == (2, 1, "run")
    assert store.history("bikes", FEB[0], FEB[1])["windows"][0]["run_id"] == "r2"
    assert store.history("other") == {"pipeline": "other", "windows": []}


def test_the_latest_run_of_a_window_wins_and_older_ones_are_kept(url: str) -> None:
    store = HistoryStore(url)
    store.record("bikes", "late", JAN, typed(report(0.9)), run_at=T0 + dt.timedelta(hours=1))
    store.record("bikes", "early", JAN, typed(report(0.1)), run_at=T0)  # imported after, older run
    store.record(
        "bikes", "late", JAN, typed(report(0.8)), run_at=T0 + dt.timedelta(hours=1)
    )  # again
    (current,) = store.history("bikes")["windows"]
    assert current["run_id"] == "late" and current["features"]["temp"]["statistic"] == 0.8
    every = store.windows("bikes", superseded=True)
    assert [(w["run_id"], w["superseded"]) for w in every] == [("early", True), ("late", False)]
    assert {r["run_id"] for r in store.features("bikes")} == {"late"}
    assert store.run_ids("bikes") == {"early", "late"}


def test_tables_from_a_newer_schema_are_refused_with_the_version_that_wrote_them(
    url: str,
) -> None:
    HistoryStore(url).run_ids("bikes")  # creates the tables at this version
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(SCHEMA.update().values(version=7, written_by="9.2.0"))
    engine.dispose()
    with pytest.raises(SourceError, match=r"schema version 7, written by driftloop 9\.2\.0"):
        HistoryStore(url).run_ids("bikes")


def test_two_stores_create_the_tables_once(url: str) -> None:
    for _ in range(2):
        HistoryStore(url).record("bikes", "r1", JAN, typed(report(0.3)), run_at=T0)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        versions = conn.execute(sa.select(SCHEMA.c.component, SCHEMA.c.version)).all()
    engine.dispose()
    assert [tuple(v) for v in versions] == [("history", SCHEMA_VERSION)]


def joint(*, pca: float, working: float) -> dict[str, Any]:
    """A report with a multivariate result and two segments of ``workingday``."""
    base = report(0.1)
    segment_column = {
        **base["columns"][0],
        "p_adjusted": 0.5 - working / 2,
        "drifted": working > 0.2,
    }
    return {
        **base,
        "multivariate": [
            {
                "method": "pca_reconstruction",
                "statistic": pca,
                "threshold": 1.2,
                "p_value": 0.001 if pca > 1.2 else 0.4,
                "drifted": pca > 1.2,
                "top_features": ["temp", "atemp"],
                "columns": ["temp", "atemp", "hum"],
                "n_reference": 365,
                "n_current": 31,
                "skipped": None,
            },
            {
                "method": "domain_classifier",
                "statistic": None,
                "threshold": None,
                "p_value": None,
                "drifted": False,
                "top_features": [],
                "n_reference": 365,
                "n_current": 5,
                "skipped": "too few rows (5 current; at least 30 per side)",
            },
        ],
        "segments": [
            {
                "column": "workingday",
                "value": 0,
                "n_reference": 120,
                "n_current": 9,
                "skipped": None,
                "share_drifted": 0.5,
                "dataset_drift": working > 0.2,
                "columns": [segment_column],
            },
            {
                "column": "workingday",
                "value": 1,
                "n_reference": 245,
                "n_current": 3,
                "skipped": "too few rows (245 reference, 3 current; min_rows is 5)",
                "share_drifted": 0.0,
                "dataset_drift": False,
                "columns": [],
            },
        ],
    }


def test_multivariate_and_segment_results_are_stored_per_run(url: str) -> None:
    store = HistoryStore(url)
    store.record("bikes", "old", JAN, typed(joint(pca=0.9, working=0.1)), run_at=T0)
    store.record(
        "bikes", "new", JAN, typed(joint(pca=1.9, working=0.3)), run_at=T0 + dt.timedelta(1)
    )
    (pca, skipped) = [r for r in store.multivariate("bikes") if r["run_id"] == "new"][::-1]
    assert (pca["method"], pca["statistic"], pca["threshold"], pca["drifted"]) == (
        "pca_reconstruction",
        1.9,
        1.2,
        True,
    )
    assert pca["top_features"] == ["temp", "atemp"]
    assert skipped["skipped"].startswith("too few rows") and skipped["statistic"] is None
    assert {r["run_id"] for r in store.multivariate("bikes")} == {"new"}  # the old run superseded
    (off, on) = store.segments("bikes")
    assert (off["segment"], off["value"], off["drifted"], off["dataset_drift"]) == (
        "workingday",
        "0",
        ["temp"],
        True,
    )
    assert off["columns"][0]["p_adjusted"] == pytest.approx(0.35)
    assert on["skipped"].startswith("too few rows") and on["columns"] == []
    (window,) = store.history("bikes")["windows"]
    assert window["multivariate"]["pca_reconstruction"]["drifted"] is True
    assert [(s["column"], s["value"], s["drifted"]) for s in window["segments"]] == [
        ("workingday", "0", ["temp"]),
        ("workingday", "1", []),
    ]
    old = store.run_findings("old")
    assert [m["statistic"] for m in old["multivariate"]] == [None, 0.9]
    assert [s["drifted"] for s in old["segments"]] == [[], []]
    store.record("bikes", "new", JAN, typed(report(0.1)), run_at=T0 + dt.timedelta(1))  # rewritten
    assert store.run_findings("new") == {"multivariate": [], "segments": []}


def test_version_1_tables_are_upgraded_and_keep_their_rows(url: str) -> None:
    engine = sa.create_engine(url)
    version_1 = sa.MetaData()
    tables = [t.to_metadata(version_1) for t in (SCHEMA, WINDOWS, FEATURES)]
    version_1.create_all(engine)
    with engine.begin() as conn:
        conn.execute(tables[0].insert().values(component="history", version=1, written_by="0.9"))
    engine.dispose()
    HistoryStore(url).record("bikes", "r1", JAN, typed(joint(pca=1.9, working=0.3)), run_at=T0)
    store = HistoryStore(url)
    assert store.history("bikes")["windows"][0]["multivariate"]["pca_reconstruction"]["drifted"]
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        version = conn.execute(sa.select(SCHEMA.c.version)).scalar_one()
    engine.dispose()
    assert version == SCHEMA_VERSION == 3


def test_version_2_tables_gain_the_performance_table_and_keep_their_rows(url: str) -> None:
    from driftloop.history.tables import MULTIVARIATE, SEGMENTS

    engine = sa.create_engine(url)
    version_2 = sa.MetaData()
    tables = [t.to_metadata(version_2) for t in (SCHEMA, WINDOWS, FEATURES, MULTIVARIATE, SEGMENTS)]
    version_2.create_all(engine)
    with engine.begin() as conn:
        conn.execute(tables[0].insert().values(component="history", version=2, written_by="0.9"))
    engine.dispose()
    HistoryStore(url).record("bikes", "r0", JAN, typed(report(0.1)), run_at=T0)
    estimated = {
        **report(0.1),
        "performance": {
            "metric": "roc_auc", "value": 0.71, "lower": 0.66, "upper": 0.76,
            "reference_value": 0.82, "alert": True, "n_rows": 434, "model_version": 1,
            "realized": {"value": 0.70, "lower": 0.65, "upper": 0.75, "alert": True,
                         "n_rows": 434},
        },
    }  # fmt: skip
    HistoryStore(url).record("bikes", "r1", FEB, typed(estimated), run_at=T0)
    store = HistoryStore(url)
    rows = store.performance("bikes")
    assert [(r["run_id"], r["estimated"], r["realized"], r["dropped"]) for r in rows] == [
        ("r1", 0.71, 0.70, True)
    ]
    windows = store.history("bikes")["windows"]
    assert "performance" not in windows[0] and windows[1]["performance"]["upper"] == 0.76
    store.record("bikes", "r2", FEB, typed(report(0.1)), run_at=T0 + dt.timedelta(1))  # a re-run
    assert store.performance("bikes") == []  # the window's current run has no estimate
