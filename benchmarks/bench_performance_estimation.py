"""Label-free performance estimation: does the interval cover the realized metric, and is the
alert quiet when nothing changed?

Synthetic binary task: two features, P(y = 1 | x) = sigmoid(1.5 x1 - x2), the model's score is
that probability (calibrated). Reference: 5,000 labelled rows. Sections:
1. coverage under covariate shift: ``--windows`` windows of 500 rows, each with x1's mean moved by
   a random amount in [-1, 1] and its spread scaled in [0.5, 1.5]; the realized metric (labels
   drawn from the true probability) inside the 95% interval, for ROC-AUC, accuracy and F1;
2. no shift: windows from the reference's population; the share that alert;
3. power: x1's spread shrunk (x0.75, x0.62) so the realized ROC-AUC falls by about 0.03 and 0.05,
   windows of 1,000 rows;
4. uncalibrated scores (score^3): coverage after recalibration, or the refusal;
5. three classes (softmax of three linear scores): coverage for accuracy and macro F1;
6. time: 1M scored rows against the 5,000-row reference.

With ``--peers``, NannyML 0.13.1's CBPE (in its own virtual environment, made on first use by
bench_speed.py's ``peer_python``) runs on the same reference and the same windows of sections 1-3
(``peers/nannyml_cbpe.py``): its confidence band's coverage of the realized metric, and its alert
rate.

    python benchmarks/bench_performance_estimation.py --windows 200 [--peers]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from driftloop.drift.performance import _realized, estimate_performance
from driftloop.errors import DataError


def binary(rng: np.random.Generator, n: int, shift: float = 0.0, scale: float = 1.0):
    x1 = shift + scale * rng.normal(size=n)
    x2 = rng.normal(size=n)
    p = 1 / (1 + np.exp(-(1.5 * x1 - x2)))
    return p, (rng.random(n) < p).astype(int)


def three(rng: np.random.Generator, n: int, shift: float = 0.0):
    x = rng.normal(size=(n, 2)) + np.array([shift, 0.0])
    logits = x @ np.array([[1.5, -1.0, 0.0], [0.0, 1.0, -1.2]])
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = (rng.random((n, 1)) > np.cumsum(p, axis=1)[:, :-1]).sum(axis=1)
    return p, y


def coverage(windows: int, transform=lambda p: p) -> str:
    rng = np.random.default_rng(1)
    p, y = binary(rng, 5000)
    ref = pl.DataFrame({"p": transform(p), "y": y})
    cells = []
    for metric in ("roc_auc", "accuracy", "f1"):
        inside = refused = 0
        for w in range(windows):
            q, z = binary(rng, 500, rng.uniform(-1, 1), rng.uniform(0.5, 1.5))
            try:
                e = estimate_performance(
                    ref, pl.DataFrame({"p": transform(q)}), target="y", score="p",
                    metric=metric, seed=w,
                )  # fmt: skip
            except DataError:
                refused += 1
                continue
            truth = _realized(metric, transform(q)[:, None], z)
            inside += e.lower <= truth <= e.upper
        judged = windows - refused
        cells.append(
            f"{metric} {inside / max(judged, 1):.1%} of {judged}"
            + (f" ({refused} refused)" if refused else "")
        )
    return "; ".join(cells)


def alert_rate(windows: int, n: int, scale: float) -> str:
    rng = np.random.default_rng(2)
    p, y = binary(rng, 5000)
    ref = pl.DataFrame({"p": p, "y": y})
    alerts, drops = 0, []
    for w in range(windows):
        q, z = binary(rng, n, 0.0, scale)
        e = estimate_performance(ref, pl.DataFrame({"p": q}), target="y", score="p", seed=w)
        alerts += e.alert
        drops.append(e.reference_value - _realized("roc_auc", q[:, None], z))
    return f"{alerts / windows:.1%} alerted (realized ROC-AUC drop {np.mean(drops):.3f})"


def multiclass(windows: int) -> str:
    rng = np.random.default_rng(3)
    p, y = three(rng, 5000)
    names = ["p0", "p1", "p2"]
    ref = pl.DataFrame({**{n: p[:, i] for i, n in enumerate(names)}, "y": y})
    cells = []
    for metric in ("accuracy", "f1"):
        inside = 0
        for w in range(windows):
            q, z = three(rng, 500, rng.uniform(-1, 1))
            cur = pl.DataFrame({n: q[:, i] for i, n in enumerate(names)})
            e = estimate_performance(ref, cur, target="y", score=names, metric=metric, seed=w)
            inside += e.lower <= _realized(metric, q, z) <= e.upper
        cells.append(f"{metric} {inside / windows:.1%}")
    return "; ".join(cells)


def timing() -> str:
    rng = np.random.default_rng(4)
    p, y = binary(rng, 5000)
    ref = pl.DataFrame({"p": p, "y": y})
    cur = pl.DataFrame({"p": binary(rng, 1_000_000)[0]})
    estimate_performance(ref, cur.head(1000), target="y", score="p")
    began = time.perf_counter()
    estimate_performance(ref, cur, target="y", score="p")
    return f"{time.perf_counter() - began:.2f} s"


def peer_cells(windows: int) -> dict[str, tuple[np.ndarray, np.ndarray, int]]:
    """The windows of sections 1-3, drawn as those sections draw them (same seeds)."""
    rng = np.random.default_rng(1)
    binary(rng, 5000)
    shifted = [binary(rng, 500, rng.uniform(-1, 1), rng.uniform(0.5, 1.5)) for _ in range(windows)]
    rng = np.random.default_rng(2)
    binary(rng, 5000)
    quiet = [binary(rng, 500) for _ in range(windows)]
    drop = [binary(rng, 1000, 0.0, 0.62) for _ in range(windows)]
    cells = {
        "1_shift_500": (shifted, 500),
        "2_no_shift_500": (quiet, 500),
        "3b_drop_1000": (drop, 1000),
    }
    return {
        name: (np.concatenate([w[0] for w in ws]), np.concatenate([w[1] for w in ws]), size)
        for name, (ws, size) in cells.items()
    }


def nannyml(windows: int) -> str:
    from bench_speed import PEERS, peer_python

    python = peer_python("nannyml", PEERS["nannyml"][0])
    with tempfile.TemporaryDirectory() as folder:
        p, y = binary(np.random.default_rng(1), 5000)
        np.savez(f"{folder}/ref.npz", p=p, y=y)
        for name, (q, z, size) in peer_cells(windows).items():
            np.savez(f"{folder}/{name}.npz", p=q, y=z, size=size)
        script = Path(__file__).parent / "peers" / "nannyml_cbpe.py"
        env = {**os.environ, "NML_DISABLE_USAGE_LOGGING": "1"}
        done = subprocess.run(
            [str(python), str(script), folder], capture_output=True, text=True, env=env
        )
    if done.returncode != 0:
        return f"failed: {done.stderr.strip().splitlines()[-1]}"
    lines = []
    for cell, metrics in json.loads(done.stdout).items():
        parts = [
            f"{m} coverage {r['coverage']:.1%}, alerts {r['alerts']:.1%}"
            for m, r in metrics.items()
        ]
        lines.append(f"   {cell}: " + "; ".join(parts))
    return "\n" + "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=200)
    parser.add_argument("--peers", action="store_true", help="NannyML's CBPE beside, same data")
    args = parser.parse_args()
    w = args.windows
    se = 100 * np.sqrt(0.05 * 0.95 / w)
    print(f"{w} windows per cell; SE of a rate near 5% (or 95%): {se:.1f} pp", flush=True)
    print(f"1. coverage, covariate shift, 500 rows: {coverage(w)}", flush=True)
    print(f"2. no shift, 500 rows: {alert_rate(w, 500, 1.0)}", flush=True)
    print(f"3. power, 1,000 rows, x1 spread x0.75: {alert_rate(w, 1000, 0.75)}", flush=True)
    print(f"3b. power, 1,000 rows, x1 spread x0.62: {alert_rate(w, 1000, 0.62)}", flush=True)
    print(f"4. scores^3, recalibrated: {coverage(w, lambda p: p**3)}", flush=True)
    print(f"5. three classes, 500 rows: {multiclass(w)}", flush=True)
    print(f"6. 1M scored rows: {timing()}", flush=True)
    if args.peers:
        print(f"NannyML 0.13.1 CBPE, same reference and windows: {nannyml(w)}", flush=True)


if __name__ == "__main__":
    main()
