"""``driftloop calibrate``: propose thresholds for a pipeline and replay its past windows."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa

from driftloop.config import PipelineConfig
from driftloop.data.warehouse import META_COLUMNS
from driftloop.drift.calibrate import Calibration, calibrate
from driftloop.errors import ConfigError, EmptyDataError
from driftloop.pipeline.profile_calibration import calibrate_profile
from driftloop.pipeline.steps import RunContext
from driftloop.pipeline.steps.fetch import fetch_reference
from driftloop.profiles.detection import detect
from driftloop.report.calibration import render_calibration_html

__all__ = ["CalibrationResult", "run_calibration", "write_thresholds"]


@dataclass(frozen=True, slots=True)
class CalibrationResult:
    calibration: Calibration
    replay: list[dict[str, Any]]
    report_html: Path
    report_json: Path


def _history(config: PipelineConfig) -> pl.DataFrame:
    """Every window this pipeline appended, with its window bounds."""
    from driftloop.data.sql import read_sql

    url = config.stores.warehouse.get_secret_value()
    if not sa.inspect(sa.create_engine(url)).has_table(config.append.table):
        return pl.DataFrame()
    frame = read_sql(url, table=config.append.table)
    if META_COLUMNS[0] not in frame.columns:
        return pl.DataFrame()
    return frame.filter(pl.col(META_COLUMNS[0]) == config.pipeline)


def _baseline_window(windows: pl.DataFrame) -> tuple[dt.date | None, dt.date | None]:
    """The window a relative baseline (lag, same_period, trailing) is taken from: the latest
    past window, as the next run would see it; none (the source's own window) before any."""
    if not windows.height:
        return None, None
    start, end = windows.row(-1)[:2]
    return _as_date(start), _as_date(end)


def _as_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def run_calibration(
    config: PipelineConfig,
    *,
    window_rows: int | None,
    target_rate: float,
    simulations: int,
    use_history: bool,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> CalibrationResult:
    history = _history(config)
    windows = (
        history.group_by(META_COLUMNS[1], META_COLUMNS[2], maintain_order=True)
        .len()
        .sort(META_COLUMNS[1])
        if history.height
        else pl.DataFrame()
    )
    ctx = RunContext(config, "calibration", *_baseline_window(windows), "calibrate")
    if config.reference.profile is not None:
        rows = window_rows or _median_rows(windows)
        summary, drawn = calibrate_profile(
            ctx, rows, target_rate, simulations, use_history, seed, progress
        )
        return _finish(config, summary, drawn, history, windows)
    fetch_reference(ctx)
    reference = ctx.frame("reference.parquet", "fetch_reference")
    if window_rows is None:
        window_rows = _median_rows(windows)
    pool = reference
    if use_history and history.height:
        common = [c for c in reference.columns if c in history.columns]
        pool = pl.concat(
            [reference.select(common), history.select(common).cast(reference.select(common).schema)]
        )
    calibration = calibrate(
        pool,
        window_rows=window_rows,
        reference_rows=reference.height,
        columns=config.columns,
        settings=config.detection,
        target_rate=target_rate,
        simulations=simulations,
        seed=seed,
        progress=progress,
    )
    return _finish(config, reference, calibration, history, windows)


def _median_rows(windows: pl.DataFrame) -> int:
    if not windows.height:
        raise ConfigError("No past windows to size the calibration: pass --window-rows N.")
    return int(windows["len"].median())  # type: ignore[arg-type]


def _finish(
    config: PipelineConfig,
    reference: Any,
    calibration: Calibration,
    history: pl.DataFrame,
    windows: pl.DataFrame,
) -> CalibrationResult:
    """Past windows replayed with the current and the proposed thresholds; reports written."""
    proposed = _proposed_settings(config, calibration)
    replay = [
        _replay_window(config, history, row, reference, proposed)
        for row in windows.iter_rows(named=True)
    ]
    folder = Path(config.stores.reports) / config.pipeline
    folder.mkdir(parents=True, exist_ok=True)
    report_json, report_html = folder / "calibration.json", folder / "calibration.html"
    report_json.write_text(
        json.dumps({"calibration": calibration.to_dict(), "replay": replay}, indent=2)
    )
    report_html.write_text(render_calibration_html(config.pipeline, calibration, replay))
    return CalibrationResult(calibration, replay, report_html, report_json)


def _replay_window(
    config: PipelineConfig,
    history: pl.DataFrame,
    row: dict[str, Any],
    reference: Any,
    proposed: Any,
) -> dict[str, Any]:
    """One past window judged with the current and the proposed thresholds, against the
    reference its baseline gives it (``fixed``: ``reference``; a relative baseline: read again
    for that window). A window whose baseline has no rows is reported as skipped."""
    start, end = row[META_COLUMNS[1]], row[META_COLUMNS[2]]
    window = history.filter(
        (pl.col(META_COLUMNS[1]) == start) & (pl.col(META_COLUMNS[2]) == end)
    ).drop(META_COLUMNS)
    entry: dict[str, Any] = {"window_start": str(start), "window_end": str(end), "rows": row["len"]}
    try:
        own, bounds = _reference_for(config, _as_date(start), _as_date(end))
    except EmptyDataError as err:
        return {**entry, **_SKIPPED, "skipped": str(err)}
    reference = reference if own is None else own
    now = detect(reference, window, columns=config.columns, config=config.detection)
    new = detect(reference, window, columns=config.columns, config=proposed)
    return {
        **entry,
        "reference_start": bounds[0],
        "reference_end": bounds[1],
        "reference_rows": reference.height,
        "skipped": None,
        "current_drifted": now.drifted_columns,
        "current_dataset_drift": now.dataset_drift,
        "current_share": now.share_drifted,
        "proposed_drifted": new.drifted_columns,
        "proposed_dataset_drift": new.dataset_drift,
        "proposed_share": new.share_drifted,
    }


_SKIPPED: dict[str, Any] = {
    "reference_start": None,
    "reference_end": None,
    "reference_rows": 0,
    "current_drifted": [],
    "current_dataset_drift": False,
    "current_share": None,
    "proposed_drifted": [],
    "proposed_dataset_drift": False,
    "proposed_share": None,
}


def _reference_for(
    config: PipelineConfig, start: dt.date, end: dt.date
) -> tuple[pl.DataFrame | None, tuple[str | None, str | None]]:
    """The reference the baseline rule gives the window ``start..end`` (None: the source's own
    window, the same for every window) and the dates it spans."""
    from driftloop.pipeline.baseline import baseline_of

    if baseline_of(config.reference).type == "fixed":
        return None, (None, None)
    ctx = RunContext(config, "calibration-replay", start, end, "calibrate")
    fetched = fetch_reference(ctx)
    frame = ctx.frame("reference.parquet", "fetch_reference")
    return frame, (fetched.window_start, fetched.window_end)


def _proposed_settings(config: PipelineConfig, calibration: Calibration) -> Any:
    from driftloop.drift.settings import DetectionSettings

    data = config.detection.model_dump()
    columns = data.get("columns", {})
    for name, override in calibration.thresholds().items():
        columns[name] = {
            **{k: v for k, v in columns.get(name, {}).items() if v is not None},
            **override,
        }
    data["columns"] = columns
    return DetectionSettings.model_validate(data)


def write_thresholds(path: Path, calibration: Calibration) -> Path:
    """Merge the proposed thresholds into the config file's detection.columns (backup kept).

    The file is edited round-trip (ruamel.yaml): its comments, key order and layout stay."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap

    editor = YAML()  # round-trip mode
    editor.preserve_quotes = True
    raw = editor.load(path.read_text(encoding="utf-8")) or CommentedMap()
    detection = raw.setdefault("detection", CommentedMap())
    if detection.get("columns") is None:
        detection["columns"] = CommentedMap()
    columns = detection["columns"]
    for name, override in calibration.thresholds().items():
        entry = columns.get(name)
        if entry is None:
            entry = columns[name] = CommentedMap()
        entry.update(override)
    backup = path.with_suffix(path.suffix + ".bak")
    shutil.copyfile(path, backup)
    with path.open("w", encoding="utf-8") as out:
        editor.dump(raw, out)
    return backup
