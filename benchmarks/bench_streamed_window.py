"""A big current window checked out of core: `driftloop run` with `current.engine: streamed`.

Generates ROWS rows x 10 numeric + 2 categorical columns (``bench_profile_build.py``'s data; the
region column segmented) as Parquet in a temporary folder, a 1M-row reference profile from another
seed, then times whole `driftloop run` processes (fresh each, peak RSS of the process tree
sampled every 0.1 s): the window streamed at each size, and read whole (`engine: rows`) at the
smallest, to show what streaming saves. Detection runs with its defaults plus
``detection.segments`` by region and multivariate drift (from the window profile's row sample).

    python benchmarks/bench_streamed_window.py [--rows 5000000,50000000] [--rows-engine 5000000]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_profile_build import generate, run_measured  # noqa: E402


def config(root: Path, reference: Path, data: Path, engine: str) -> Path:
    raw = {
        "pipeline": "big-window",
        "reference": {"profile": str(reference)},
        "current": {"uri": str(data), "engine": engine},
        "detection": {"segments": [{"column": "region"}], "multivariate": {}},
        "append": {"enabled": False},
        "on_drift": {"retrain": False, "alert": False, "publish": False},
        "alerts": {"console": True},
        "stores": {
            "warehouse": f"sqlite:///{root / 'warehouse.db'}",
            "runs": str(root / "runs"),
            "reports": str(root / "reports"),
        },
    }
    if engine == "rows":
        raw["current"]["uri"] = str(data / "part-0000.parquet")  # one file: rows <= 10M
    path = root / f"{engine}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def measure(root: Path, reference: Path, rows: int, engine: str) -> str:
    data = root / f"window-{rows}"
    if not data.exists():
        data.mkdir()
        generate(data, rows, seed=1, regions_n=20)
    driftloop = Path(sys.executable).parent / "driftloop"
    cmd = [str(driftloop), "run", "--config", str(config(root, reference, data, engine))]
    seconds, cpu, rss, _ = run_measured(cmd)
    report = json.loads(max((root / "runs").glob("*/report.json"), key=_mtime).read_text())
    return (f"{rows:,}-row window, engine {engine}: {seconds:.1f} s wall, {cpu:.1f} s CPU, "
            f"peak RSS {rss:.0f} MB; {report['current_rows']:,} rows in the report, "
            f"{len(report.get('segments', []))} segments, "
            f"{len(report.get('multivariate', []))} multivariate checks")  # fmt: skip


def _mtime(path: Path) -> float:
    return path.stat().st_mtime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="5000000,50000000")
    parser.add_argument("--rows-engine", type=int, default=5_000_000)
    parser.add_argument("--tmp", default="/tmp")
    args = parser.parse_args()
    from driftloop.profiles import save_profile
    from driftloop.profiles.options import ProfileOptions
    from driftloop.profiles.reading import profile_source

    root = Path(tempfile.mkdtemp(prefix="driftloop-window-", dir=args.tmp))
    lines = []
    try:
        ref_data = root / "reference"
        ref_data.mkdir()
        generate(ref_data, 1_000_000, seed=0, regions_n=20)
        reference = save_profile(
            profile_source(str(ref_data), options=ProfileOptions(segment_by=("region",))),
            root / "reference.profile",
        )
        sizes = [int(n) for n in args.rows.split(",")]
        if args.rows_engine:
            lines.append(measure(root, reference, args.rows_engine, "rows"))
            print(lines[-1], flush=True)
        for rows in sizes:
            lines.append(measure(root, reference, rows, "streamed"))
            print(lines[-1], flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    results = HERE / "results" / "streamed_window.md"
    text = results.read_text() if results.exists() else "# current.engine streamed: big windows\n"
    block = [f"\n## {stamp}, 2 shared cores (`bench_streamed_window.py`)\n"]
    results.write_text(text + "\n".join(block + [f"- {line}" for line in lines]) + "\n")


if __name__ == "__main__":
    main()
