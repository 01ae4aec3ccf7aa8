"""Importing the JSON reports earlier runs left (``REPORTS/PIPELINE/START_END_RUNID.json``).

Every file is read and checked before anything is written; a run already in the history (a live
run or an earlier import) is left as it is, so importing a folder twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from driftloop.drift.results import DriftReport
from driftloop.errors import ConfigError
from driftloop.history.store import HistoryStore

__all__ = ["ImportResult", "import_reports"]

_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})_(\d{4}-\d{2}-\d{2})_([A-Za-z0-9][A-Za-z0-9._-]*)\.json$")
_RUN_TIME = re.compile(r"^(\d{8}T\d{6})-")
_COLUMN = {"name", "kind", "method", "threshold", "drifted", "n_reference", "n_current"}
_REQUIRED = ("dataset_drift", "drift_share", "share_drifted", "columns", "degradation")


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import did: runs imported, runs already in the history, files ignored."""

    imported: int
    already: int
    ignored: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Report:
    path: Path
    run_id: str
    window: tuple[dt.date, dt.date]
    data: DriftReport


def import_reports(store: HistoryStore, pipeline: str, folder: Path) -> ImportResult:
    """Import every ``START_END_RUNID.json`` drift report in ``folder`` into ``pipeline``'s
    history; other files are ignored and listed."""
    if not folder.is_dir():
        raise ConfigError(
            f"Report folder '{folder}' does not exist or is not a folder. Pass the folder "
            "holding the pipeline's START_END_RUNID.json reports (stores.reports/PIPELINE)."
        )
    reports, ignored = [], []
    for path in sorted(folder.glob("*.json")):
        match = _NAME.match(path.name)
        if match is None:
            ignored.append(path.name)
            continue
        reports.append(_read(path, match))
    known = store.run_ids(pipeline)
    new = [r for r in reports if r.run_id not in known]
    for report in new:
        store.record(
            pipeline,
            report.run_id,
            report.window,
            report.data,
            run_at=_run_time(report),
            source="import",
            report_json=str(report.path),
        )
    return ImportResult(len(new), len(reports) - len(new), tuple(ignored))


def _read(path: Path, match: re.Match[str]) -> _Report:
    try:
        start, end = dt.date.fromisoformat(match[1]), dt.date.fromisoformat(match[2])
    except ValueError:
        raise ConfigError(
            f"Report '{path}' is named with an impossible date ({match[1]}, {match[2]}). "
            "Rename it START_END_RUNID.json with real dates, or move it out of the folder."
        ) from None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ConfigError(
            f"Report '{path}' is not readable JSON ({str(err).splitlines()[0][:120]}). "
            "Fix or remove the file."
        ) from None
    missing = [k for k in _REQUIRED if not isinstance(data, dict) or k not in data]
    if missing:
        raise ConfigError(
            f"Report '{path}' is not a driftloop drift report: it has no {', '.join(missing)}. "
            "Move it out of the folder."
        )
    columns, alerts = data["columns"], data["degradation"]
    broken = (
        [i for i, c in enumerate(columns) if not isinstance(c, dict) or _COLUMN - set(c)]
        if isinstance(columns, list)
        else [0]
    )
    if broken or not isinstance(alerts, list) or not all(isinstance(a, dict) for a in alerts):
        raise ConfigError(
            f"Report '{path}' has a malformed column or degradation entry; each column needs "
            f"{', '.join(sorted(_COLUMN))}. Fix or remove the file."
        )
    major = str(data.get("schema_version", "1.0")).split(".")[0]
    if major != "1":
        raise ConfigError(
            f"Report '{path}' has schema_version {data.get('schema_version')}; this driftloop "
            "reads 1.x. Import it with the driftloop version that wrote it."
        )
    try:
        report = DriftReport.from_dict(_complete(data))
    except (TypeError, KeyError, ValueError) as err:
        raise ConfigError(
            f"Report '{path}' has an entry driftloop cannot read ({type(err).__name__}: "
            f"{str(err).splitlines()[0][:120]}). Fix or remove the file."
        ) from None
    return _Report(path, match[3], (start, end), report)


def _complete(data: dict[str, Any]) -> dict[str, Any]:
    """A report with the keys an import needs, and what the rest defaults to when a file lacks
    them (unknown row counts read as 0, an untested statistic as None)."""
    defaults = {"schema_version": "1.0", "excluded": [], "fdr": False}
    rows = {"reference_rows": 0, "current_rows": 0}
    column = {"statistic": None, "p_value": None, "family": "p_value"}
    columns = [column | c for c in data["columns"]]
    alerts = [{"current": None, "baseline": None} | a for a in data["degradation"]]
    return defaults | rows | data | {"columns": columns, "degradation": alerts}


def _run_time(report: _Report) -> dt.datetime:
    """When the run started: from its generated id, else the report file's time."""
    stamp = _RUN_TIME.match(report.run_id)
    if stamp is not None:
        try:
            return dt.datetime.strptime(stamp[1], "%Y%m%dT%H%M%S")
        except ValueError:
            pass
    mtime = report.path.stat().st_mtime
    return dt.datetime.fromtimestamp(mtime, dt.UTC).replace(tzinfo=None, microsecond=0)
