"""Embedding and text columns, measured through ``driftloop.detect``: no-drift rates, power,
attribution and speed.

Vectors (384 dimensions, standard Gaussian): the share of no-drift windows flagged at 1,000 vs
1,000 rows; power at a +0.15 SD shift in 10% of the dimensions; the time of 1,000 x 384 a side
and of a 100,000 x 384 reference against 1,000 rows (with the peak memory Python allocated).

Text (generated support tickets, five topics at 20% each, ``driftloop.data.synthetic_text``):
the share of no-drift splits flagged at 500 documents a side; detection of a 20% change in the
topic mix (delivery from 20% to 40%, the others from 20% to 15%: a total variation of 0.2); and
how often the top reported n-gram comes from the shifted topic's words alone.

Every rate is printed with its standard error. Writes ``benchmarks/results/unstructured.md``.

    python benchmarks/bench_unstructured.py [--trials 200] [--power-trials 100]
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl

import driftloop
from driftloop.data.synthetic_text import TOPICS, tickets

RESULTS = Path(__file__).parent / "results"
DIMS = 384
SHIFTED_MIX = (0.4, 0.15, 0.15, 0.15, 0.15)
SMALL_MIX = (0.3, 0.175, 0.175, 0.175, 0.175)


def rate(hits: int, trials: int) -> str:
    p = hits / trials
    return f"{p:.1%} ± {np.sqrt(p * (1 - p) / trials):.1%} (SE; {hits}/{trials})"


def vector_frame(rng: np.random.Generator, n: int, shift: float = 0.0) -> pd.DataFrame:
    values = rng.normal(size=(n, DIMS))
    values[:, : DIMS // 10] += shift
    return pd.DataFrame({"e": list(values)})


def vectors_flagged(trials: int, shift: float, seed: int) -> tuple[int, list[float]]:
    rng = np.random.default_rng(seed)
    hits, seconds = 0, []
    for _ in range(trials):
        ref, cur = vector_frame(rng, 1000), vector_frame(rng, 1000, shift)
        started = time.perf_counter()
        column = driftloop.detect(ref, cur).column("e")
        seconds.append(time.perf_counter() - started)
        hits += column.drifted
    return hits, seconds


def timed(ref: pd.DataFrame, cur: pd.DataFrame, repeats: int) -> tuple[float, float]:
    """Median seconds of detect, and the peak memory Python allocated in one call (MB)."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        driftloop.detect(ref, cur)
        times.append(time.perf_counter() - started)
    tracemalloc.start()
    driftloop.detect(ref, cur)
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return statistics.median(times), peak


def only_in_topic(ngram: str, topic: str) -> bool:
    words = {name: " ".join(f" {w} " for w in vocabulary) for name, vocabulary in TOPICS.items()}
    return ngram in words[topic] and not any(ngram in w for n, w in words.items() if n != topic)


def text_runs(trials: int, mix: tuple[float, ...] | None, seed: int) -> dict[str, int]:
    counts = {"flagged": 0, "top_from_topic": 0, "top3_all_from_topic": 0}
    counts |= {
        f"descriptor {name}": 0 for name in ("length", "empty", "non_ascii", "out_of_vocabulary")
    }
    for trial in range(trials):
        ref, _ = tickets(500, seed=seed + 2 * trial)
        cur, _ = tickets(500, mix, seed=seed + 2 * trial + 1)
        column = driftloop.detect(pl.DataFrame({"t": ref}), pl.DataFrame({"t": cur})).column("t")
        for d in column.descriptors:
            counts[f"descriptor {d.name}"] += d.p_value is not None and d.p_value < 0.05
        if column.drifted:
            counts["flagged"] += 1
            top = [m.name for m in column.moved]
            counts["top_from_topic"] += only_in_topic(top[0], "delivery")
            counts["top3_all_from_topic"] += all(only_in_topic(t, "delivery") for t in top[:3])
    return counts


