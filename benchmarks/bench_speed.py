"""Where users feel driftloop's speed, in one run: the engine against its sort floor, width, length,
whole-process CLI times and the loop's own times.

    python benchmarks/bench_speed.py [--quick] [--no-10m]

Sections (medians; same-run ratios, so a loaded machine shifts both sides alike):
- 1M x 25 (20 numeric + 5 categorical per side): the sort floor (each numeric column sorted by
  numpy and each categorical counted by Polars, per side, on a 2-thread pool like detect's),
  ``detect`` with the automatic choice and with ``method: ks``; target KS <= 2x the floor.
- width: 1,000 and 10,000 columns x 1,000 rows, seconds per column; target equal. And 100k rows x
  1,000 columns with one worker and with two: target two clearly faster.
- length: 1M and 10M rows x 25 (fresh processes): seconds, and the process's peak RSS during
  ``detect`` (the peak is reset after the data are built) over the input's Arrow size; targets
  10M <= 11x 1M, peak <= 2x the input.
- command line (fresh processes): ``driftloop --help``, ``config check``, ``detect`` on two
  10k-row CSVs; targets 0.3 s, 0.3 s, 0.8 s.
- the loop (fresh processes, the demo pipeline on SQLite): a no-drift window and a drift window
  with retrain + register + publish + alert on an existing MLflow store; targets 0.8 s and 3 s.
- with ``--peers``: the KS path (or default drift path) of NannyML, Alibi Detect, Frouros, whylogs
  and Evidently on the same 20 numeric columns of the same 1M-row data, each in its own virtual
  environment (``benchmarks/.peers/<name>``, made with uv or pip on first use; never driftloop's
  dependencies), beside driftloop's ``method: ks`` on the same columns: the whole check, and
  ``prepare`` (the reference reduced once, as the peers' "fit") + ``detect`` against it.
Results are written to ``benchmarks/results/speed.json`` and ``speed.md``.
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
    """Sort each numeric column (numpy's vectorised sort, the fastest here) and count each
    categorical one (Polars), per side, on two threads: the least any exact check must do."""
    import numpy as np

    def one(name: str) -> None:
        for side in (ref, cur):
            column = side[name]
            if column.dtype.is_numeric():
                np.sort(column.to_numpy())
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
    rng = np.random.default_rng(0)
    names = [f"c{i}" for i in range(1_000)]
    ref = pl.DataFrame(rng.normal(size=(100_000, 1_000)), schema=names)
    cur = pl.DataFrame(rng.normal(0.01, size=(100_000, 1_000)), schema=names)
    for workers in (1, 2):
        config = {"workers": workers}
        out[f"wide_100k_x_1000_workers_{workers}_s"] = median_seconds(
            lambda c=config: driftloop.detect(ref, cur, config=c), repeats
        )
    return out


_LENGTH = """
import gc, json, sys, time
sys.path.insert(0, {here!r})
from bench_detect import build
import driftloop
def rss(key):  # bytes, from /proc (Linux)
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024
ref, cur = build({rows}, 1)
gc.collect()
arrow = ref.to_arrow().nbytes + cur.to_arrow().nbytes
before = rss("VmRSS:")
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # resets the peak (VmHWM): building the data peaked higher than detect
t = time.perf_counter(); driftloop.detect(ref, cur); seconds = time.perf_counter() - t
peak = rss("VmHWM:")
print(json.dumps({{"seconds": seconds, "arrow_bytes": arrow, "rss_before": before, "peak": peak}}))
"""


def length(rows: int) -> dict[str, float]:
    code = _LENGTH.format(here=str(HERE), rows=rows)
    done = subprocess.run([PY, "-c", code], capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def sort_growth() -> float:
    """numpy's sort of one column, 10M values over 1M (the floor of an exact read's growth)."""
    import numpy as np

    rng = np.random.default_rng(0)
    one, ten = rng.normal(size=1_000_000), rng.normal(size=10_000_000)
    return median_seconds(lambda: np.sort(ten), 3) / median_seconds(lambda: np.sort(one), 3)


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


# name: (pinned packages, script in benchmarks/peers/, what its two timed parts include)
PEERS: dict[str, tuple[list[str], str, str]] = {
    "nannyml": (
        ["nannyml==0.13.1", "statsmodels==0.15.0"],  # NannyML imports statsmodels undeclared
        "nannyml_ks.py",
        "UnivariateDriftCalculator(kolmogorov_smirnov), one chunk. From 10k reference rows on, "
        "fit bins the reference into 10,000 equal-width bins and calculate bins the window the "
        "same way: an approximate KS statistic at the bin edges, no sort, no p-value",
    ),
    "alibi_detect": (
        ["alibi-detect==0.13.0"],
        "alibi_detect_ks.py",
        "KSDrift: fit stores the reference; predict runs scipy ks_2samp per feature",
    ),
    "frouros": (
        ["frouros==0.9.0"],
        "frouros_ks.py",
        "KSTest per column: fit stores the reference; compare runs scipy ks_2samp",
    ),
    "whylogs": (
        ["whylogs==1.6.4", "pandas==3.1.1", "scipy==1.17.1", "ipython==9.18.1"],  # viz needs them
        "whylogs_drift.py",
        "why.log(reference) as fit; why.log(window) + calculate_drift_scores (KS on KLL sketches)",
    ),
    "evidently": (
        ["evidently==0.7.23", "pandas==2.3.3"],  # evidently 0.7.23 fails to import with pandas 3
        "evidently_ks.py",
        "Report([DataDriftPreset(method='ks')]).run: no separate fit; scipy ks_2samp per column",
    ),
}


def peer_python(name: str, packages: list[str]) -> Path:
    """The peer's own virtual environment (made on first use), never driftloop's."""
    venv = HERE / ".peers" / name
    python = venv / "bin" / "python"
    if not python.exists():
        import shutil

        if shutil.which("uv"):
            subprocess.run(["uv", "venv", "-q", str(venv), "--python", "3.11"], check=True)
            env = {**os.environ, "VIRTUAL_ENV": str(venv)}
            subprocess.run(["uv", "pip", "install", "-q", *packages], check=True, env=env)
        else:
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            subprocess.run([str(python), "-m", "pip", "install", "-q", *packages], check=True)
    return python


def run_peer(name: str, folder: Path) -> dict[str, Any]:
    packages, script, _ = PEERS[name]
    try:
        python = peer_python(name, packages)
    except subprocess.CalledProcessError as err:
        return {"error": f"install failed: {err}"}
    env = {**os.environ, "NML_DISABLE_USAGE_LOGGING": "1", "DO_NOT_TRACK": "1"}
    try:
        done = subprocess.run(
            [str(python), str(HERE / "peers" / script), str(folder)],
            capture_output=True, text=True, timeout=1800, env=env,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return {"error": "over 30 minutes"}
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1][-300:]}
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def peers(folder: Path, repeats: int) -> dict[str, Any]:
    import numpy as np

    import driftloop
    from driftloop.drift.detection import prepare

    ref, cur = build(1_000_000, 1)
    numeric = [c for c in ref.columns if c.startswith("num_")]
    np.save(folder / "ref.npy", ref.select(numeric).to_numpy())
    np.save(folder / "cur.npy", cur.select(numeric).to_numpy())
    r, c = ref.select(numeric), cur.select(numeric)
    ks = {"method": "ks"}
    prepared = prepare(r, config=ks)
    out: dict[str, Any] = {
        "driftloop": {
            "whole_s": median_seconds(lambda: driftloop.detect(r, c, config=ks), repeats),
            "fit_s": median_seconds(lambda: prepare(r, config=ks), repeats),
            "calculate_s": median_seconds(
                lambda: driftloop.detect(prepared, c, config=ks), repeats
            ),
        }
    }
    for name in PEERS:
        out[name] = run_peer(name, folder)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--no-10m", action="store_true", help="skip the 10M-row run (~4 GB)")
    parser.add_argument("--peers", action="store_true", help="also time the peers' KS paths")
    parser.add_argument(
        "--only-peers", action="store_true", help="only the peers section (merged into the JSON)"
    )
    args = parser.parse_args()
    repeats = 1 if args.quick else 3
    out = HERE / "results" / "speed.json"
    results: dict[str, Any] = {"cpus": os.cpu_count()}
    if args.only_peers:
        results = json.loads(out.read_text())
        with tempfile.TemporaryDirectory() as tmp:
            results["peers"] = peers(Path(tmp), repeats)
        return finish(results, out)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        results["engine_1m_x_25"] = engine(repeats)
        results["width_1000_rows"] = width(repeats)
        results["length_1m"] = length(1_000_000)
        if not args.no_10m:
            results["length_10m"] = length(10_000_000)
            results["sort_growth"] = sort_growth()
        results["command_line"] = command_line(folder, 3 if args.quick else 5)
        results["loop"] = the_loop(folder)
        if args.peers:
            results["peers"] = peers(folder, repeats)
    finish(results, out)


def finish(results: dict[str, Any], out: Path) -> None:
    report(results)
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    out.with_suffix(".md").write_text(markdown(results))


def report(r: dict[str, Any]) -> None:
    e, w = r["engine_1m_x_25"], r["width_1000_rows"]
    print("engine, 1M rows x 25 columns per side (median s)")
    print(f"  sort floor {e['sort_floor_s']:.3f}   auto {e['auto_s']:.3f}   ks {e['ks_s']:.3f}")
    print(f"  ks / floor {e['ks_over_floor']:.2f}  (target <= 2)")
    print("width, 1,000 rows: ms per column")
    print(f"  1,000 columns {w['ms_per_column_1000']:.3f}   10,000 {w['ms_per_column_10000']:.3f}")
    print(f"  100k rows x 1,000 columns: one worker {w['wide_100k_x_1000_workers_1_s']:.2f} s, "
          f"two workers {w['wide_100k_x_1000_workers_2_s']:.2f} s")  # fmt: skip
    one = r["length_1m"]
    print("length (fresh processes)")
    print(f"  1M:  {one['seconds']:.2f} s, input {one['arrow_bytes'] / 2**30:.2f} GiB Arrow")
    if "length_10m" in r:
        ten = r["length_10m"]
        print(f"  10M: {ten['seconds']:.2f} s = {ten['seconds'] / one['seconds']:.1f}x the 1M time")
        if "sort_growth" in r:
            print(
                f"  (numpy's sort of one column alone: 10M = {r['sort_growth']:.1f}x its 1M time)"
            )
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
        print("KS on the 20 numeric columns, 1M rows per side (median s): fit + calculate")
        for name, row in r["peers"].items():
            if "error" in row:
                print(f"  {name:<13} did not run: {row['error']}")
            else:
                total = row["fit_s"] + row["calculate_s"]
                print(
                    f"  {name:<13} {row['fit_s']:7.2f} + {row['calculate_s']:7.2f} = {total:7.2f}"
                )


def markdown(r: dict[str, Any]) -> str:
    """The figures as a readable page (benchmarks/results/speed.md)."""
    e, w = r["engine_1m_x_25"], r["width_1000_rows"]
    lines = [
        "# driftloop speed (bench_speed.py)",
        "",
        f"{r['cpus']} cores, shared; medians; same-run ratios are the figures to compare.",
        "",
        "## Engine, 1M rows x 25 columns per side",
        "",
        "| sort floor | detect (auto) | detect (`method: ks`) | ks / floor |",
        "|---:|---:|---:|---:|",
        f"| {e['sort_floor_s']:.2f} s | {e['auto_s']:.2f} s | {e['ks_s']:.2f} s "
        f"| {e['ks_over_floor']:.2f} |",
        "",
        "## Width",
        "",
        "| 1,000 rows x 1,000 cols | 1,000 rows x 10,000 cols "
        "| 100k x 1,000, one worker | 100k x 1,000, two workers |",
        "|---:|---:|---:|---:|",
        f"| {w['ms_per_column_1000']:.2f} ms/col | {w['ms_per_column_10000']:.2f} ms/col "
        f"| {w['wide_100k_x_1000_workers_1_s']:.2f} s "
        f"| {w['wide_100k_x_1000_workers_2_s']:.2f} s |",
        "",
    ]
    lines += _length_md(r)
    if "command_line" in r:
        c, lp = r["command_line"], r["loop"]
        lines += [
            "## Command line and loop (whole processes, median s)",
            "",
            "| `--help` | `config check` | `detect` 10k-row CSVs | no-drift run | drift run |",
            "|---:|---:|---:|---:|---:|",
            f"| {c['help_s']:.2f} | {c['config_check_s']:.2f} | {c['detect_10k_csv_s']:.2f} "
            f"| {lp['no_drift_run_s']:.2f} | {lp['drift_run_s']:.2f} |",
            "",
        ]
    lines += _peers_md(r)
    return "\n".join(lines) + "\n"


def _length_md(r: dict[str, Any]) -> list[str]:
    rows = [("1M", r["length_1m"])] + ([("10M", r["length_10m"])] if "length_10m" in r else [])
    one = r["length_1m"]["seconds"]
    out = [
        "## Length (fresh processes, `detect` with the automatic choice)",
        "",
        "| rows x 25 | seconds | x the 1M time | input (Arrow) | peak RSS in detect "
        "| peak / input |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, row in rows:
        out.append(
            f"| {label} | {row['seconds']:.2f} | {row['seconds'] / one:.1f} "
            f"| {row['arrow_bytes'] / 2**30:.2f} GiB | {row['peak'] / 2**30:.2f} GiB "
            f"| {row['peak'] / row['arrow_bytes']:.2f} |"
        )
    if "sort_growth" in r:
        out += [
            "",
            f"numpy's sort of one column alone, same machine: 10M = {r['sort_growth']:.1f}x its "
            "1M time (the floor of an exact read: n log n, and 80 MB columns leave the cache).",
        ]
    return [*out, ""]


def _peers_md(r: dict[str, Any]) -> list[str]:
    if "peers" not in r:
        return []
    out = [
        "## KS side by side: 20 numeric columns, 1M rows per side, same data (median of 3)",
        "",
        "| tool | fit / reference prep (s) | calculate (s) | total (s) | what each part includes |",
        "|---|---:|---:|---:|---|",
    ]
    what = {name: spec[2] for name, spec in PEERS.items()}
    what["driftloop"] = (
        "`prepare(reference)` sorts each column once (both cores); `detect(prepared, window, "
        "method: ks)` sorts the window, exact KS statistic and p-value, degradation checks, "
        "histograms. Whole check on frames (no prepare): "
        f"{r['peers']['driftloop']['whole_s']:.2f} s"
    )
    for name, row in r["peers"].items():
        if "error" in row:
            out.append(f"| {name} | - | - | - | did not run: {row['error']} |")
            continue
        total = row["fit_s"] + row["calculate_s"]
        out.append(
            f"| {name} | {row['fit_s']:.2f} | {row['calculate_s']:.2f} | {total:.2f} "
            f"| {what[name]} |"
        )
    return [*out, ""]


if __name__ == "__main__":
    main()
