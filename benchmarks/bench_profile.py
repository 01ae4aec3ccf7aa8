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

from bench_detect import build

METHODS = ("auto", "ks", "wasserstein", "psi", "jensenshannon")


def median_seconds(fn, repeats: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def compare(rows: int, repeats: int) -> None:
    import driftloop
    from driftloop.profiles import load_profile, profile, save_profile

    ref, cur = build(rows, 0)
    started = time.perf_counter()
    ref_profile = profile(ref)
    print(f"build: {time.perf_counter() - started:.2f} s for {rows:,} x {ref.width}")
    with tempfile.TemporaryDirectory() as folder:
        path = save_profile(ref_profile, Path(folder) / "reference.profile")
        print(f"file: {path.stat().st_size / 1e6:.3f} MB")
        ref_profile = load_profile(path)
    cur_profile = profile(cur)
    for method in METHODS:
        config = {"method": method}
        exact = driftloop.detect(ref, cur, config=config)
        from_profile = driftloop.detect(ref_profile, cur, config=config)
        both = driftloop.detect(ref_profile, cur_profile, config=config)
        errors = [
            abs(r.column(e.name).statistic - e.statistic)
            for e in exact.columns
            for r in (from_profile, both)
        ]
        agree = all(
            r.column(e.name).drifted == e.drifted
            for e in exact.columns
            for r in (from_profile, both)
        )
        line = f"{method:>13}: verdicts agree {agree}, max |error| {max(errors):.4f}"
        if method == "auto":
            t_frames = median_seconds(lambda: driftloop.detect(ref, cur), repeats)
            t_profile = median_seconds(lambda: driftloop.detect(ref_profile, cur), repeats)
            t_both = median_seconds(lambda: driftloop.detect(ref_profile, cur_profile), repeats)
            line += (
                f"; detect median: frames {t_frames:.3f} s, profile vs frame {t_profile:.3f} s, "
                f"profile vs profile {t_both:.3f} s"
            )
        print(line)


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
    parser.add_argument("--rss-child", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        build_rss(args.rss_child)
        return
    compare(args.rows, args.repeats)
    print("profile build from Parquet, batch by batch (fresh process each):")
    rss_series([args.rows // 4, args.rows, 4 * args.rows])


if __name__ == "__main__":
    main()
