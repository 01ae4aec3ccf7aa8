"""Alibi Detect's ``MMDDrift`` with its defaults (Gaussian kernel, width from the reference's
median heuristic, permutation p-value with 100 relabellings, p_val 0.05) on the same vectors
(run by bench_unstructured.py --peers in its own virtual environment; PyTorch backend on CPU,
since the default TensorFlow backend is not installed there).

    python alibi_mmd.py FOLDER CASE BUDGET_S
    # FOLDER holds CASE_000_ref.npy, CASE_000_cur.npy, ...; trials stop once BUDGET_S is spent

Prints one JSON line per batch of 10 trials: whether each was flagged, its p-value and seconds.
"""

import json
import sys
import time
from pathlib import Path

BATCH = 10


def main(folder: str, case: str, budget: float) -> None:
    import numpy as np
    from alibi_detect.cd import MMDDrift

    refs = sorted(Path(folder).glob(f"{case}_*_ref.npy"))
    started_all = time.perf_counter()
    batch: dict[str, list[float]] = {"drifted": [], "p_value": [], "seconds": []}
    for ref_file in refs:
        ref = np.load(ref_file)
        cur = np.load(str(ref_file).replace("_ref.npy", "_cur.npy"))
        started = time.perf_counter()
        detector = MMDDrift(ref, backend="pytorch", p_val=0.05)
        out = detector.predict(cur)["data"]
        batch["seconds"].append(time.perf_counter() - started)
        batch["drifted"].append(bool(out["is_drift"]))
        batch["p_value"].append(float(out["p_val"]))
        if len(batch["seconds"]) == BATCH:
            print(json.dumps({"method": "MMDDrift", "case": case, **batch}), flush=True)
            batch = {key: [] for key in batch}
        if time.perf_counter() - started_all > budget:
            break
    if batch["seconds"]:
        print(json.dumps({"method": "MMDDrift", "case": case, **batch}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]))
