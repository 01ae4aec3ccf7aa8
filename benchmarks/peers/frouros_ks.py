"""Frouros' ``KSTest`` (a univariate detector: one per column) on the same 20 numeric columns
(run by bench_speed.py --peers in its own virtual environment).

    python frouros_ks.py FOLDER   # FOLDER holds ref.npy and cur.npy
"""

import json
import statistics
import sys
import time


def main(folder: str) -> None:
    import numpy as np
    from frouros.detectors.data_drift import KSTest

    ref, cur = np.load(f"{folder}/ref.npy"), np.load(f"{folder}/cur.npy")
    fit, calculate = [], []
    for _ in range(3):
        started = time.perf_counter()
        detectors = []
        for j in range(ref.shape[1]):
            detector = KSTest()
            detector.fit(X=ref[:, j])
            detectors.append(detector)
        fitted = time.perf_counter()
        for j, detector in enumerate(detectors):
            detector.compare(X=cur[:, j])
        fit.append(fitted - started)
        calculate.append(time.perf_counter() - fitted)
    out = {"fit_s": statistics.median(fit), "calculate_s": statistics.median(calculate)}
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
