"""`driftloop profile build` on a big Parquet folder: time, peak memory, one vs two workers, DuckDB.

Generates ROWS rows x 10 numeric + 2 categorical columns as Parquet files of 1M-row row groups in
a temporary folder (under /tmp; deleted after), then, each in a fresh process, times:

- ``driftloop profile build FOLDER --workers 1`` and ``--workers 2``: wall seconds and the peak
  resident memory of the whole process tree (the command and its workers, sampled every 0.1 s);
- DuckDB's single pass over the same files (in its own virtual environment,
  ``benchmarks/.peers/duckdb``, made on first use, never a driftloop dependency): per numeric
  column count, nulls, min, max, mean and 99 approximate quantiles (``approx_quantile``), per
  categorical column its counts.

Then checks the builds: one and two workers give equal counts, extremes, moments and categories;
both agree with DuckDB's counts, nulls, extremes and category counts; and the exact ranks of each
build's quantiles (counted by DuckDB) stay within the sketch's rank error. Figures are printed
and written to ``benchmarks/results/profile_build.md``.

With ``--sql 1000000,4000000`` it instead seeds a scratch PostgreSQL database (127.0.0.1:5432)
with each number of rows of the same columns and builds the profile from the table in a fresh
process: time and peak RSS as the table grows (server-side batches keep it flat).

    python benchmarks/bench_profile_build.py [--rows 100000000] [--workers 1,2]
    python benchmarks/bench_profile_build.py --sql 1000000,4000000
    python benchmarks/bench_profile_build.py --segments 20 [--rows 100000000] [--workers 2]

With ``--segments K`` the region column takes K values and each build runs twice, alternated: as
above and with ``--segment-by region`` (one profile per region value besides the whole one):
wall, CPU and peak RSS of both and their ratio; then the segmented profile's per-region counts
are checked against the whole profile's region counts.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
NUMERIC = [f"num_{i}" for i in range(10)]
LABELS = ["region", "product"]
GROUP_ROWS = 1_000_000
FILE_ROWS = 10_000_000
DUCKDB_PIN = "duckdb==2.0.1"


def generate(folder: Path, rows: int, seed: int = 0, regions_n: int = 0) -> float:
    """Write ``rows`` rows as Parquet files of ``FILE_ROWS`` rows, 1M-row row groups; GB written.
    ``regions_n`` > 0: that many region values (the segment column), else five named ones."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    regions = np.array(["north", "south", "east", "west", "centre"])
    if regions_n:
        regions = np.array([f"region-{i:02d}" for i in range(regions_n)])
    products = np.array([f"sku-{i:04d}" for i in range(300)])
    weights = 1.0 / np.arange(1, 301)
    weights /= weights.sum()
    done = 0
    while done < rows:
        path = folder / f"part-{done // FILE_ROWS:04d}.parquet"
        with pq.ParquetWriter(path, _schema()) as writer:
            for _ in range(0, min(FILE_ROWS, rows - done), GROUP_ROWS):
                n = min(GROUP_ROWS, rows - done)
                writer.write_table(pa.table(_group(rng, n, regions, products, weights)))
                done += n
    return sum(p.stat().st_size for p in folder.iterdir()) / 1e9


def _schema():  # type: ignore[no-untyped-def]
    import pyarrow as pa

    fields = [pa.field(c, pa.int64() if c in ("num_7", "num_8") else pa.float64()) for c in NUMERIC]
    return pa.schema(fields + [pa.field(c, pa.string()) for c in LABELS])


def _group(rng, n, regions, products, weights):  # type: ignore[no-untyped-def]
    import pyarrow as pa

    cols = {
        "num_0": rng.normal(size=n),
        "num_1": rng.normal(50, 10, size=n),
        "num_2": rng.lognormal(size=n),
        "num_3": rng.exponential(2, size=n),
        "num_4": rng.uniform(-1, 1, size=n),
        "num_5": rng.gamma(2, 3, size=n),
        "num_6": rng.standard_t(4, size=n),
        "num_7": rng.poisson(3, size=n),  # integers, few distinct values
        "num_8": rng.integers(0, 1_000_000, size=n),
        "num_9": rng.beta(2, 5, size=n),
    }
    arrays = {c: pa.array(v) for c, v in cols.items()}
    missing = rng.random(n) < 0.01  # 1% nulls in num_0
    arrays["num_0"] = pa.array(cols["num_0"], mask=missing)
    arrays["region"] = pa.array(regions[rng.integers(0, len(regions), size=n)])
    arrays["product"] = pa.array(products[rng.choice(len(products), size=n, p=weights)])
    return arrays


