"""Reference profiles on the 1M x 25 benchmark: build time, file size, detect time, agreement.

Builds the seeded frames of ``bench_detect.build``, profiles the reference (and the current
window), saves and reloads the reference profile, then compares ``detect`` from the profile with
``detect`` from the frames: median seconds, the largest statistic error per method, and whether
every column's verdict agrees. Then profiles a Parquet file of growing size batch by batch
(``driftloop profile build``'s reader) in a fresh process each, printing its peak RSS.

    python benchmarks/bench_profile.py [--rows 1000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
import polars as pl
from bench_detect import build

from driftloop.profiles import Profile

METHODS = ("ks", "wasserstein", "psi", "jensenshannon", "chisquare", "ztest")


def median_seconds(fn, repeats: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def median_cpu_seconds(fn, repeats: int) -> float:  # type: ignore[no-untyped-def]
    """Median CPU seconds of ``fn`` over every thread of this process: on a loaded machine the
    wall time mostly measures the other processes; the CPU time is the work done."""
    times = []
    for _ in range(repeats):
        started = time.process_time()
        fn()
        times.append(time.process_time() - started)
    return statistics.median(times)


def frames(rows: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``bench_detect.build``'s 1M x 25 frames and a flag column (binary: for the z-test)."""
    ref, cur = build(rows, 0)
    rng = np.random.default_rng(1)
    ref = ref.with_columns(flag=pl.Series(rng.random(rows) < 0.30))
    cur = cur.with_columns(flag=pl.Series(rng.random(rows) < 0.31))
    return ref, cur


def build_and_size(ref: pl.DataFrame) -> Profile:
    """The reference profile, timed, saved and loaded back (its size printed)."""
    from driftloop.profiles import load_profile, profile, save_profile

    started = time.perf_counter()
    built = profile(ref)
    print(f"build: {time.perf_counter() - started:.2f} s for {ref.height:,} x {ref.width}")
    with tempfile.TemporaryDirectory() as folder:
        path = save_profile(built, Path(folder) / "reference.profile")
        print(f"file: {path.stat().st_size / 1e6:.3f} MB")
        return load_profile(path)


def detect_times(ref: pl.DataFrame, cur: pl.DataFrame, ref_profile: Profile, repeats: int) -> None:
    """Median seconds of ``detect`` (method auto): frames, a profile against the current frame,
    two profiles; and the profile-vs-frame detect with the frame read as the frames' detect reads
    it (sorted by Polars, every value kept), to show what ``profiles/facing.py`` saves."""
    import driftloop
    from driftloop.drift import frames as engine_frames
    from driftloop.profiles import facing, profile

    cur_profile = profile(cur)
    t_frames = median_seconds(lambda: driftloop.detect(ref, cur), repeats)
    t_profile = median_seconds(lambda: driftloop.detect(ref_profile, cur), repeats)
    t_both = median_seconds(lambda: driftloop.detect(ref_profile, cur_profile), repeats)
    own = facing.FacingColumn.sample
    facing.FacingColumn.sample = lambda self, family, **kw: engine_frames.to_sample(  # type: ignore[method-assign]
        self.series, family, **kw
    )
    try:
        t_polars = median_seconds(lambda: driftloop.detect(ref_profile, cur), repeats)
    finally:
        facing.FacingColumn.sample = own  # type: ignore[method-assign]
    cpu_frames = median_cpu_seconds(lambda: driftloop.detect(ref, cur), repeats)
    cpu_profile = median_cpu_seconds(lambda: driftloop.detect(ref_profile, cur), repeats)
    numbers = [s.to_numpy() for s in cur.get_columns() if s.dtype == pl.Float64]
    t_sort = median_seconds(lambda: [np.sort(v) for v in numbers], repeats)
    print(
        f"detect median ({repeats} runs): frames {t_frames:.3f} s; profile vs frame "
        f"{t_profile:.3f} s (the frame read as for frames: {t_polars:.3f} s); "
        f"profile vs profile {t_both:.3f} s; numpy sort of the frame's {len(numbers)} numeric "
        f"columns, one thread: {t_sort:.3f} s"
    )
    print(
        f"detect median CPU seconds (both threads): frames {cpu_frames:.3f} s, profile vs frame "
        f"{cpu_profile:.3f} s"
    )


