"""Speed of ``driftloop.detect`` against a plain scipy loop, 1M rows x 25 columns per side.

Each contender runs in a fresh process (so peak RSS is its own): it builds the same seeded data
(20 numerical + 5 categorical columns, 6 of them shifted), then times its drift check several
times. Prints median seconds, peak RSS and the ratio. Targets on a 2-core machine: driftloop
≤ 1.0 s median, ≤ 2 GB peak, ≥ 3x faster than the scipy loop.

    python benchmarks/bench_detect.py [--rows 1000000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

import numpy as np
import polars as pl

N_NUMERIC, N_CATEGORICAL = 20, 5


def build(rows: int, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Reference and current frames; columns num_00..num_04 and cat_0 are shifted."""
    rng = np.random.default_rng(seed)
    labels = np.array(["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta"])
    p_ref = np.array([0.3, 0.2, 0.15, 0.12, 0.1, 0.08, 0.05])
    p_cur = np.array([0.2, 0.2, 0.15, 0.12, 0.1, 0.08, 0.15])
    sides = []
    for side in ("reference", "current"):
        cols: dict[str, object] = {}
        for i in range(N_NUMERIC):
            shift = 0.25 if side == "current" and i < 5 else 0.0
            cols[f"num_{i:02d}"] = rng.normal(loc=10 * i + shift * (1 + i), scale=1 + i, size=rows)
        for j in range(N_CATEGORICAL):
            p = p_cur if side == "current" and j == 0 else p_ref
            cols[f"cat_{j}"] = labels[rng.choice(labels.size, size=rows, p=p)]
        sides.append(pl.DataFrame(cols))
    return sides[0], sides[1]


def scipy_loop(reference: pl.DataFrame, current: pl.DataFrame) -> dict[str, tuple[float, float]]:
    """The common hand-rolled check (ks_2samp + 10-bin quantile PSI per numeric column)."""
    from scipy import stats

    out = {}
    for name in reference.columns[:N_NUMERIC]:
        ref, cur = reference[name].to_numpy(), current[name].to_numpy()
        ks = stats.ks_2samp(ref, cur)
        edges = np.percentile(ref, np.linspace(0, 100, 11))
        edges[0], edges[-1] = -np.inf, np.inf
        ref_pct = np.histogram(ref, bins=edges)[0] / len(ref) + 1e-4
        cur_pct = np.histogram(cur, bins=edges)[0] / len(cur) + 1e-4
        psi = float(np.sum((cur_pct - ref_pct) * np.log(cur_pct / ref_pct)))
        out[name] = (float(ks.pvalue), psi)
    return out


def worker(contender: str, rows: int, repeats: int) -> dict[str, object]:
    reference, current = build(rows, seed=42)
    if contender == "driftloop":
        import driftloop

        def run() -> object:
            return driftloop.detect(reference, current)
    else:

        def run() -> object:
            return scipy_loop(reference, current)

    times = []
    result = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    info: dict[str, object] = {"median_s": statistics.median(times), "min_s": min(times)}
    info |= {"peak_rss_mb": round(peak_mb), "times": [round(t, 3) for t in times]}
    if contender == "driftloop":
        info["drifted"] = result.drifted_columns  # type: ignore[attr-defined]
        info["dataset_drift"] = result.dataset_drift  # type: ignore[attr-defined]
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--worker", choices=["driftloop", "scipy"])
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.rows, args.repeats)))
        return
    results = {}
    for contender in ("driftloop", "scipy"):
        repeats = args.repeats if contender == "driftloop" else max(2, args.repeats // 2)
        cmd = [sys.executable, __file__, "--worker", contender, "--rows", str(args.rows)]
        out = subprocess.run([*cmd, "--repeats", str(repeats)], capture_output=True, text=True)
        if out.returncode:
            sys.exit(f"{contender} worker failed:\n{out.stderr}")
        results[contender] = json.loads(out.stdout.strip().splitlines()[-1])
    d, s = results["driftloop"], results["scipy"]
    cols = f"{N_NUMERIC} numerical + {N_CATEGORICAL} categorical"
    print(f"detect benchmark: {args.rows:,} rows x ({cols}) per side")
    for name, r in results.items():
        runs = f"(runs {r['times']})"
        print(f"  {name:<10} median {r['median_s']:.3f} s  {runs}  peak RSS {r['peak_rss_mb']} MB")
    print(f"  driftloop drifted columns: {d['drifted']}  dataset_drift={d['dataset_drift']}")
    print(f"  speed-up vs scipy loop: {s['median_s'] / d['median_s']:.1f}x")
    print("  note: the scipy loop covers only the 20 numeric columns (KS + PSI), no degradation")


if __name__ == "__main__":
    main()
