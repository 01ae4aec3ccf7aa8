"""Where users feel driftloop's speed, in one run: the engine against its sort floor, width, length,
whole-process CLI times and the loop's own times.

    python benchmarks/bench_speed.py [--quick] [--no-10m]

Sections (medians; same-run ratios, so a loaded machine shifts both sides alike):
- 1M x 25 (20 numeric + 5 categorical per side): the sort floor (each numeric column sorted and
  each categorical counted, per side, on a 2-thread pool like detect's), ``detect`` with the
  automatic choice and with ``method: ks``; target KS <= 2x the floor.
- width: 1,000 and 10,000 columns x 1,000 rows, seconds per column; target equal.
- length: 1M and 10M rows x 25 (fresh processes): seconds and peak RSS over the input's Arrow
  size; targets 10M <= 11x 1M, peak <= 2x the input (plus the interpreter).
- command line (fresh processes): ``driftloop --help``, ``config check``, ``detect`` on two
  10k-row CSVs; targets 0.3 s, 0.3 s, 0.8 s.
- the loop (fresh processes, the demo pipeline on SQLite): a no-drift window and a drift window
  with retrain + register + publish + alert on an existing MLflow store; targets 0.8 s and 3 s.
- with ``--peers``: NannyML 0.13.1's KS path on the same 20 numeric columns, in its own virtual
  environment (``benchmarks/.peers/nannyml``, made with pip on first use), beside driftloop's
  ``method: ks`` on the same columns.
Results are also written to ``benchmarks/results/speed.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_detect import build  # noqa: E402

PY = sys.executable
DRIFTLOOP = str(Path(PY).with_name("driftloop"))


def median_seconds(fn: Any, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def sort_floor(ref: Any, cur: Any) -> None:
    """Sort each numeric column (Polars' sort, the fastest here) and count each categorical one,
    per side, on two threads: the least any exact check must do."""

    def one(name: str) -> None:
        for side in (ref, cur):
            column = side[name]
            if column.dtype.is_numeric():
                column.sort()
            else:
                column.value_counts()

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(one, ref.columns))


def engine(repeats: int) -> dict[str, float]:
    import driftloop

    ref, cur = build(1_000_000, 1)
    floor = median_seconds(lambda: sort_floor(ref, cur), repeats)
    auto = median_seconds(lambda: driftloop.detect(ref, cur), repeats)
    ks = median_seconds(lambda: driftloop.detect(ref, cur, config={"method": "ks"}), repeats)
    return {"sort_floor_s": floor, "auto_s": auto, "ks_s": ks, "ks_over_floor": ks / floor}


def width(repeats: int) -> dict[str, float]:
    import numpy as np
    import polars as pl

    import driftloop

    out = {}
    for n_columns in (1_000, 10_000):
        rng = np.random.default_rng(0)
        names = [f"c{i}" for i in range(n_columns)]
        ref = pl.DataFrame(rng.normal(size=(1_000, n_columns)), schema=names)
        cur = pl.DataFrame(rng.normal(size=(1_000, n_columns)), schema=names)
        seconds = median_seconds(lambda r=ref, c=cur: driftloop.detect(r, c), repeats)
        out[f"ms_per_column_{n_columns}"] = 1000 * seconds / n_columns
    return out


_LENGTH = """
import json, resource, sys, time
sys.path.insert(0, {here!r})
from bench_detect import build
import driftloop
ref, cur = build({rows}, 1)
arrow = ref.to_arrow().nbytes + cur.to_arrow().nbytes
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
t = time.perf_counter(); driftloop.detect(ref, cur); seconds = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({{"seconds": seconds, "arrow_bytes": arrow, "rss_before": before, "peak": peak}}))
"""


def length(rows: int) -> dict[str, float]:
    code = _LENGTH.format(here=str(HERE), rows=rows)
    done = subprocess.run([PY, "-c", code], capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def whole_process(args: list[str], repeats: int, **kwargs: Any) -> float:
    def once() -> None:
        subprocess.run(args, capture_output=True, check=True, **kwargs)

    once()  # warm the file cache
    return median_seconds(once, repeats)


def command_line(folder: Path, repeats: int) -> dict[str, float]:
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(0)
    for name, shift in (("ref", 0.0), ("cur", 0.1)):
        columns: dict[str, Any] = {f"x{i}": rng.normal(shift, size=10_000) for i in range(10)}
        columns["c"] = rng.choice(["a", "b", "c"], size=10_000)
        pl.DataFrame(columns).write_csv(folder / f"{name}.csv")
    config = loop_folder(folder / "loop") / "driftloop.yaml"
    return {
        "help_s": whole_process([DRIFTLOOP, "--help"], repeats),
        "config_check_s": whole_process(
            [DRIFTLOOP, "config", "check", "--config", str(config)], repeats
        ),
        "detect_10k_csv_s": whole_process(
            [DRIFTLOOP, "detect", str(folder / "ref.csv"), str(folder / "cur.csv")], repeats
        ),
    }


def loop_folder(root: Path) -> Path:
    if (root / "driftloop.yaml").exists():
        return root
    import yaml

    from driftloop.data.sources import filter_window
    from driftloop.data.synthetic import bike_sharing
    from driftloop.data.warehouse import Warehouse
    from driftloop.demo import demo_config, month

    (root / "data").mkdir(parents=True)
    bikes = bike_sharing()
    bikes.write_csv(root / "data" / "day.csv")
    raw = demo_config(root)
    (root / "driftloop.yaml").write_text(yaml.safe_dump(raw))
    reference = filter_window(bikes, "dteday", *month(2011, 1))
    Warehouse(raw["stores"]["warehouse"]).seed(reference, table="reference", if_exists="replace")
    return root


def run_once(config: Path, start: str, end: str) -> float:
    args = [DRIFTLOOP, "run", "--config", str(config), "--start", start, "--end", end]
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"driftloop run failed: {done.stderr.strip()}")
    return seconds


def the_loop(folder: Path) -> dict[str, float]:
    config = loop_folder(folder / "loop") / "driftloop.yaml"
    no_drift = [run_once(config, f"2011-01-{d:02d}", f"2011-01-{d + 6:02d}") for d in (1, 8, 15)]
    run_once(config, "2011-03-01", "2011-03-31")  # creates the MLflow store and v1
    drift = [run_once(config, f"2011-{m:02d}-01", f"2011-{m:02d}-28") for m in (4, 5, 6)]
    return {"no_drift_run_s": statistics.median(no_drift), "drift_run_s": statistics.median(drift)}


def peers(folder: Path, repeats: int) -> dict[str, float]:
    import numpy as np

    import driftloop

    ref, cur = build(1_000_000, 1)
    numeric = [c for c in ref.columns if c.startswith("num_")]
    np.save(folder / "ref.npy", ref.select(numeric).to_numpy())
    np.save(folder / "cur.npy", cur.select(numeric).to_numpy())
    r, c = ref.select(numeric), cur.select(numeric)
    ours = median_seconds(lambda: driftloop.detect(r, c, config={"method": "ks"}), repeats)
    venv = HERE / ".peers" / "nannyml"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pins = ["nannyml==0.13.1", "statsmodels"]  # NannyML imports statsmodels undeclared
        subprocess.run([str(python), "-m", "pip", "install", "-q", *pins], check=True)
    script = HERE / "peers" / "nannyml_ks.py"
    done = subprocess.run([str(python), str(script), str(folder)], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"NannyML run failed: {done.stderr.strip()[-300:]}")
    theirs = json.loads(done.stdout.strip().splitlines()[-1])
    return {"driftloop_ks_s": ours, "nannyml_fit_s": theirs["fit_s"],
            "nannyml_calculate_s": theirs["calculate_s"]}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--no-10m", action="store_true", help="skip the 10M-row run (~4 GB)")
    parser.add_argument("--peers", action="store_true", help="also time NannyML's KS path")
    args = parser.parse_args()
    repeats = 1 if args.quick else 3
    results: dict[str, Any] = {"cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        results["engine_1m_x_25"] = engine(repeats)
        results["width_1000_rows"] = width(repeats)
        results["length_1m"] = length(1_000_000)
        if not args.no_10m:
            results["length_10m"] = length(10_000_000)
        results["command_line"] = command_line(folder, 3 if args.quick else 5)
        results["loop"] = the_loop(folder)
        if args.peers:
            results["peers"] = peers(folder, repeats)
    report(results)
    out = HERE / "results" / "speed.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")


def report(r: dict[str, Any]) -> None:
    e, w = r["engine_1m_x_25"], r["width_1000_rows"]
    print("engine, 1M rows x 25 columns per side (median s)")
    print(f"  sort floor {e['sort_floor_s']:.3f}   auto {e['auto_s']:.3f}   ks {e['ks_s']:.3f}")
    print(f"  ks / floor {e['ks_over_floor']:.2f}  (target <= 2)")
    print("width, 1,000 rows: ms per column")
    print(f"  1,000 columns {w['ms_per_column_1000']:.3f}   10,000 {w['ms_per_column_10000']:.3f}")
    one = r["length_1m"]
    print("length (fresh processes)")
    print(f"  1M:  {one['seconds']:.2f} s, input {one['arrow_bytes'] / 2**30:.2f} GiB Arrow")
    if "length_10m" in r:
        ten = r["length_10m"]
        print(f"  10M: {ten['seconds']:.2f} s = {ten['seconds'] / one['seconds']:.1f}x the 1M time")
        for label, row in (("1M", one), ("10M", ten)):
            ratio = row["peak"] / row["arrow_bytes"]
            print(f"  {label}: peak RSS {row['peak'] / 2**30:.2f} GiB = {ratio:.2f}x the input")
    c, lp = r["command_line"], r["loop"]
    print("command line, whole process (median s)")
    print(f"  --help {c['help_s']:.2f}   config check {c['config_check_s']:.2f}   "
          f"detect 10k-row CSVs {c['detect_10k_csv_s']:.2f}")  # fmt: skip
    print("the loop, whole process (median s)")
    print(f"  no-drift run {lp['no_drift_run_s']:.2f}   drift + retrain + publish + alert "
          f"{lp['drift_run_s']:.2f}")  # fmt: skip
    if "peers" in r:
        p = r["peers"]
        print("KS on the 20 numeric columns, 1M rows per side (median s)")
        print(f"  driftloop (whole check) {p['driftloop_ks_s']:.2f}   NannyML 0.13.1 fit "
              f"{p['nannyml_fit_s']:.2f} + calculate {p['nannyml_calculate_s']:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
