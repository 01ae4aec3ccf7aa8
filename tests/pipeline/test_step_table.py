"""One step table: the runner, `driftloop step --help`, the Kestra export and the docs list the
same steps, and every step's typed result reads back exactly what it wrote."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from driftloop.cli import app
from driftloop.export.kestra import Runtime, flows
from driftloop.pipeline.records import RunStore
from driftloop.pipeline.runner import Runner
from driftloop.pipeline.steps import STEPS, Empty, Failed, Skipped, StepResult, step_names

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "architecture.md"
NAMES = [s.name for s in STEPS]


def test_the_runner_records_the_table_s_steps_in_order(make_pipeline) -> None:
    config = make_pipeline()
    outcome = Runner(config).run(start=dt.date(2030, 1, 1), end=dt.date(2030, 1, 31))
    record = RunStore(config.stores.warehouse.get_secret_value()).run(outcome.run_id)
    assert [s["step"] for s in record["steps"]] == NAMES


def test_step_help_lists_the_table_s_steps_in_order() -> None:
    result = CliRunner().invoke(app, ["step", "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert ", ".join(NAMES) in " ".join(result.output.split())


SHARED = (  # stores every Kestra task sees (the export refuses relative ones)
    "pipeline: x\nstores: {runs: /mnt/ml/runs, warehouse: 'sqlite:////mnt/ml/w.db', "
    "mlflow: 'sqlite:////mnt/ml/m.db', artifacts: /mnt/ml/a, mlflow_artifacts: /mnt/ml/ma, "
    "reports: /mnt/ml/r}\n"
)
RUNTIME = Runtime(install=("driftloop",))


def test_the_kestra_flows_run_the_table_s_steps_in_order(make_pipeline) -> None:
    concept = {"baseline": {"start": "2011-01-01", "end": "2011-01-31"}}
    config = make_pipeline(seed=False, concept=concept)
    tasks = [
        task["id"]
        for flow in flows(config, SHARED, runtime=RUNTIME).values()
        for directory in flow["tasks"]
        for task in directory["tasks"]
    ]
    assert tasks == NAMES
    without = flows(make_pipeline(seed=False), SHARED, runtime=RUNTIME)
    detect_flow = next(f for f in without.values() if f["id"].endswith("-detect"))
    assert "concept" not in [t["id"] for t in detect_flow["tasks"][0]["tasks"]]


def test_the_architecture_doc_draws_the_table_s_steps_in_order() -> None:
    text = DOCS.read_text(encoding="utf-8")
    drawn = next(line for line in text.splitlines() if "fetch_reference ─►" in line)
    assert re.findall(r"[a-z_]+", drawn) == NAMES


def test_the_readme_lists_the_table_s_steps_in_order() -> None:
    text = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    listed = text.split("A run's steps, in order: ")[1].split(". ")[0]
    assert [n for n in re.findall(r"`([a-z_]+)`", listed) if n in NAMES] == NAMES


def test_every_step_declares_what_it_needs_from_earlier_steps_only() -> None:
    for i, step in enumerate(STEPS):
        assert set(step.needs) <= set(NAMES[:i]), step.name
        assert step.flow in ("detect", "retrain", "alert")
        assert issubclass(step.result, StepResult) and dataclasses.is_dataclass(step.result)
        assert step.result.__dataclass_params__.frozen  # type: ignore[attr-defined]
    assert step_names() == NAMES and len(set(NAMES)) == len(NAMES)


finite = st.floats(allow_nan=False, allow_infinity=False)
text = st.text(max_size=8)
FIELD_TYPES = {
    "int": st.integers(-(2**40), 2**40),
    "int | None": st.none() | st.integers(0, 10**6),
    "float": finite,
    "float | None": st.none() | finite,
    "str": text,
    "str | None": st.none() | text,
    "bool": st.booleans(),
    "tuple[str, ...]": st.lists(text, max_size=3).map(tuple),
    "dict[str, float]": st.dictionaries(text, finite, max_size=3),
    "dict[str, str]": st.dictionaries(text, text, max_size=3),
    "tuple[dict[str, Any], ...]": st.lists(
        st.fixed_dictionaries({"uri": text, "sha256": text, "size": st.integers(0, 99)}),
        max_size=2,
    ).map(tuple),
}
RESULTS = sorted({s.result for s in STEPS} | {Skipped, Failed, Empty}, key=lambda c: c.__name__)


def results_of(cls: type[StepResult]) -> st.SearchStrategy[StepResult]:
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    return st.builds(cls, **{f.name: FIELD_TYPES[str(f.type)] for f in fields})


@pytest.mark.parametrize("cls", RESULTS, ids=lambda c: c.__name__)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_every_result_reads_back_exactly_what_it_wrote(cls, data) -> None:
    result = data.draw(results_of(cls))
    written = json.loads(json.dumps(result.to_dict()))
    assert cls.from_dict(written) == result
    assert isinstance(result.summary(), str)


def test_a_result_from_a_newer_driftloop_is_refused_in_one_line() -> None:
    cls = next(s.result for s in STEPS if s.name == "fetch_current")
    with pytest.raises(ValueError, match=r"^A FetchResult with schema_version 2 is newer"):
        cls.from_dict({"schema_version": 2, "rows": 1, "columns": 1})
    assert cls.from_dict({"rows": 1, "columns": 2}).columns == 2  # unversioned records: 1
