"""whylogs' default drift path on the same 20 numeric columns: log both sides into profiles
(KLL sketches), then ``calculate_drift_scores`` (KS on the sketches for numeric columns); run by
bench_speed.py --peers in its own virtual environment.

    python whylogs_drift.py FOLDER   # FOLDER holds ref.npy and cur.npy
"""

import json
import os
import statistics
import sys
import time


def main(folder: str) -> None:
    os.environ["WHYLOGS_NO_ANALYTICS"] = "True"  # whylogs sends usage statistics otherwise
    import numpy as np
    import pandas as pd
    import whylogs as why
    from whylogs.viz.drift.column_drift_algorithms import calculate_drift_scores

    ref, cur = np.load(f"{folder}/ref.npy"), np.load(f"{folder}/cur.npy")
    names = [f"num_{i:02d}" for i in range(ref.shape[1])]
    rdf, cdf = pd.DataFrame(ref, columns=names), pd.DataFrame(cur, columns=names)
    fit, calculate = [], []
    for _ in range(3):
        started = time.perf_counter()
        reference = why.log(rdf).view()
        fitted = time.perf_counter()
        current = why.log(cdf).view()
        calculate_drift_scores(target_view=current, reference_view=reference)
        fit.append(fitted - started)
        calculate.append(time.perf_counter() - fitted)
    out = {"fit_s": statistics.median(fit), "calculate_s": statistics.median(calculate)}
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
