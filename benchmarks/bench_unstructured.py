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

With ``--peers``, only the vectors beside Evidently 0.7.23's embedding drift methods (its
model-based default, ``distance()``, ``ratio()``, ``mmd()``) and Alibi Detect's ``MMDDrift``
(its permutation test), each in its own virtual environment under ``benchmarks/.peers/`` (made
with pip on first use; never driftloop's dependencies): the same generated vectors, written as
.npy files to a temporary folder, go to every tool; each peer runs as many trials as its time
budget allows (the count is printed). That section is replaced in (or appended to) the results.

    python benchmarks/bench_unstructured.py [--trials 200] [--power-trials 100]
    python benchmarks/bench_unstructured.py --peers [--trials 200] [--budget 120]
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
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl

import driftloop
from driftloop.data.synthetic_text import TOPICS, tickets

HERE = Path(__file__).parent
RESULTS = HERE / "results"
PEERS_TITLE = "## Vectors beside Evidently and Alibi Detect (--peers)"
# name: (pinned packages, verified here; script in benchmarks/peers/; its methods, by label)
PEERS: dict[str, tuple[list[str], str, dict[str, str]]] = {
    "evidently_embeddings": (
        ["evidently==0.7.23", "pandas==2.3.3"],  # evidently 0.7.23 fails to import with pandas 3
        "evidently_embeddings.py",
        {
            "Evidently default (model(): ROC AUC > 0.55)": "default",
            "Evidently distance()": "distance",
            "Evidently ratio()": "ratio",
            "Evidently mmd()": "mmd",
        },
    ),
    "alibi_mmd": (
        # the CPU build of torch (pip takes the file on this machine's disk; a plain torch
        # would pull a CUDA build of several GB); the default TensorFlow backend is not needed
        ["torch==2.13.0", "alibi-detect==0.13.0"],
        "alibi_mmd.py",
        {"Alibi Detect MMDDrift (permutation test)": "-"},
    ),
}
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


def peer_python(name: str, packages: list[str]) -> Path:
    """The peer's own virtual environment (made with pip on first use), never driftloop's."""
    venv = HERE / ".peers" / name
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *packages], check=True)
    return python


def write_vectors(folder: Path, case: str, trials: int, shift: float, seed: int) -> None:
    """Trial i's reference and current vectors as CASE_iii_ref.npy / CASE_iii_cur.npy (float32)."""
    rng = np.random.default_rng(seed)
    for i in range(trials):
        ref = rng.normal(size=(1000, DIMS)).astype(np.float32)
        cur = rng.normal(size=(1000, DIMS))
        cur[:, : DIMS // 10] += shift
        np.save(folder / f"{case}_{i:03d}_ref.npy", ref)
        np.save(folder / f"{case}_{i:03d}_cur.npy", cur.astype(np.float32))


def driftloop_trials(folder: Path, case: str) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"drifted": [], "seconds": []}
    for ref_file in sorted(folder.glob(f"{case}_*_ref.npy")):
        ref = pd.DataFrame({"e": list(np.load(ref_file).astype(np.float64))})
        cur_file = Path(str(ref_file).replace("_ref.npy", "_cur.npy"))
        cur = pd.DataFrame({"e": list(np.load(cur_file).astype(np.float64))})
        started = time.perf_counter()
        out["drifted"].append(driftloop.detect(ref, cur).column("e").drifted)
        out["seconds"].append(time.perf_counter() - started)
    return out


def peer_trials(name: str, method: str, folder: Path, case: str, budget: float) -> dict:  # type: ignore[type-arg]
    """The peer's JSON lines (one per batch of trials) gathered; ``error`` when it failed."""
    packages, script, _ = PEERS[name]
    try:
        python = peer_python(name, packages)
    except subprocess.CalledProcessError as err:
        return {"error": f"install failed: {err}"}
    cmd = [str(python), str(HERE / "peers" / script), str(folder), case, str(budget)]
    env = {**os.environ, "DO_NOT_TRACK": "1", "CUDA_VISIBLE_DEVICES": ""}  # no usage statistics
    done = subprocess.run(
        [*cmd, method] if method != "-" else cmd,
        capture_output=True, text=True, timeout=budget * 3 + 600, env=env,
    )  # fmt: skip
    out: dict[str, list[float]] = {"drifted": [], "seconds": []}
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            batch = json.loads(line)
            out["drifted"] += batch["drifted"]
            out["seconds"] += batch["seconds"]
    if done.returncode != 0 and not out["seconds"]:
        return {"error": (done.stderr.strip().splitlines() or ["no output"])[-1][-300:]}
    return out


def peers_section(trials: int, power_trials: int, budget: float) -> list[str]:
    lines = [PEERS_TITLE, ""]

    def say(line: str = "") -> None:
        print(line, flush=True)
        lines.append(line)

    say(f"{DIMS} dimensions, 1,000 vs 1,000, standard Gaussian; shift +0.15 SD in "
        f"{DIMS // 10} of the dimensions. The same vectors (.npy) to every tool, in one run; each "
        f"peer stops a case once {budget:.0f} s of its trials are spent (trials counted). "
        "Seconds: median per trial, reference fit + test (2 cores, shared).")  # fmt: skip
    say()
    say("| tool, method (defaults) | no-drift trials flagged | power at +0.15 SD | median s |")
    say("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_vectors(folder, "null", trials, 0.0, seed=101)
        write_vectors(folder, "shift", power_trials, 0.15, seed=102)
        runs: list[tuple[str, dict, dict]] = [  # type: ignore[type-arg]
            (
                "driftloop (MMD², permutation p)",
                *(driftloop_trials(folder, c) for c in ("null", "shift")),
            )
        ]
        for name, (_, _, methods) in PEERS.items():
            for label, method in methods.items():
                null = peer_trials(name, method, folder, "null", budget)
                shift = peer_trials(name, method, folder, "shift", budget)
                runs.append((label, null, shift))
        for label, null, shift in runs:
            say(f"| {label} | {_cell(null)} | {_cell(shift)} | {_median_s(null, shift)} |")
    return lines


def _cell(result: dict) -> str:  # type: ignore[type-arg]
    if "error" in result:
        return f"failed: {result['error']}"
    return rate(int(sum(result["drifted"])), len(result["drifted"]))


def _median_s(*results: dict) -> str:  # type: ignore[type-arg]
    seconds = [s for r in results if "seconds" in r for s in r["seconds"]]
    return f"{statistics.median(seconds):.2f}" if seconds else "-"


def replace_section(text: str, title: str, section: list[str]) -> str:
    """``text`` with the section headed ``title`` replaced by ``section`` (appended if absent)."""
    before, found, after = text.partition(title)
    rest = after[after.find("\n## ") + 1 :] if found and "\n## " in after else ""
    return before.rstrip("\n") + "\n\n" + "\n".join(section) + "\n" + (rest and "\n" + rest)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--power-trials", type=int, default=100)
    parser.add_argument("--peers", action="store_true", help="only the vectors beside the peers")
    parser.add_argument("--budget", type=float, default=120, help="seconds per peer and case")
    args = parser.parse_args()
    target = RESULTS / "unstructured.md"
    old = target.read_text(encoding="utf-8") if target.exists() else ""
    if args.peers:
        section = peers_section(args.trials, args.power_trials, args.budget)
        target.write_text(replace_section(old, PEERS_TITLE, section), encoding="utf-8")
        return
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
    text = "\n".join(lines) + "\n"
    if PEERS_TITLE in old:  # the peers' section is kept until --peers runs again
        text = replace_section(text, PEERS_TITLE, old[old.index(PEERS_TITLE) :].splitlines())
    target.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