def run_measured(args: list[str]) -> tuple[float, float, float, str]:
    """Run ``args``; wall seconds, CPU seconds (user + system, its workers included), peak RSS
    (MB) summed over its process tree, stdout."""
    import ctypes
    import resource

    # Adopt orphaned descendants (the workers' fork server outlives the command by a moment), so
    # that reaping them below counts their CPU time too.
    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0.0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], _tree_rss_mb(proc.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    seconds = time.perf_counter() - started
    stop.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args[:3])} failed: {err.strip()[-500:]}")
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            break
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return seconds, cpu, peak[0], out


def _tree_rss_mb(pid: int) -> float:
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total


def duckdb_python() -> Path:
    venv = HERE / ".peers" / "duckdb"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", DUCKDB_PIN], check=True)
    return python


def check(profiles: dict[int, object], duck: dict, folder: Path) -> list[str]:  # type: ignore[type-arg]
    """Equality of the builds with each other and with DuckDB; the quantiles' exact rank errors."""
    lines = []
    one, two = profiles.get(1), profiles.get(max(profiles))
    exact = True
    for a, b in zip(one.profiles, two.profiles, strict=True):  # type: ignore[attr-defined]
        same = (a.n_rows, a.n_null, a.n_inf) == (b.n_rows, b.n_null, b.n_inf)
        if a.numeric is not None:
            x, y = a.numeric, b.numeric
            same &= (x.count, x.minimum, x.maximum) == (y.count, y.minimum, y.maximum)
            same &= abs(x.mean - y.mean) <= 1e-9 * max(1.0, abs(x.mean))
            same &= abs(x.m2 - y.m2) <= 1e-9 * max(1.0, abs(x.m2))
        if a.labels is not None:
            same &= a.labels == b.labels
        exact &= same
    lines.append(
        f"1 vs {max(profiles)} workers: counts, extremes, moments, categories equal: {exact}"
    )
    agree = True
    for c in two.profiles:  # type: ignore[attr-defined]
        d = duck["columns"][c.name]
        if c.numeric is not None:
            agree &= (c.numeric.count, c.n_null) == (d["count"], d["nulls"])
            agree &= (c.numeric.minimum, c.numeric.maximum) == (float(d["min"]), float(d["max"]))
            agree &= abs(c.numeric.mean - d["mean"]) <= 1e-9 * max(1.0, abs(d["mean"]))
        else:
            labels, counts = c.labels.as_counts()
            agree &= dict(zip(labels, counts, strict=True)) == d["counts"]
    lines.append(f"driftloop vs DuckDB: counts, nulls, min, max, mean, categories equal: {agree}")
    lines += rank_errors(profiles, duck, folder)
    return lines


def rank_errors(profiles: dict[int, object], duck: dict, folder: Path) -> list[str]:  # type: ignore[type-arg]
    """The exact rank of each build's 99 quantiles (and DuckDB's), counted over the files one
    row group at a time: a value q answers rank r exactly when #(x < q) <= r n <= #(x <= q)."""
    import pyarrow.parquet as pq

    ranks = np.arange(1, 100) / 100
    sources = [str(w) for w in profiles] + ["duckdb"]
    wanted: dict[str, np.ndarray] = {}
    for name in NUMERIC:
        values = [
            p.column(name).numeric.quantile_sketch().get_quantiles(ranks)  # type: ignore[attr-defined]
            for p in profiles.values()
        ]
        values.append(np.asarray(duck["columns"][name]["quantiles"], dtype=np.float64))
        wanted[name] = np.concatenate([np.asarray(v, dtype=np.float64) for v in values])
    below = {n: np.zeros(v.size, dtype=np.int64) for n, v in wanted.items()}
    at_or_below = {n: np.zeros(v.size, dtype=np.int64) for n, v in wanted.items()}
    count = dict.fromkeys(NUMERIC, 0)
    for path in sorted(folder.glob("*.parquet")):
        file = pq.ParquetFile(path)
        for group in range(file.num_row_groups):
            table = file.read_row_group(group, columns=NUMERIC)
            for name in NUMERIC:
                chunk = np.sort(table[name].drop_null().to_numpy().astype(np.float64))
                below[name] += np.searchsorted(chunk, wanted[name], side="left")
                at_or_below[name] += np.searchsorted(chunk, wanted[name], side="right")
                count[name] += chunk.size
    worst = dict.fromkeys(sources, 0.0)
    for name in NUMERIC:
        lo = (below[name] / count[name]).reshape(len(sources), 99)
        hi = (at_or_below[name] / count[name]).reshape(len(sources), 99)
        error = np.maximum(0, np.maximum(lo - ranks, ranks - hi))
        for i, source in enumerate(sources):
            worst[source] = max(worst[source], float(error[i].max()))
    bound = next(iter(profiles.values())).column("num_0").rank_error  # type: ignore[attr-defined]
    lines = [f"sketch rank error bound (KLL k=1024, 99% one-sided): {bound:.4f}"]
    for source in sources:
        who = "DuckDB approx_quantile" if source == "duckdb" else f"driftloop, {source} worker(s)"
        lines.append(
            f"max rank error of {who} (10 numeric columns x 99 ranks): {worst[source]:.4f}"
        )
    return lines


