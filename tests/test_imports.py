"""Start-up cost: what importing driftloop pulls in.

Each check runs in a fresh interpreter (the test process has imported everything already). A heavy
library imported eagerly makes every command — ``driftloop --help``, each Kestra task — pay for it.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("mlflow", "sklearn", "boto3", "botocore", "scipy", "polars", "pyarrow", "pandas")


def loaded_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(__import__('json').dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return {name.split(".")[0] for name in json.loads(out.stdout.strip().splitlines()[-1])}


@pytest.mark.parametrize(
    "statement",
    [
        "import driftloop",
        "import driftloop.cli",
        "import driftloop.config",
        "from driftloop.drift.settings import DetectionSettings",
    ],
)
def test_no_heavy_library_is_imported_eagerly(statement: str) -> None:
    assert loaded_after(statement) & set(HEAVY) == set()


def test_the_engine_still_loads_on_first_use() -> None:
    loaded = loaded_after("import driftloop; driftloop.detect")
    assert "polars" in loaded
    assert {"mlflow", "sklearn", "boto3"} & loaded == set()


def test_help_runs_without_the_scientific_stack() -> None:
    code = (
        "import sys; from driftloop.cli import app\n"
        "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('HEAVY', sorted({m.split('.')[0] for m in sys.modules} & set(sys.argv[1:])))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *HEAVY], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "HEAVY []"


def test_the_step_table_is_cheap_to_read() -> None:
    # `driftloop --help` lists the steps from the table: reading it must not load the config
    # model (pydantic) or any step's libraries
    loaded = loaded_after("import driftloop.pipeline.steps")
    assert loaded & {*HEAVY, "pydantic", "sqlalchemy"} == set()
