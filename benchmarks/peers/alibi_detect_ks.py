"""Alibi Detect's ``KSDrift`` (one KS test per feature, Bonferroni) on the same 20 numeric
columns (run by bench_speed.py --peers in its own virtual environment).

    python alibi_detect_ks.py FOLDER   # FOLDER holds ref.npy and cur.npy
"""

import json
import statistics
import sys
import time


def main(folder: str) -> None:
    import numpy as np
    from alibi_detect.cd import KSDrift

    ref, cur = np.load(f"{folder}/ref.npy"), np.load(f"{folder}/cur.npy")
    fit, calculate = [], []
    for _ in range(3):
        started = time.perf_counter()
        detector = KSDrift(ref, p_val=0.05)
        fitted = time.perf_counter()
        detector.predict(cur)
        fit.append(fitted - started)
        calculate.append(time.perf_counter() - fitted)
    out = {"fit_s": statistics.median(fit), "calculate_s": statistics.median(calculate)}
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
