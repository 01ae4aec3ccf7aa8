"""The recipe for a drift method, done once: one module registers it, and the contract suites
(``test_methods.py``, ``test_false_alarms.py``) run over it unchanged."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import driftloop
from driftloop.drift.methods import METHODS
from driftloop.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = "tests.drift.anderson_darling"
SUITES = ["tests/drift/test_methods.py", "tests/drift/test_false_alarms.py"]


def test_the_contract_suites_run_over_a_method_registered_in_one_module() -> None:
    command = [sys.executable, "-m", "pytest", "-p", PLUGIN, *SUITES, "-k", "anderson", "-q"]
    command += ["-p", "no:cacheprovider", "-p", "no:randomly"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:]
    passed = re.search(r"(\d+) passed", done.stdout)
    # identical, shifted, NaN, determinism; the false-alarm rate at two sizes
    assert passed is not None and int(passed.group(1)) == 6, done.stdout[-3000:]


@pytest.fixture
def anderson():  # type: ignore[no-untyped-def]
    from tests.drift import anderson_darling

    METHODS["anderson"] = anderson_darling.ANDERSON
    yield anderson_darling.ANDERSON
    METHODS.pop("anderson", None)


def test_the_registered_method_runs_from_config_with_its_p_value_range(anderson) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(2)
    ref = pl.DataFrame({"x": rng.normal(size=400), "c": rng.choice(["a", "b", "c"], 400)})
    cur = pl.DataFrame({"x": rng.normal(0.5, size=400), "c": rng.choice(["a", "b", "c"], 400)})
    report = driftloop.detect(ref, cur, config={"method": "anderson"})
    assert report.column("x").method == "anderson" and report.column("x").drifted
    assert report.column("x").p_value == pytest.approx(0.001)  # the cap, as declared
    assert report.column("c").method != "anderson"  # numbers only: labels keep the automatic one
    with pytest.raises(
        ConfigError, match=r"method 'anderson' must be a float in \(0\.001, 0\.25\)"
    ):
        driftloop.detect(ref, cur, config={"thresholds": {"anderson": 0.0005}})
    with pytest.raises(ConfigError, match=r"Method 'anderson' needs a numerical column"):
        driftloop.detect(ref, cur, config={"columns": {"c": {"method": "anderson"}}})


def test_a_share_outside_the_range_becomes_a_threshold_inside_it(anderson) -> None:  # type: ignore[no-untyped-def]
    low = anderson.p_threshold(0.0001)
    assert 0.001 < low < 0.0011 and anderson.check_threshold(low) == low
    assert anderson.p_threshold(0.9) < 0.25 and anderson.p_threshold(0.05) == 0.05
