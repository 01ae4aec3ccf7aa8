"""How far statistics read from profiles stray from the raw data's, against the bound each column
reports (``statistic_error``, :mod:`driftloop.drift.sketch_error`).

For 8 column shapes (normal, lognormal sigma 1 and 2, Student t with 3 degrees of freedom,
uniform, exponential, normal rounded to 0.01, a 90/10 bimodal mixture), two sizes, without and
with a +0.1 shift: the raw statistic of each method, then ``--builds`` fresh profile builds (the
KLL sketch compacts at random, so each differs) compared three ways (profile vs frame, profile vs
profile, frame vs profile). Prints, per method and shape, the largest |error| / reported bound
(must stay <= 1), the typical bound, and how many columns warned that the verdict is uncertain.

    python benchmarks/bench_sketch_error.py [--builds 5] [--rows 30000,300000]

Writes ``benchmarks/results/sketch_error.md``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl

import driftloop
from driftloop.profiles import profile

METHODS = ("ks", "wasserstein", "psi", "jensenshannon")
Draw = Callable[[np.random.Generator, float, int], np.ndarray]
SHAPES: dict[str, Draw] = {
    "normal": lambda r, s, n: r.normal(s, 1, n),
    "lognormal 1": lambda r, s, n: r.lognormal(s, 1, n),
    "lognormal 2": lambda r, s, n: r.lognormal(s, 2, n),
    "t(3)": lambda r, s, n: r.standard_t(3, n) + s,
    "uniform": lambda r, s, n: r.random(n) + s,
    "exponential": lambda r, s, n: r.exponential(1, n) + s,
    "rounded": lambda r, s, n: np.round(r.normal(s, 1, n), 2),
    "bimodal": lambda r, s, n: np.where(r.random(n) < 0.9, r.normal(s, 1, n), r.normal(8, 0.1, n)),
}


def one_case(draw: Draw, rows: int, shift: float, builds: int) -> dict[str, tuple[float, ...]]:
    """Per method: (worst error / bound, mean bound, uncertain verdicts, comparisons)."""
    rng = np.random.default_rng(1)
    ref, cur = (
        pl.DataFrame({"x": draw(rng, 0.0, rows)}),
        pl.DataFrame({"x": draw(rng, shift, rows)}),
    )
    config = {m: {"method": m, "columns": {"x": {"kind": "numerical"}}} for m in METHODS}
    exact = {m: driftloop.detect(ref, cur, config=config[m]).column("x") for m in METHODS}
    seen: dict[str, list[tuple[float, float, bool]]] = {m: [] for m in METHODS}
    for _ in range(builds):
        ref_profile, cur_profile = profile(ref), profile(cur)
        for sides in ((ref_profile, cur), (ref_profile, cur_profile), (ref, cur_profile)):
            for method in METHODS:
                got = driftloop.detect(*sides, config=config[method]).column("x")
                error = abs(got.statistic - exact[method].statistic)
                uncertain = "other verdict" in (got.warning or "")
                seen[method].append((error / got.statistic_error, got.statistic_error, uncertain))
    return {
        m: (
            max(r for r, _, _ in rows_),
            float(np.mean([b for _, b, _ in rows_])),
            sum(u for _, _, u in rows_),
            len(rows_),
        )
        for m, rows_ in seen.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--builds", type=int, default=5)
    parser.add_argument("--rows", default="30000,300000")
    args = parser.parse_args()
    sizes = [int(x) for x in args.rows.split(",")]
    lines = [
        "# Statistics from profiles against their reported error (bench_sketch_error.py)",
        "",
        f"{args.builds} profile builds per case, 3 comparisons each (profile vs frame, both "
        "profiles, frame vs profile). Cells: worst |error| / `statistic_error` (must be <= 1), "
        "mean `statistic_error`, uncertain verdicts / comparisons.",
        "",
        "| shape | rows | shift | " + " | ".join(METHODS) + " |",
        "|---|---:|---:|" + "---|" * len(METHODS),
    ]
    worst = dict.fromkeys(METHODS, 0.0)
    for name, draw in SHAPES.items():
        for rows in sizes:
            for shift in (0.0, 0.1):
                case = one_case(draw, rows, shift, args.builds)
                cells = []
                for m in METHODS:
                    ratio, bound, uncertain, n = case[m]
                    worst[m] = max(worst[m], ratio)
                    cells.append(f"{ratio:.2f} (±{bound:.3g}; {uncertain}/{n})")
                line = f"| {name} | {rows:,} | {shift} | " + " | ".join(cells) + " |"
                print(line, flush=True)
                lines.append(line)
    summary = ", ".join(f"{m} {v:.2f}" for m, v in worst.items())
    print(f"worst error / bound over every case: {summary}")
    lines += ["", f"Worst error / bound over every case: {summary}.", ""]
    out = Path(__file__).parent / "results" / "sketch_error.md"
    out.write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
