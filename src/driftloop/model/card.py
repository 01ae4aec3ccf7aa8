"""Model cards: what a model is for, what it was trained on, how it scores, and why it exists."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from driftloop.model.metrics import get_metric

__all__ = ["ModelCard", "slice_scores"]


def slice_scores(
    X: pd.DataFrame, y: pd.Series, predictions: Any, metric: str, columns: tuple[str, ...]
) -> dict[str, dict[str, tuple[int, float]]]:
    """The metric per value of each slice column: ``{column: {value: (rows, score)}}``."""
    fn = get_metric(metric).fn
    out: dict[str, dict[str, tuple[int, float]]] = {}
    pred = pd.Series(list(predictions), index=X.index)
    for column in columns:
        if column not in X.columns:
            continue
        groups: dict[str, tuple[int, float]] = {}
        for value, index in X.groupby(column, sort=True).groups.items():
            groups[str(value)] = (
                len(index),
                fn(y.loc[index].to_numpy(), pred.loc[index].to_numpy()),
            )
        out[column] = groups
    return out


@dataclass(frozen=True, slots=True)
class ModelCard:
    """Everything a reviewer needs before trusting a model version."""

    name: str
    version: int | None
    intended_use: str
    training_window: str
    data: dict[str, Any]
    metric: str
    score: float
    champion_score: float | None
    slices: dict[str, dict[str, tuple[int, float]]]
    params: dict[str, Any]
    trigger: str
    drift_summary: str = ""
    limitations: tuple[str, ...] = field(default_factory=tuple)
    decision: str = ""

    def to_markdown(self) -> str:
        """The card as Markdown (an artifact and the version's description in the registry)."""
        version = f" version {self.version}" if self.version is not None else ""
        lines = [
            f"# Model card: {self.name}{version}",
            "",
            "## Intended use",
            self.intended_use,
            "",
        ]
        lines += ["## Training data", f"- Window: {self.training_window}"]
        lines += [f"- {k.replace('_', ' ')}: {v}" for k, v in self.data.items()]
        lines += ["", "## Performance (time-ordered holdout)", f"- {self.metric}: {self.score:.4f}"]
        if self.champion_score is not None:
            lines.append(f"- production model on the same holdout: {self.champion_score:.4f}")
        if self.decision:
            lines.append(f"- decision: {self.decision}")
        for column, groups in self.slices.items():
            lines += [
                "",
                f"### By {column}",
                "",
                f"| {column} | rows | {self.metric} |",
                "|---|---|---|",
            ]
            lines += [f"| {v} | {n} | {s:.4f} |" for v, (n, s) in groups.items()]
        if self.params:
            lines += ["", "## Hyperparameters"] + [f"- {k}: {v}" for k, v in self.params.items()]
        lines += ["", "## Why this version exists", self.trigger or "manual retrain"]
        if self.drift_summary:
            lines += ["", self.drift_summary]
        lines += ["", "## Limitations"]
        lines += [f"- {item}" for item in self.limitations] or ["- none recorded"]
        return "\n".join(lines) + "\n"
