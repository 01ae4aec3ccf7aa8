"""Multivariate drift: a correlated pair broken by a shuffle, no drift, attribution, bad input.

The data have the bike-sharing shape: ``temp`` and ``atemp`` correlated at 0.99, two independent
weather columns, a label column; windows of 365 rows. Shuffling ``atemp`` within the current
window keeps every column's distribution and breaks the pair.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

import driftloop
from driftloop.data.synthetic import bike_sharing
from driftloop.drift.domain_classifier import domain_classifier
from driftloop.drift.encoding import encode
from driftloop.drift.pca_reconstruction import pca_reconstruction
from driftloop.drift.results import DriftReport, MultivariateDrift
from driftloop.drift.settings import MultivariateSettings
from driftloop.errors import ConfigError

ROWS = 365
COLUMNS = [("temp", "numerical"), ("atemp", "numerical"), ("hum", "numerical"),
           ("windspeed", "numerical"), ("weathersit", "categorical")]  # fmt: skip
METHODS = {"domain_classifier": domain_classifier, "pca_reconstruction": pca_reconstruction}


def days(rng: np.random.Generator, n: int = ROWS) -> pl.DataFrame:
    temp = rng.normal(size=n)
    return pl.DataFrame(
        {
            "temp": temp,
            "atemp": 0.99 * temp + np.sqrt(1 - 0.99**2) * rng.normal(size=n),
            "hum": rng.beta(5, 3, size=n),
            "windspeed": rng.gamma(4, 0.05, size=n),
            "weathersit": rng.choice(["clear", "mist", "rain"], p=[0.6, 0.3, 0.1], size=n),
        }
    )


def shuffled(frame: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    return frame.with_columns(pl.Series("atemp", rng.permutation(frame["atemp"].to_numpy())))


def verdicts(method: str, trials: int, *, broken: bool, seed: int) -> list[MultivariateDrift]:
    rng = np.random.default_rng(seed)
    settings = MultivariateSettings(permutations=99, seed=seed)
    out = []
    for _ in range(trials):
        ref, cur = days(rng), days(rng)
        if broken:
            cur = shuffled(cur, rng)
        data = encode(ref, cur, COLUMNS, settings.max_rows, settings.seed)
        out.append(METHODS[method](data, settings))
    return out


@pytest.mark.parametrize("method", METHODS)
def test_a_shuffled_correlated_column_is_caught_and_the_pair_named(method: str) -> None:
    results = verdicts(method, 10, broken=True, seed=1)
    assert sum(r.drifted for r in results) >= 9  # >= 90% at alpha 0.05
    for r in results:
        assert set(r.top_features[:2]) == {"temp", "atemp"}, r.top_features
        assert r.finding.startswith("rows no longer agree on ")
        assert r.statistic is not None and r.threshold is not None
        assert r.statistic > r.threshold


@pytest.mark.parametrize(
    ("method", "trials", "mean_p"),
    [
        ("domain_classifier", 40, (0.5, 0.95)),  # Rüger's combination is conservative
        ("pca_reconstruction", 60, (0.35, 0.65)),  # an exact permutation test: about uniform
    ],
)
def test_no_drift_windows_rarely_alarm(
    method: str, trials: int, mean_p: tuple[float, float]
) -> None:
    results = verdicts(method, trials, broken=False, seed=2)
    assert sum(r.drifted for r in results) / trials <= 0.07
    p_values = [r.p_value for r in results if r.p_value is not None]
    assert len(p_values) == trials and mean_p[0] < float(np.mean(p_values)) < mean_p[1]


def test_detect_runs_the_configured_methods_and_the_report_round_trips() -> None:
    rng = np.random.default_rng(3)
    ref, cur = days(rng), shuffled(days(rng), rng)
    config = {"multivariate": {"permutations": 99}}
    report = driftloop.detect(ref, cur, config=config)
    assert report.drifted_columns == []  # no single column shows it
    assert [m.method for m in report.multivariate] == list(METHODS)
    assert report.multivariate_drift and not report.dataset_drift
    assert report.multivariate[0].columns == ("temp", "atemp", "hum", "windspeed", "weathersit")
    data = report.to_dict()
    assert {"method", "statistic", "threshold", "p_value", "drifted", "top_features"} <= set(
        data["multivariate"][0]
    )
    assert DriftReport.from_dict(data).to_dict() == data


def test_an_older_report_without_the_section_still_reads() -> None:
    rng = np.random.default_rng(4)
    data = driftloop.detect(days(rng), days(rng)).to_dict()
    del data["multivariate"]
    data["schema_version"] = "1.1"
    assert DriftReport.from_dict(data).multivariate == ()


def test_unequal_sizes_use_balanced_rows_up_to_the_cap() -> None:
    rng = np.random.default_rng(5)
    ref, cur = days(rng, 3000), days(rng, 120)
    config = {"multivariate": {"max_rows": 1000, "permutations": 19}}
    classifier, pca = driftloop.detect(ref, cur, config=config).multivariate
    assert (classifier.n_reference, classifier.n_current) == (120, 120)
    assert (pca.n_reference, pca.n_current) == (1000, 120)


def test_a_label_column_with_hundreds_of_values_is_no_drift_by_itself() -> None:
    # Codes cut at the reference's most frequent labels once made the shared "rare" code hold
    # more current rows than reference rows: the classifier flagged identical distributions.
    rng = np.random.default_rng(9)

    def sample() -> pl.DataFrame:
        labels = [f"c{i}" for i in rng.integers(0, 400, 3000)]
        return pl.DataFrame(
            {"x": rng.normal(size=3000), "y": rng.normal(size=3000), "city": labels}
        )

    results = driftloop.detect(sample(), sample(), config={"multivariate": {}}).multivariate
    assert [r.drifted for r in results] == [False, False]
    assert results[0].p_value is not None and results[0].p_value > 0.2


def test_constant_and_missing_values_do_not_break_the_methods() -> None:
    rng = np.random.default_rng(6)
    ref = days(rng).with_columns(pl.lit(1.0).alias("flat"))
    cur = days(rng).with_columns(pl.lit(1.0).alias("flat"))
    cur = cur.with_columns(pl.when(pl.col("hum") > 0.7).then(None).otherwise("hum").alias("hum"))
    config = {"multivariate": {"permutations": 19, "columns": ["temp", "atemp", "hum", "flat"]}}
    for result in driftloop.detect(ref, cur, config=config).multivariate:
        assert result.skipped is None and result.statistic is not None


def test_too_few_rows_or_columns_are_reported_as_skipped() -> None:
    rng = np.random.default_rng(7)
    few = driftloop.detect(days(rng), days(rng, 12), config={"multivariate": {}})
    assert all(m.skipped and "at least 30 rows" in m.skipped for m in few.multivariate)
    one = driftloop.detect(days(rng), days(rng), columns=["temp"], config={"multivariate": {}})
    assert all(m.skipped and "at least 2 tested" in m.skipped for m in one.multivariate)
    assert not one.multivariate_drift


@pytest.mark.parametrize(
    ("multivariate", "message"),
    [
        ({"methods": ["lof"]}, r"detection\.multivariate\.methods\.0"),
        ({"columns": ["temp"]}, r"detection\.multivariate\.columns"),
        ({"max_rows": 5}, r"detection\.multivariate\.max_rows"),
        ({"columns": ["temp", "nope"]}, r"^Column 'nope' in detection\.multivariate\.columns"),
    ],
    ids=["unknown-method", "one-column", "tiny-cap", "unknown-column"],
)
def test_bad_settings_are_one_clear_line(multivariate: dict[str, object], message: str) -> None:
    rng = np.random.default_rng(8)
    with pytest.raises(ConfigError, match=message) as caught:
        driftloop.detect(days(rng), days(rng), config={"multivariate": multivariate})
    assert "\n" not in str(caught.value)


def test_a_month_of_days_is_enough_for_the_classifier() -> None:
    """31 rows a side: sklearn's default leaves of 20 rows allowed no split (an AUC of 0.5 for
    July against January); and a drifted PCA result always names the columns behind it."""
    data = bike_sharing().filter(pl.col("yr") == 0)
    january, july = (data.filter(pl.col("mnth") == m) for m in (1, 7))
    columns = ["temp", "atemp", "hum", "windspeed"]
    report = driftloop.detect(january, july, columns=columns, config={"multivariate": {}})
    found = {m.method: m for m in report.multivariate}
    classifier, pca = found["domain_classifier"], found["pca_reconstruction"]
    assert classifier.statistic is not None and classifier.statistic > 0.9
    assert classifier.drifted and classifier.top_features[0] in ("temp", "atemp")
    assert pca.drifted and set(pca.top_features) & {"temp", "atemp"}


@pytest.mark.parametrize(
    ("method", "trials", "limit"),
    # PCA at 31 rows: 5.6% over 500 draws (its fixed number of components makes it approximate)
    [("domain_classifier", 60, 0.07), ("pca_reconstruction", 200, 0.085)],
)
def test_month_sized_no_drift_windows_rarely_alarm(method: str, trials: int, limit: float) -> None:
    rng = np.random.default_rng(5)
    settings = MultivariateSettings(permutations=99)
    alarms = 0
    for _ in range(trials):
        data = encode(days(rng, 31), days(rng, 31), COLUMNS, settings.max_rows, settings.seed)
        alarms += METHODS[method](data, settings).drifted
    assert alarms / trials <= limit
