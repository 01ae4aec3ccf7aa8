"""Honest statistics, measured: false-alarm rate and power of each p-value method.

Under no drift (both samples from one distribution), each method should flag at most alpha of
the time; the table reports the rate over many seeded trials at n = 100, 1,000 and 100,000 per
side, beside the one-sample chi-square some tools use (current counts against reference
proportions taken as exact), and the power of each method against shift size at n = 1,000.
Writes ``benchmarks/results/false_alarms.md`` and ``benchmarks/results/power.svg``.

    python benchmarks/bench_false_alarms.py [--trials 2000]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from scipy import stats

from driftloop.drift import METHODS
from driftloop.drift.methods import MethodOptions
from driftloop.drift.samples import NumericSample, Sample
from driftloop.report.charts import line_chart

ALPHA = 0.05
RESULTS = Path(__file__).parent / "results"
P_CATEGORIES = np.array([0.35, 0.25, 0.2, 0.15, 0.05])


def draw(method: str, rng: np.random.Generator, n: int, shift: float = 0.0) -> Sample:
    if method == "ks":
        return NumericSample.from_values(rng.normal(shift, 1.0, n))
    if method == "ztest":
        return NumericSample.from_values(rng.binomial(1, 0.3 + shift, n).astype(float))
    p = P_CATEGORIES + shift * np.array([-1, 0, 0, 0, 1])
    return NumericSample.from_values(rng.choice(5, size=n, p=p / p.sum()).astype(float))


def one_sample_chisquare(reference: Sample, current: Sample) -> float:
    """The one-sample test: current counts against reference proportions taken as exact."""
    from driftloop.drift.samples import category_counts

    _, ref, cur = category_counts(reference, current)
    keep = ref > 0
    expected = ref[keep] / ref[keep].sum() * cur[keep].sum()
    return float(stats.chisquare(cur[keep], expected).pvalue)


def rate(method: str, n: int, trials: int, shift: float = 0.0, seed: int = 7) -> float:
    rng = np.random.default_rng(seed)
    alarms = 0
    for _ in range(trials):
        ref, cur = (
            draw(method.removesuffix("_1sample"), rng, n),
            draw(method.removesuffix("_1sample"), rng, n, shift),
        )
        if method.endswith("_1sample"):
            alarms += one_sample_chisquare(ref, cur) < ALPHA
        else:
            m = METHODS[method]
            statistic, p = m.compute(ref, cur, MethodOptions(method, numeric=method == "ks"))
            alarms += m.drifted(statistic, p, ALPHA)
    return alarms / trials


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=2000)
    args = parser.parse_args()
    started = time.perf_counter()
    methods = ["ks", "chisquare", "ztest", "chisquare_1sample"]
    sizes = [100, 1_000, 100_000]
    table = {m: {n: rate(m, n, args.trials) for n in sizes} for m in methods}
    shifts = {
        "ks": [0, 0.05, 0.1, 0.15, 0.2, 0.3],
        "chisquare": [0, 0.01, 0.02, 0.04, 0.06, 0.08],
        "ztest": [0, 0.01, 0.02, 0.04, 0.06, 0.08],
    }
    power = {m: [rate(m, 1_000, args.trials, s, seed=11) for s in shifts[m]] for m in shifts}
    RESULTS.mkdir(exist_ok=True)
    lines = [
        f"# False alarms and power ({args.trials} trials per cell, alpha = {ALPHA})",
        "",
        "Under no drift (same distribution on both sides), share of trials flagged as drift:",
        "",
        "| method | " + " | ".join(f"n = {n:,}" for n in sizes) + " |",
        "|---|" + "---|" * len(sizes),
    ]
    for m in methods:
        label = "chi-square one-sample (not used by driftloop)" if m.endswith("_1sample") else m
        lines.append(f"| {label} | " + " | ".join(f"{table[m][n]:.1%}" for n in sizes) + " |")
    lines += ["", "Power at n = 1,000 per side (share of trials flagged) against shift size:", ""]
    for m, values in power.items():
        unit = "mean shift in SDs" if m == "ks" else "probability moved"
        pairs = ", ".join(f"{s:g}: {v:.0%}" for s, v in zip(shifts[m], values, strict=True))
        lines.append(f"- `{m}` ({unit}): {pairs}")
    text = "\n".join(lines) + "\n"
    (RESULTS / "false_alarms.md").write_text(text)
    labels = [f"step {i}" for i in range(len(shifts["ks"]))]
    svg = line_chart(
        labels,
        {m: power[m] for m in power},
        title="power at n=1000 vs shift step (see false_alarms.md)",
    )
    (RESULTS / "power.svg").write_text(
        str(svg).replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1)
    )
    print(text)
    print(
        f"wrote {RESULTS / 'false_alarms.md'} and {RESULTS / 'power.svg'} "
        f"in {time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