def error_table(ref: pl.DataFrame, cur: pl.DataFrame, ref_profile: Profile) -> None:
    """Per method: the largest |statistic from profiles - exact statistic| over the columns the
    method tests, next to the column's reported ``statistic_error`` (the bound,
    :mod:`driftloop.drift.sketch_error`), and whether every verdict agrees."""
    import driftloop
    from driftloop.profiles import profile

    cur_profile = profile(cur)
    print(
        f"{'method':>13} {'columns':>7} {'max |error|':>11} {'max bound':>9} "
        f"{'worst error/bound':>17} verdicts {'uncertain':>9}"
    )
    labels = [c for c in ref.columns if c.startswith("cat_")]
    # forced on every column, chi-square would count 1M distinct numbers as categories
    only = {"chisquare": labels, "ztest": ["flag"]}
    for method in METHODS:
        config, columns = {"method": method}, only.get(method)
        exact = driftloop.detect(ref, cur, columns=columns, config=config)
        worst, bound_max, ratio, agree, n, uncertain = 0.0, 0.0, 0.0, True, 0, 0
        for side in (
            driftloop.detect(ref_profile, cur, columns=columns, config=config),
            driftloop.detect(ref_profile, cur_profile, columns=columns, config=config),
        ):
            for e in exact.columns:
                if e.method != method:
                    continue
                s = side.column(e.name)
                error = abs(s.statistic - e.statistic)
                bound = s.statistic_error
                worst, bound_max = max(worst, error), max(bound_max, bound)
                ratio = max(ratio, error / bound if bound else (0.0 if error == 0 else np.inf))
                agree &= s.drifted == e.drifted
                uncertain += "other verdict" in (s.warning or "")
                n += 1
        print(
            f"{method:>13} {n // 2:>7} {worst:>11.5f} {bound_max:>9.5f} {ratio:>17.2f} "
            f"{'agree' if agree else 'DIFFER':>8} {uncertain:>9}"
        )


def compare(rows: int, repeats: int) -> None:
    ref, cur = frames(rows)
    ref_profile = build_and_size(ref)
    detect_times(ref, cur, ref_profile, repeats)
    error_table(ref, cur, ref_profile)


def build_rss(path: str) -> None:
    """In a fresh process: profile the Parquet file at ``path`` batch by batch; print the peak."""
    from driftloop.profiles.reading import profile_source

    started = time.perf_counter()
    result = profile_source(path)
    seconds = time.perf_counter() - started
    print(f"  {result.height:>10,} rows: {seconds:.2f} s, peak RSS {peak_rss_mb():.0f} MB")


def peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM; ru_maxrss would include the parent's at fork)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_series(sizes: list[int]) -> None:
    """Write the reference at each size as Parquet (100k-row groups), profile it in a child."""
    with tempfile.TemporaryDirectory() as folder:
        for rows in sizes:
            path = Path(folder) / f"reference-{rows}.parquet"
            ref, _ = build(rows, 0)
            ref.write_parquet(path, row_group_size=100_000)
            del ref
            subprocess.run([sys.executable, __file__, "--rss-child", str(path)], check=True)
            path.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-rss", action="store_true", help="skip the peak-RSS series")
    parser.add_argument("--rss-child", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        build_rss(args.rss_child)
        return
    compare(args.rows, args.repeats)
    if args.no_rss:
        return
    print("profile build from Parquet, batch by batch (fresh process each):")
    rss_series([args.rows // 4, args.rows, 4 * args.rows])


if __name__ == "__main__":
    main()
