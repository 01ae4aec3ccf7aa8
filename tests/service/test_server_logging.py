"""serve's log carries driftloop's lines, not scipy's optimiser steps sent to the root logger."""

from __future__ import annotations

import io
import logging

from driftloop.cli.service import server_logging


def test_the_exact_test_leaves_no_scipy_lines_in_the_servers_log() -> None:
    """Before: boschloo_exact (the z-test's exact form) logged 'Splitting first generation' and
    its minimiser pools at INFO under serve's root handler, lines per window."""
    from scipy import stats

    stream = io.StringIO()
    handler = server_logging(stream)
    level = logging.getLogger().level
    try:
        stats.boschloo_exact([[3, 1], [1, 3]])
        logging.getLogger("driftloop.service").info("serving bike-sharing")
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(level)
    lines = stream.getvalue().splitlines()
    assert any("serving bike-sharing" in line for line in lines)
    assert not [line for line in lines if " root INFO " in line], lines
