"""Synthetic hourly bike-sharing rows with a "busy hour" label, for the demo's classifier.

Each day of :func:`driftloop.data.synthetic.bike_sharing` (its calendar and weather) is spread
over 24 hours, in the schema of the UCI ``hour.csv`` features (``dteday, hr, workingday,
weathersit, temp, hum, windspeed``) plus ``busy``: whether the hour's rentals ran above the
system's usual load. ``busy`` is drawn from a fixed logistic relationship — commuter peaks at 8
and 17-18 on working days, an afternoon bulge at weekends, warmth, dry weather, quiet nights — that
never changes: whatever moves is the features, never the relationship (no concept drift).

With ``night_hours_from`` set, the rows from that date on leave out the night (21:00 to 06:59), as
a feed that stops reporting the hours the system is closed would: the quiet, easy-to-call hours
vanish, so the same model, just as right about each hour, is right about fewer of the window's
hours — a covariate shift that hurts it. ``labels_until`` blanks ``busy`` after that date: the
labels of the latest windows have not arrived yet.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from driftloop.data.synthetic import bike_sharing

__all__ = ["HOUR_FEATURES", "busy_hours"]

HOUR_FEATURES = ("hr", "workingday", "weathersit", "temp", "hum", "windspeed")
_NIGHT = (21, 7)  # from 21:00, until 07:00


def busy_hours(
    *,
    seed: int = 0,
    start: dt.date = dt.date(2011, 1, 1),
    end: dt.date = dt.date(2011, 12, 31),
    night_hours_from: dt.date | None = None,
    labels_until: dt.date | None = None,
) -> pl.DataFrame:
    """Hourly rows between ``start`` and ``end`` inclusive, with their ``busy`` label.

    Examples
    --------
    >>> df = busy_hours(end=dt.date(2011, 1, 31))
    >>> df.height, df.columns[:3], 0.1 < df["busy"].mean() < 0.5
    (744, ['dteday', 'hr', 'workingday'], True)
    >>> busy_hours(end=dt.date(2011, 1, 31)).equals(df)  # seeded
    True
    """
    days = bike_sharing(seed=seed, start=start, end=end)
    hours = days.select("dteday", "workingday", "weathersit", "temp", "hum", "windspeed").join(
        pl.DataFrame({"hr": np.arange(24, dtype=np.int64)}), how="cross"
    )
    rng = np.random.default_rng(seed + 1)
    n, hr = hours.height, hours["hr"].to_numpy()
    warmth = 0.05 * np.sin(2 * np.pi * (hr - 9) / 24) + rng.normal(0, 0.02, n)
    hum = np.clip(hours["hum"].to_numpy() + rng.normal(0, 0.04, n), 0.0, 1.0)
    hours = hours.with_columns(
        pl.Series("temp", np.round(np.clip(hours["temp"].to_numpy() + warmth, 0, 1), 6)),
        pl.Series("hum", np.round(hum, 6)),
    )
    chance = 1 / (1 + np.exp(-_logit(hours)))
    hours = hours.with_columns(pl.Series("busy", (rng.random(n) < chance).astype(np.int64)))
    hours = hours.select(
        "dteday", "hr", "workingday", "weathersit", "temp", "hum", "windspeed", "busy"
    )
    if night_hours_from is not None:
        night = (pl.col("hr") >= _NIGHT[0]) | (pl.col("hr") < _NIGHT[1])
        hours = hours.filter(~((pl.col("dteday") >= night_hours_from) & night))
    if labels_until is not None:
        hours = hours.with_columns(
            pl.when(pl.col("dteday") <= labels_until).then(pl.col("busy")).alias("busy")
        )
    return hours


def _logit(hours: pl.DataFrame) -> np.ndarray:
    """The fixed relationship: the log-odds that an hour is busy."""
    hr = hours["hr"].to_numpy().astype(float)
    working = hours["workingday"].to_numpy().astype(float)
    commute = 2.2 * np.exp(-((hr - 8) ** 2) / 2) + 2.5 * np.exp(-((hr - 17.5) ** 2) / 3)
    leisure = 1.8 * np.exp(-((hr - 14) ** 2) / 8)
    peak = working * commute + (1 - working) * leisure
    return (
        -1.0
        + 1.6 * peak
        + 2.0 * (hours["temp"].to_numpy() - 0.45)
        - 0.9 * (hours["weathersit"].to_numpy() - 1)
        - 1.0 * (hours["hum"].to_numpy() - 0.6)
        - 2.0 * (hr < 6)
    )
