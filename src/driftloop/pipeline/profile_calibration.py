"""``driftloop calibrate`` for a pipeline whose reference is a profile.

A profile has no rows to split into pseudo-references and pseudo-windows, so the no-drift
windows are drawn from the profile's own distributions (:mod:`driftloop.profiles.sampling`) and
each is tested against the profile itself, as a real run tests its window
(:func:`driftloop.drift.calibrate.calibrate_drawn`). That leaves out the reference's own sampling
noise: the null statistic of a window of m rows against a reference of n rows scales as
sqrt(1/m + 1/n), the simulation's as sqrt(1/m). It is honest only for large references, so
calibration asks for ``n >= LARGE_RATIO * m`` (under 0.5% too narrow) and otherwise refuses in one
line. ``benchmarks/bench_profile_calibration.py`` measures the false-alarm rate of the proposed
thresholds on fresh windows drawn from the population itself.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from driftloop.errors import ConfigError

if TYPE_CHECKING:
    from driftloop.drift.calibrate import Calibration
    from driftloop.pipeline.steps import RunContext
    from driftloop.profiles.dataset import Profile

__all__ = ["LARGE_RATIO", "calibrate_profile", "constant_columns"]

LARGE_RATIO = 100


def calibrate_profile(
    ctx: RunContext,
    window_rows: int,
    target_rate: float,
    simulations: int,
    use_history: bool,
    seed: int,
    progress: Callable[[int, int], None] | None,
) -> tuple[Profile, Calibration]:
    """The reference profile (given, or stored and reused or rebuilt) and its calibration."""
    from driftloop.drift.calibrate import calibrate_drawn
    from driftloop.pipeline.steps.fetch import fetch_reference
    from driftloop.profiles.detection import detect
    from driftloop.profiles.fileformat import load_profile
    from driftloop.profiles.sampling import Sampler

    if use_history:
        raise ConfigError(
            "--history pools past windows' rows with the reference's, and reference.profile has "
            "no rows to pool: calibrate without --history."
        )
    folder = Path(ctx.config.stores.runs) / ctx.run_id
    fresh = not folder.exists()
    fetch_reference(ctx)
    reference = load_profile(ctx.file("reference.profile"))
    if reference.height < LARGE_RATIO * window_rows:
        if fresh:  # leave no calibration folder behind (the stored profile stays: it is valid)
            shutil.rmtree(folder, ignore_errors=True)
        raise ConfigError(
            f"calibrate with a profile reference needs it {LARGE_RATIO}x larger than a window (so "
            f"its own sampling noise is negligible); it has {reference.height} rows for windows of "
            f"{window_rows}. Calibrate smaller windows (--window-rows), or remove "
            "reference.profile to calibrate on the reference's rows."
        )
    config = ctx.config
    sampler = Sampler(reference, config.columns)
    calibration = calibrate_drawn(
        reference,
        sampler.draw,
        window_rows=window_rows,
        constant=constant_columns(reference),
        columns=config.columns,
        settings=config.detection,
        target_rate=target_rate,
        simulations=simulations,
        seed=seed,
        progress=progress,
        detector=detect,
    )
    return reference, calibration


def constant_columns(reference: Profile) -> set[str]:
    """Columns with one value in the profile: nothing to calibrate."""
    constant = set()
    for c in reference.profiles:
        if c.numeric is not None and c.numeric.count and c.numeric.minimum == c.numeric.maximum:
            constant.add(c.name)
        elif c.labels is not None and len(c.labels.labels) + (c.labels.other > 0) < 2:
            constant.add(c.name)
    return constant
