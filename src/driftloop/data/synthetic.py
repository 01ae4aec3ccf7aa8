"""Synthetic daily bike-sharing data in the schema of the UCI "Bike Sharing" ``day.csv``.

Every row is made up by a seeded generator, not observed: it is for demos and tests that must
run offline. Columns, as in the UCI file: ``instant, dteday, season, yr, mnth, holiday, weekday,
workingday, weathersit, temp, atemp, hum, windspeed, casual, registered, cnt``; normalised as
there: ``temp`` = (t + 8) / 47 °C, ``atemp`` = (t + 16) / 66 °C, ``hum`` / 100, ``windspeed`` / 67;
``weekday`` counts from Sunday = 0; ``season`` is 1 winter, 2 spring, 3 summer, 4 fall.

Demand is driven by temperature (it rises to a comfortable ~27 °C, falls beyond), weather
situation, working days (registered commuters) versus weekends and holidays (casual riders), and
growth from 2011 to 2012. With ``concept_shift_from`` set, demand from that date on responds
differently to temperature (riders become far less sensitive to it), a shift of the relationship
between features and target that leaves the features' distributions untouched.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import polars as pl

__all__ = ["BIKE_COLUMNS", "bike_sharing", "load_bike_sharing", "us_holidays"]

BIKE_COLUMNS = (
    "instant", "dteday", "season", "yr", "mnth", "holiday", "weekday", "workingday",
    "weathersit", "temp", "atemp", "hum", "windspeed", "casual", "registered", "cnt",
)  # fmt: skip


def us_holidays(year: int) -> set[dt.date]:
    """US federal holidays of ``year`` (observed dates), as a bike-share operator sees them."""

    def nth_weekday(month: int, weekday: int, n: int) -> dt.date:
        first = dt.date(year, month, 1)
        offset = (weekday - first.weekday()) % 7
        if n > 0:
            return first + dt.timedelta(days=offset + 7 * (n - 1))
        last = dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)
        return last - dt.timedelta(days=(last.weekday() - weekday) % 7)

    def observed(day: dt.date) -> dt.date:
        shift = {5: -1, 6: 1}.get(day.weekday(), 0)
        return day + dt.timedelta(days=shift)

    return {
        observed(dt.date(year, 1, 1)),
        nth_weekday(1, 0, 3),  # Martin Luther King Jr. Day
        nth_weekday(2, 0, 3),  # Presidents' Day
        nth_weekday(5, 0, -1),  # Memorial Day
        observed(dt.date(year, 7, 4)),
        nth_weekday(9, 0, 1),  # Labor Day
        nth_weekday(10, 0, 2),  # Columbus Day
        observed(dt.date(year, 11, 11)),
        nth_weekday(11, 3, 4),  # Thanksgiving
        observed(dt.date(year, 12, 25)),
    }


def _season(day: dt.date) -> int:
    md = (day.month, day.day)
    if md >= (12, 21) or md < (3, 21):
        return 1
    if md < (6, 21):
        return 2
    if md < (9, 23):
        return 3
    return 4


def bike_sharing(
    *,
    seed: int = 0,
    start: dt.date = dt.date(2011, 1, 1),
    end: dt.date = dt.date(2012, 12, 31),
    concept_shift_from: dt.date | None = None,
) -> pl.DataFrame:
    """Generate synthetic daily bike-sharing rows between ``start`` and ``end`` inclusive.

    Examples
    --------
    >>> df = bike_sharing()
    >>> df.height, df.columns == list(BIKE_COLUMNS)
    (731, True)
    >>> df.equals(bike_sharing())  # seeded: the same every time
    True
    >>> bool((df["cnt"] == df["casual"] + df["registered"]).all())
    True
    """
    rng = np.random.default_rng(seed)
    n = (end - start).days + 1
    days = [start + dt.timedelta(days=i) for i in range(n)]
    holidays = set().union(*(us_holidays(y) for y in range(start.year, end.year + 1)))
    doy = np.array([d.timetuple().tm_yday for d in days], dtype=float)
    weekday = np.array([(d.weekday() + 1) % 7 for d in days])  # Sunday = 0
    holiday = np.array([d in holidays for d in days], dtype=np.int64)
    workingday = ((weekday >= 1) & (weekday <= 5) & (holiday == 0)).astype(np.int64)
    yr = np.array([d.year - 2011 for d in days]).clip(0, 1)

    # Temperature: a seasonal curve (coldest mid-January, warmest mid-July) plus AR(1) weather.
    celsius = 14.5 - 13.0 * np.cos(2 * np.pi * (doy - 15) / 365.25) + _ar1(rng, n, 0.75, 3.2)
    weathersit = _weather(rng, n)
    hum = np.clip(0.58 + 0.09 * (weathersit - 1) + _ar1(rng, n, 0.5, 0.12), 0.0, 0.97)
    wind = np.clip(rng.gamma(6.0, 0.032, n) + 0.02 * (weathersit == 3), 0.02, 0.5)
    feels = celsius + np.where(celsius > 24, 2.0 * (hum - 0.5), -6.0 * (wind - 0.19))
    feels = feels + rng.normal(0, 0.8, n)

    casual, registered = _demand(
        rng, celsius, weathersit, hum, wind, workingday, yr, days, concept_shift_from
    )
    data: dict[str, Any] = {
        "instant": np.arange(1, n + 1),
        "dteday": days,
        "season": [_season(d) for d in days],
        "yr": yr,
        "mnth": [d.month for d in days],
        "holiday": holiday,
        "weekday": weekday,
        "workingday": workingday,
        "weathersit": weathersit,
        "temp": np.round((np.clip(celsius, -8, 39) + 8) / 47, 6),
        "atemp": np.round((np.clip(feels, -16, 50) + 16) / 66, 6),
        "hum": np.round(hum, 6),
        "windspeed": np.round(wind, 6),
        "casual": casual,
        "registered": registered,
        "cnt": casual + registered,
    }
    return pl.DataFrame(data).with_columns(pl.col(pl.Int32, pl.Int64).cast(pl.Int64))


def _ar1(rng: np.random.Generator, n: int, phi: float, sd: float) -> np.ndarray:
    noise = rng.normal(0, sd * np.sqrt(1 - phi**2), n)
    out = np.empty(n)
    out[0] = rng.normal(0, sd)
    for i in range(1, n):
        out[i] = phi * out[i - 1] + noise[i]
    return out


def _weather(rng: np.random.Generator, n: int) -> np.ndarray:
    # A persistent Markov chain: clear (1), mist (2), light rain/snow (3), heavy rain (4, rare).
    move = np.array(
        [[0.78, 0.19, 0.03, 0.0], [0.38, 0.55, 0.07, 0.0], [0.45, 0.45, 0.095, 0.005], [1, 0, 0, 0]]
    )
    state = np.empty(n, dtype=np.int64)
    state[0] = 0
    for i in range(1, n):
        state[i] = rng.choice(4, p=move[state[i - 1]])
    return state + 1


def _demand(
    rng: np.random.Generator,
    celsius: np.ndarray,
    weathersit: np.ndarray,
    hum: np.ndarray,
    wind: np.ndarray,
    workingday: np.ndarray,
    yr: np.ndarray,
    days: list[dt.date],
    concept_shift_from: dt.date | None,
) -> tuple[np.ndarray, np.ndarray]:
    comfort = np.exp(-(((celsius - 26.0) / 15.0) ** 2))
    if concept_shift_from is not None:
        shifted = np.array([d >= concept_shift_from for d in days])
        # After the shift demand barely follows temperature (e.g. covered parking, e-bikes).
        comfort = np.where(shifted, 0.45 + 0.1 * comfort, comfort)
    weather = np.array([1.0, 0.86, 0.42, 0.2])[weathersit - 1]
    climate = weather * (1.0 - 0.5 * np.clip(hum - 0.75, 0, None)) * (1.0 - 0.8 * (wind - 0.19))
    growth = 1.0 + 0.62 * yr
    registered = 4300 * growth * (0.45 + 0.55 * comfort) * climate * (0.72 + 0.28 * workingday)
    casual = 2300 * growth * comfort**1.6 * climate * (1.0 - 0.62 * workingday)
    # Independent streams: Poisson draws consume a rate-dependent amount of randomness, and a
    # concept shift must not change the rows before it.
    rng_registered, rng_casual = rng.spawn(2)
    registered = registered * rng_registered.lognormal(0, 0.09, len(days))
    casual = casual * rng_casual.lognormal(0, 0.18, len(days))
    registered = np.array([rng_registered.poisson(lam) for lam in np.clip(registered, 20, None)])
    casual = np.array([rng_casual.poisson(lam) for lam in np.clip(casual, 2, None)])
    return casual.astype(np.int64), registered.astype(np.int64)


def load_bike_sharing(source: str | None = None, **kwargs: Any) -> pl.DataFrame:
    """The real UCI ``day.csv`` from ``source`` (a path or URL) if given, else synthetic rows."""
    if source is None:
        return bike_sharing(**kwargs)
    from driftloop.data.sources import read_table

    frame = read_table(source)
    missing = [c for c in BIKE_COLUMNS if c not in frame.columns]
    if missing:
        from driftloop.errors import SchemaError

        raise SchemaError(
            f"'{source}' is not in the bike-sharing day.csv schema: missing {', '.join(missing)}."
        )
    return frame.select(BIKE_COLUMNS)
