"""Multivariate drift: a change in how columns relate, which no single column shows.

A broken join that swaps or mis-keys one column keeps every marginal distribution, so every
per-column test stays quiet, while the relationships a model relies on are gone. Two methods look
at rows as a whole:

- ``domain_classifier`` (:mod:`driftloop.drift.domain_classifier`): a gradient-boosting
  classifier learns to tell reference rows from current rows; statistic = cross-validated ROC-AUC.
- ``pca_reconstruction`` (:mod:`driftloop.drift.pca_reconstruction`): principal components of the
  standardised reference; statistic = the current rows' mean reconstruction error.

Both take their p-value from a permutation test (no three-sigma rule: its false-alarm rate depends
on the data) and name the columns that drive them. Rows are capped at ``max_rows`` per side, drawn
at random with a fixed seed, so a report is reproducible and a large window costs the same as a
small one. This module runs the configured methods on the rows as :mod:`driftloop.drift.encoding`
encodes them (numbers as they are, labels as codes).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from driftloop.drift.encoding import Encoded, encode
from driftloop.drift.results import MultivariateDrift
from driftloop.drift.settings import MultivariateSettings

__all__ = ["MIN_ROWS", "run_multivariate"]

MIN_ROWS = 30  # per side: below this a five-fold classifier sees a handful of rows per fold


def run_multivariate(
    reference: pl.DataFrame,
    current: pl.DataFrame,
    columns: Sequence[tuple[str, str]],
    settings: MultivariateSettings,
) -> tuple[MultivariateDrift, ...]:
    """Run each configured method on ``columns`` (name, kind) of both sides.

    Too few columns or rows give skipped results that say why, so the rest of the report stands.
    """
    names = tuple(name for name, _ in columns)
    sizes = (reference.height, current.height)
    reason = _skip_reason(names, sizes)
    if reason is not None:
        return tuple(_skipped(m, names, sizes, reason) for m in settings.methods)
    data = encode(reference, current, columns, settings.max_rows, settings.seed)
    return tuple(_run_method(method, data, settings) for method in settings.methods)


def _run_method(method: str, data: Encoded, settings: MultivariateSettings) -> MultivariateDrift:
    if method == "domain_classifier":
        from driftloop.drift.domain_classifier import domain_classifier

        return domain_classifier(data, settings)
    from driftloop.drift.pca_reconstruction import pca_reconstruction

    return pca_reconstruction(data, settings)


def _skip_reason(names: tuple[str, ...], sizes: tuple[int, int]) -> str | None:
    if len(names) < 2:
        return (
            f"needs at least 2 tested numerical or categorical columns; got {len(names)} "
            f"({', '.join(names) or 'none'})"
        )
    if min(sizes) < MIN_ROWS:
        return (
            f"needs at least {MIN_ROWS} rows on each side; got {sizes[0]} reference and "
            f"{sizes[1]} current rows"
        )
    return None


def _skipped(
    method: str, names: tuple[str, ...], sizes: tuple[int, int], reason: str
) -> MultivariateDrift:
    return MultivariateDrift(
        method=method,
        statistic=None,
        threshold=None,
        p_value=None,
        drifted=False,
        top_features=(),
        columns=names,
        n_reference=sizes[0],
        n_current=sizes[1],
        skipped=reason,
    )