def sql_series(sizes: list[int]) -> list[str]:
    """Profile build from a PostgreSQL table of each size, in a fresh process each."""
    import uuid

    import adbc_driver_postgresql.dbapi as adbc
    import psycopg
    import pyarrow as pa

    admin = "postgresql://root@127.0.0.1:5432/postgres"
    name = f"driftloop_bench_{uuid.uuid4().hex[:8]}"
    url = f"postgresql://root@127.0.0.1:5432/{name}"
    driftloop = Path(sys.executable).parent / "driftloop"
    lines = []
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        rng = np.random.default_rng(0)
        regions = np.array(["north", "south", "east", "west", "centre"])
        products = np.array([f"sku-{i:04d}" for i in range(300)])
        weights = np.full(300, 1 / 300)
        seeded = 0
        with tempfile.TemporaryDirectory() as folder:
            for rows in sorted(sizes):
                with adbc.connect(url) as conn, conn.cursor() as cursor:
                    while seeded < rows:
                        n = min(GROUP_ROWS, rows - seeded)
                        table = pa.table(_group(rng, n, regions, products, weights))
                        cursor.adbc_ingest("sales", table, mode="create_append")
                        seeded += n
                    conn.commit()
                out = Path(folder) / "sql.profile"
                cmd = [
                    str(driftloop),
                    "profile",
                    "build",
                    url,
                    "--table",
                    "sales",
                    "--out",
                    str(out),
                ]
                s, cpu, rss, _ = run_measured(cmd)
                lines.append(f"PostgreSQL table of {rows:,} rows: {s:.1f} s wall, {cpu:.1f} s CPU, "
                             f"peak RSS {rss:.0f} MB")  # fmt: skip
                print(lines[-1], flush=True)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--tmp", default="/tmp")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--sql", default="", help="PostgreSQL table sizes, e.g. 1000000,4000000")
    parser.add_argument("--segments", type=int, default=0, help="segmented build, K regions")
    args = parser.parse_args()
    if args.segments:
        lines = segmented(args)
        if not args.no_write:
            write(lines, f"{args.rows:,} rows segmented by a {args.segments}-value column")
        return
    if args.sql:
        lines = sql_series([int(n) for n in args.sql.split(",")])
        if not args.no_write:
            write(lines, f"PostgreSQL source, {args.sql.replace(',', ' and ')}")
        return
    from driftloop.profiles import load_profile

    counts = [int(w) for w in args.workers.split(",")]
    driftloop = Path(sys.executable).parent / "driftloop"
    folder = Path(tempfile.mkdtemp(prefix="driftloop-bench-", dir=args.tmp))
    lines = [f"rows: {args.rows:,} x {len(NUMERIC)} numeric + {len(LABELS)} categorical"]
    try:
        data, parquet = folder / "data", None
        data.mkdir()
        started = time.perf_counter()
        parquet = generate(data, args.rows)
        lines.append(
            f"generated {parquet:.2f} GB of Parquet in {time.perf_counter() - started:.0f} s"
        )
        print(lines[-1], flush=True)
        profiles: dict[int, object] = {}
        runs: dict[str, list[tuple[float, float, float]]] = {}
        duck: dict = {}  # type: ignore[type-arg]
        script = HERE / "peers" / "duckdb_profile.py"
        python = duckdb_python()
        for _ in range(args.repeats):  # alternated, so a change in the machine's load hits all
            for workers in counts:
                out = folder / f"w{workers}.profile"
                cmd = [str(driftloop), "profile", "build", str(data), "--out", str(out)]
                s, cpu, rss, _ = run_measured([*cmd, "--workers", str(workers)])
                runs.setdefault(f"driftloop profile build, {workers} worker(s)", []).append(
                    (s, cpu, rss)
                )
                profiles[workers] = load_profile(out)
                print(f"{workers} worker(s): {s:.1f} s wall, {cpu:.1f} s CPU", flush=True)
            s, cpu, rss, out = run_measured(
                [str(python), str(script), str(data), ",".join(NUMERIC), ",".join(LABELS)]
            )
            duck = json.loads(out.strip().splitlines()[-1])
            runs.setdefault("DuckDB single pass (2 threads)", []).append((s, cpu, rss))
            print(f"DuckDB: {s:.1f} s wall, {cpu:.1f} s CPU", flush=True)
        medians = {}
        for what, measured in runs.items():
            wall, cpu = (statistics.median(m[i] for m in measured) for i in (0, 1))
            medians[what] = (wall, cpu)
            lines.append(f"{what}: median {wall:.1f} s wall, {cpu:.1f} s CPU, "
                         f"peak RSS {max(m[2] for m in measured):.0f} MB "
                         f"(walls: {', '.join(f'{m[0]:.0f}' for m in measured)} s)")  # fmt: skip
        names = list(medians)
        if len(counts) > 1:
            one, two = medians[names[0]], medians[names[len(counts) - 1]]
            lines.append(f"speed-up {min(counts)} -> {max(counts)} workers (median wall): "
                         f"{one[0] / two[0]:.2f}x")  # fmt: skip
        best = min(medians[n][0] for n in names[:-1])
        best_cpu = min(medians[n][1] for n in names[:-1])
        lines.append(f"driftloop (best) / DuckDB: wall {best / medians[names[-1]][0]:.2f}, "
                     f"CPU {best_cpu / medians[names[-1]][1]:.2f}")  # fmt: skip
        lines += check(profiles, duck, data)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print("\n".join(lines))
    if not args.no_write:
        write(lines, f"{args.rows:,} rows")


