"""The append step: the window into the warehouse, exactly once."""

from __future__ import annotations

from dataclasses import dataclass

from driftloop.errors import ConfigError
from driftloop.pipeline.steps.context import RunContext, Skip
from driftloop.pipeline.steps.result import StepResult

__all__ = ["AppendResult", "append"]


@dataclass(frozen=True, slots=True)
class AppendResult(StepResult):
    """What the append did: ``inserted``, ``replaced`` (an earlier load) or ``skipped``."""

    table: str
    pipeline: str
    window_start: str
    window_end: str
    action: str
    rows: int
    replaced_rows: int
    seconds: float

    def summary(self) -> str:
        return f"{self.rows} rows {self.action}"


def append(ctx: RunContext) -> AppendResult:
    """Append the window to the warehouse exactly once."""
    from driftloop.data.warehouse import Warehouse

    cfg = ctx.config
    if not cfg.append.enabled:
        raise Skip("append is disabled")
    if ctx.start is None or ctx.end is None:
        raise ConfigError(
            "Appending needs a window: pass --start and --end (or set current.start/end)."
        )
    warehouse = Warehouse(cfg.stores.warehouse.get_secret_value())
    try:
        done = warehouse.append(
            ctx.frame("current.parquet", "fetch_current"),
            pipeline=cfg.pipeline,
            window_start=ctx.start,
            window_end=ctx.end,
            table=cfg.append.table,
            on_conflict=cfg.append.on_conflict,
            date_column=cfg.current.date_column,
        )
    finally:
        warehouse.close()
    return AppendResult.from_dict(done.to_dict())
