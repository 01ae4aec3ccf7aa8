"""``driftloop calibrate``: propose thresholds for a pipeline and replay its past windows."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa
import yaml
from markupsafe import Markup

from driftloop.config import PipelineConfig
from driftloop.data.warehouse import META_COLUMNS
from driftloop.drift import detect
from driftloop.drift.calibrate import Calibration, calibrate
from driftloop.errors import ConfigError
from driftloop.pipeline.steps import RunContext, fetch_reference
from driftloop.report.charts import line_chart

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


def run_calibration(
    config: PipelineConfig,
    *,
    window_rows: int | None,
    target_rate: float,
    simulations: int,
    use_history: bool,
    seed: int = 0,
) -> CalibrationResult:
    ctx = RunContext(config, "calibration", None, None, "calibrate")
    fetch_reference(ctx)
    reference = ctx.frame("reference.parquet", "fetch_reference")
    history = _history(config)
    windows = (
        history.group_by(META_COLUMNS[1], META_COLUMNS[2], maintain_order=True)
        .len()
        .sort(META_COLUMNS[1])
        if history.height
        else pl.DataFrame()
    )
    if window_rows is None:
        if not windows.height:
            raise ConfigError("No past windows to size the calibration: pass --window-rows N.")
        window_rows = int(windows["len"].median())  # type: ignore[arg-type]
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
    )
    proposed = _proposed_settings(config, calibration)
    replay = []
    for row in windows.iter_rows(named=True):
        window = history.filter(
            (pl.col(META_COLUMNS[1]) == row[META_COLUMNS[1]])
            & (pl.col(META_COLUMNS[2]) == row[META_COLUMNS[2]])
        ).drop(META_COLUMNS)
        now = detect(reference, window, columns=config.columns, config=config.detection)
        new = detect(reference, window, columns=config.columns, config=proposed)
        replay.append(
            {
                "window_start": str(row[META_COLUMNS[1]]),
                "window_end": str(row[META_COLUMNS[2]]),
                "rows": row["len"],
                "current_drifted": now.drifted_columns,
                "current_dataset_drift": now.dataset_drift,
                "current_share": now.share_drifted,
                "proposed_drifted": new.drifted_columns,
                "proposed_dataset_drift": new.dataset_drift,
                "proposed_share": new.share_drifted,
            }
        )
    folder = Path(config.stores.reports) / config.pipeline
    folder.mkdir(parents=True, exist_ok=True)
    report_json, report_html = folder / "calibration.json", folder / "calibration.html"
    report_json.write_text(
        json.dumps({"calibration": calibration.to_dict(), "replay": replay}, indent=2)
    )
    report_html.write_text(_html(config.pipeline, calibration, replay))
    return CalibrationResult(calibration, replay, report_html, report_json)


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
    """Merge the proposed thresholds into the config file's detection.columns (backup kept)."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    detection = raw.setdefault("detection", {})
    columns = detection.setdefault("columns", {})
    for name, override in calibration.thresholds().items():
        columns[name] = {**(columns.get(name) or {}), **override}
    backup = path.with_suffix(path.suffix + ".bak")
    shutil.copyfile(path, backup)
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return backup


def _esc(text: str) -> str:
    return str(Markup.escape(text))


def _html(pipeline: str, c: Calibration, replay: list[dict[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td>{_esc(col.name)}</td><td>{col.method}</td><td>{col.current_threshold:.4g}</td>"
        f"<td>{col.current_rate:.1%}</td><td>{col.proposed_threshold:.4g}</td><td>{col.proposed_rate:.1%}</td>"
        f"<td>{col.null_median:.4g}</td><td>{col.null_p99:.4g}</td></tr>"
        for col in c.columns
    )
    replay_rows = "".join(
        f"<tr><td>{r['window_start']}..{r['window_end']}</td><td>{r['rows']}</td>"
        f"<td>{'yes' if r['current_dataset_drift'] else 'no'} ({', '.join(r['current_drifted']) or '-'})</td>"
        f"<td>{'yes' if r['proposed_dataset_drift'] else 'no'} ({', '.join(r['proposed_drifted']) or '-'})</td></tr>"
        for r in replay
    )
    chart = (
        line_chart(
            [r["window_start"] for r in replay],
            {
                "current": [r["current_share"] for r in replay],
                "proposed": [r["proposed_share"] for r in replay],
            },
            title="share of features drifted per past window",
        )
        if replay
        else ""
    )
    style = (
        "body{font:14px/1.45 system-ui,sans-serif;max-width:1000px;margin:0 auto;padding:24px}"
        "table{border-collapse:collapse;width:100%}th,td{padding:5px 8px;border-bottom:1px solid #e5e7eb;text-align:left}"
        "th{background:#f6f7f9}svg.chart{width:100%;height:auto}svg .tick{font-size:10px;fill:#5a6275}"
        "svg .tick.end{text-anchor:end}svg .tick.mid{text-anchor:middle}svg .grid{stroke:#eef0f3}svg .title{font-size:12px}"
    )
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{_esc(pipeline)} calibration</title>'
        f"<style>{style}</style></head><body><h1>Calibration: {_esc(pipeline)}</h1>"
        f"<p>Windows of {c.window_rows} rows against {c.reference_rows} reference rows; {c.simulations} no-drift "
        f"simulations; target: at most {c.target_rate:.1%} of no-drift windows raise any alert.</p>"
        f'<p id="rates">Any-feature false-alarm rate: current {c.any_rate_current:.1%}, proposed {c.any_rate_proposed:.1%}. '
        f"Dataset-drift false-alarm rate: current {c.dataset_rate_current:.1%}, proposed {c.dataset_rate_proposed:.1%}.</p>"
        f'<table id="thresholds"><thead><tr><th>feature</th><th>method</th><th>current</th><th>rate</th>'
        f"<th>proposed</th><th>rate</th><th>null median</th><th>null p99</th></tr></thead><tbody>{rows}</tbody></table>"
        f'<h2>Replay of past windows</h2>{chart}<table id="replay"><thead><tr><th>window</th><th>rows</th>'
        f"<th>current: dataset drift (features)</th><th>proposed</th></tr></thead><tbody>{replay_rows}</tbody></table>"
        "</body></html>"
    )