def segmented(args: argparse.Namespace) -> list[str]:
    """The build with and without ``--segment-by region`` on the same files, alternated."""
    from driftloop.profiles import load_profile

    workers = max(int(w) for w in args.workers.split(","))
    driftloop = Path(sys.executable).parent / "driftloop"
    folder = Path(tempfile.mkdtemp(prefix="driftloop-bench-", dir=args.tmp))
    lines = [f"rows: {args.rows:,} x {len(NUMERIC)} numeric + {len(LABELS)} categorical; "
             f"region has {args.segments} values; {workers} worker(s)"]  # fmt: skip
    try:
        data = folder / "data"
        data.mkdir()
        started = time.perf_counter()
        parquet = generate(data, args.rows, regions_n=args.segments)
        lines.append(
            f"generated {parquet:.2f} GB of Parquet in {time.perf_counter() - started:.0f} s"
        )
        print(lines[-1], flush=True)
        runs: dict[str, list[tuple[float, float, float]]] = {}
        for _ in range(args.repeats):
            for extra in ([], ["--segment-by", "region"]):
                what = "segmented by region" if extra else "unsegmented"
                out = folder / f"{what.split()[0]}.profile"
                cmd = [str(driftloop), "profile", "build", str(data), "--out", str(out)]
                s, cpu, rss, _ = run_measured([*cmd, "--workers", str(workers), *extra])
                runs.setdefault(what, []).append((s, cpu, rss))
                print(f"{what}: {s:.1f} s wall, {cpu:.1f} s CPU, {rss:.0f} MB", flush=True)
        medians = {}
        for what, measured in runs.items():
            wall, cpu = (statistics.median(m[i] for m in measured) for i in (0, 1))
            medians[what] = (wall, cpu)
            lines.append(f"{what}: median {wall:.1f} s wall, {cpu:.1f} s CPU, "
                         f"peak RSS {max(m[2] for m in measured):.0f} MB")  # fmt: skip
        (w0, c0), (w1, c1) = medians["unsegmented"], medians["segmented by region"]
        lines.append(f"segmented / unsegmented: wall {w1 / w0:.2f}x, CPU {c1 / c0:.2f}x")
        whole = load_profile(folder / "unsegmented.profile")
        split = load_profile(folder / "segmented.profile")
        lines.append(_segment_counts_line(whole, split, args.segments))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print("\n".join(lines))
    return lines


def _segment_counts_line(whole, split, k: int) -> str:  # type: ignore[no-untyped-def]
    """Each region's segment profile counts exactly the whole profile's rows of that region."""
    labels, counts = whole.column("region").labels.as_counts()
    expected = dict(zip(labels, counts, strict=True))
    segments = split.segments["region"]
    got = {value: seg.n_rows for value, seg in segments.items()}
    equal = got == expected and len(got) == k
    return f"per-region row counts of the {len(got)} segment profiles equal the whole's: {equal}"


def write(lines: list[str], title: str) -> None:
    results = HERE / "results" / "profile_build.md"
    results.parent.mkdir(exist_ok=True)
    text = results.read_text() if results.exists() else "# profile build: big Parquet folders\n"
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    cores = len(os.sched_getaffinity(0))
    block = [f"\n## {title} ({stamp}, {cores} shared cores, `bench_profile_build.py`)\n"]
    block += [f"- {line}" for line in lines]
    results.write_text(text + "\n".join(block) + "\n")


if __name__ == "__main__":
    main()
