"""Seasonal baselines: the reference windows fetch_reference reads, on SQLite and on files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from driftloop.config import PipelineConfig
from driftloop.data.warehouse import Warehouse
from driftloop.errors import EmptyDataError
from driftloop.pipeline.steps.context import RunContext
from driftloop.pipeline.steps.fetch import FetchResult, fetch_reference
from tests.pipeline.conftest import MakePipeline

MARCH_2012 = (dt.date(2012, 3, 1), dt.date(2012, 3, 31))


@pytest.fixture(params=["sqlite", "postgresql", "csv"])
def reference_for(
    request: pytest.FixtureRequest, make_pipeline: MakePipeline, tmp_path: Path, bikes: pl.DataFrame
) -> Any:
    """Builds a config whose reference is the whole bike table (SQLite, PostgreSQL or CSV) with
    ``extra``."""
    pg = request.getfixturevalue("pg_url") if request.param == "postgresql" else None

    def build(**extra: Any) -> PipelineConfig:
        config = make_pipeline(seed=False)
        if request.param == "csv":
            source = {"uri": str(tmp_path / "data" / "day.csv")}
        else:
            url = pg or config.stores.warehouse.get_secret_value()
            Warehouse(url).seed(bikes, table="history", if_exists="replace")
            source = {"url": url, "table": "history"}
        return make_pipeline(seed=False, reference={**source, "date_column": "dteday", **extra})

    return build


def _fetch(
    config: PipelineConfig, window: tuple[dt.date, dt.date]
) -> tuple[FetchResult, list[str]]:
    ctx = RunContext(config, "baseline-1", *window)
    result = fetch_reference(ctx)
    days = pl.read_parquet(ctx.file("reference.parquet"))["dteday"].cast(pl.String).str.slice(0, 10)
    return result, sorted(days.to_list())


def test_same_period_reads_the_same_dates_of_previous_years(reference_for: Any) -> None:
    result, days = _fetch(reference_for(baseline={"type": "same_period", "years": 2}), MARCH_2012)
    assert (days[0], days[-1], len(days)) == ("2011-03-01", "2011-03-31", 31)  # no 2010 rows: fine
    assert (result.window_start, result.window_end) == ("2010-03-01", "2011-03-31")


def test_trailing_reads_the_days_before_the_window(reference_for: Any) -> None:
    baseline = {"type": "trailing", "days": 28, "offset_days": 7}
    _, days = _fetch(reference_for(baseline=baseline), MARCH_2012)
    assert (days[0], days[-1], len(days)) == ("2012-01-26", "2012-02-22", 28)


def test_exclusions_never_enter_the_reference(reference_for: Any) -> None:
    holidays = [
        {"start": "2011-03-05", "end": "2011-03-07"},
        {"start": "2011-03-30", "end": "2011-04-30"},
    ]
    baseline = {"type": "lag", "days": 366, "exclude": holidays}
    _, days = _fetch(reference_for(baseline=baseline), MARCH_2012)
    assert len(days) == 31 - 3 - 2
    assert {"2011-03-05", "2011-03-06", "2011-03-07", "2011-03-30"}.isdisjoint(days)


def test_lag_days_is_a_lag_baseline(reference_for: Any) -> None:
    _, by_alias = _fetch(reference_for(lag_days=366), MARCH_2012)
    _, by_baseline = _fetch(reference_for(baseline={"type": "lag", "days": 366}), MARCH_2012)
    assert by_alias == by_baseline and by_alias[0] == "2011-03-01"


def test_a_fixed_baseline_keeps_its_own_window_minus_exclusions(reference_for: Any) -> None:
    config = reference_for(
        start="2011-01-01",
        end="2011-01-31",
        baseline={"exclude": [{"start": "2011-01-10", "end": "2011-01-19"}]},
    )
    _, days = _fetch(config, MARCH_2012)
    assert (days[0], days[-1], len(days)) == ("2011-01-01", "2011-01-31", 21)


def test_a_baseline_with_no_rows_is_one_clear_line(reference_for: Any) -> None:
    config = reference_for(baseline={"type": "same_period", "years": 1})
    with pytest.raises(EmptyDataError, match=r"^The same_period reference baseline has no rows in"):
        _fetch(config, (dt.date(2011, 3, 1), dt.date(2011, 3, 31)))


def test_exclusions_apply_to_a_source_without_a_window(reference_for: Any) -> None:
    config = reference_for(baseline={"exclude": [{"start": "2012-01-01", "end": "2012-12-31"}]})
    _, days = _fetch(config, MARCH_2012)
    assert (days[0], days[-1], len(days)) == ("2011-01-01", "2011-12-31", 365)


def test_the_first_year_of_a_same_period_baseline_is_an_empty_run_that_says_why(
    make_pipeline: MakePipeline, bikes: pl.DataFrame
) -> None:
    from driftloop.history.store import HistoryStore
    from driftloop.pipeline.runner import Runner

    config = make_pipeline(seed=False)
    url = config.stores.warehouse.get_secret_value()
    Warehouse(url).seed(bikes, table="history", if_exists="replace")
    baseline = {"type": "same_period", "years": 1}
    config = make_pipeline(
        seed=False,
        on_drift={"retrain": False, "alert": False},
        reference={"url": url, "table": "history", "date_column": "dteday", "baseline": baseline},
    )
    lines: list[str] = []
    outcome = Runner(config, printer=lines.append).run(
        start=dt.date(2011, 3, 1), end=dt.date(2011, 3, 31)
    )
    assert outcome.status == "empty"
    assert outcome.error == (
        "The same_period reference baseline has no rows in its window(s) 2010-03-01..2010-03-31. "
        "Choose a baseline with data there (e.g. fewer years) or a later run window."
    )
    assert HistoryStore(url).windows(config.pipeline) == []  # nothing judged, nothing stored
    assert not list(Path(config.stores.reports).glob("**/*.json"))
    later = Runner(config, printer=lines.append).run(
        start=dt.date(2012, 3, 1), end=dt.date(2012, 3, 31)
    )
    assert later.status == "succeeded", later.error
