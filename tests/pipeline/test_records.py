"""Run records list newest first, runs started within the same second included."""

from __future__ import annotations

from pathlib import Path

from driftloop.pipeline.records import RunStore, new_run_id


def test_runs_started_in_the_same_second_are_listed_newest_first(tmp_path: Path) -> None:
    store = RunStore(f"sqlite:///{tmp_path / 'runs.db'}")
    made = [store.create_run("bikes", "manual", None, None, ["detect"]) for _ in range(40)]
    listed = [r["run_id"] for r in store.runs("bikes", limit=100)]
    assert listed == made[::-1]


def test_run_ids_sort_as_they_were_made() -> None:
    ids = [new_run_id() for _ in range(200)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