def zipf_documents(n: int, seed: int) -> list[str]:
    """Documents over a 20,000-word Zipf vocabulary: many words are rare, so the
    out-of-vocabulary share varies (in the tickets it is always 0)."""
    rng = np.random.default_rng(seed)
    weights = 1 / np.arange(1, 20_001)
    words = rng.choice(20_000, size=(n, 12), p=weights / weights.sum())
    return [" ".join(f"w{w}" for w in row) for row in words]


def rich_vocabulary_null(trials: int) -> tuple[int, int]:
    flagged = oov = 0
    for trial in range(trials):
        ref = pl.DataFrame({"t": zipf_documents(500, 2 * trial)})
        cur = pl.DataFrame({"t": zipf_documents(500, 2 * trial + 1)})
        column = driftloop.detect(ref, cur).column("t")
        flagged += column.drifted
        found = {d.name: d.p_value for d in column.descriptors}
        oov += (found["out_of_vocabulary"] or 1.0) < 0.05
    return flagged, oov


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--power-trials", type=int, default=100)
    args = parser.parse_args()
    lines = ["# Embedding and text columns (benchmarks/bench_unstructured.py)", ""]

    def say(line: str = "") -> None:
        print(line, flush=True)
        lines.append(line)

    say(f"## Vectors, {DIMS} dimensions, MMD² with a permutation p-value, alpha 0.05")
    say()
    hits, seconds = vectors_flagged(args.trials, 0.0, seed=1)
    say(f"- no drift, 1,000 vs 1,000: flagged {rate(hits, args.trials)}; "
        f"median {statistics.median(seconds):.2f} s per detect")  # fmt: skip
    hits, seconds = vectors_flagged(args.power_trials, 0.15, seed=2)
    detected = rate(hits, args.power_trials)
    say(f"- +0.15 SD in 10% of dimensions, 1,000 vs 1,000: detected {detected}; "
        f"median {statistics.median(seconds):.2f} s per detect")  # fmt: skip
    rng = np.random.default_rng(3)
    small, peak = timed(vector_frame(rng, 1000), vector_frame(rng, 1000), 5)
    say(f"- 1,000 x {DIMS} a side: {small:.2f} s (median of 5), "
        f"peak Python allocation {peak:.0f} MB")  # fmt: skip
    big_ref = vector_frame(rng, 100_000)
    big, peak = timed(big_ref, vector_frame(rng, 1000), 3)
    say(f"- 100,000 x {DIMS} reference vs 1,000: {big:.2f} s (median of 3; rows drawn to 2,000), "
        f"peak Python allocation {peak:.0f} MB")  # fmt: skip
    say()
    say("## Text, 500 generated tickets a side, 5 topics")
    say()
    null = text_runs(args.trials, None, seed=10_000)
    say(f"- no drift: flagged {rate(null['flagged'], args.trials)}")
    for name in ("length", "empty", "non_ascii", "out_of_vocabulary"):
        alone = rate(null["descriptor " + name], args.trials)
        say(f"  - descriptor {name} alone below 0.05: {alone}")
    flagged_rich, oov = rich_vocabulary_null(args.trials)
    say(f"- no drift, 20,000-word Zipf vocabulary: flagged {rate(flagged_rich, args.trials)}; "
        f"out_of_vocabulary alone below 0.05: {rate(oov, args.trials)}")  # fmt: skip
    shifted = text_runs(args.trials, SHIFTED_MIX, seed=20_000)
    flagged = shifted["flagged"]
    say(f"- topic mix changed by 20% (delivery 20% -> 40%): detected {rate(flagged, args.trials)}")
    if flagged:
        top = rate(shifted["top_from_topic"], flagged)
        say(f"  - top n-gram from the delivery topic's words alone: {top}")
        say(f"  - top 3 n-grams all from it: {rate(shifted['top3_all_from_topic'], flagged)}")
    small = text_runs(args.power_trials, SMALL_MIX, seed=30_000)
    say(f"- topic mix changed by 10% (delivery 20% -> 30%): detected "
        f"{rate(small['flagged'], args.power_trials)}")  # fmt: skip
    if small["flagged"]:
        say(f"  - top n-gram from the delivery topic's words alone: "
            f"{rate(small['top_from_topic'], small['flagged'])}")  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "unstructured.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
