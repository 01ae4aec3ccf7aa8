"""Evidently 0.7's ``DataDriftPreset(method="ks")`` on the same 20 numeric columns (run by
bench_speed.py --peers in its own virtual environment). Evidently has no separate reference
preparation: its time is all "calculate".

    python evidently_ks.py FOLDER   # FOLDER holds ref.npy and cur.npy
"""

import json
import os
import statistics
import sys
import time
import warnings


def main(folder: str) -> None:
    os.environ["DO_NOT_TRACK"] = "1"  # Evidently sends usage statistics otherwise
    warnings.simplefilter("ignore")
    import numpy as np
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    ref, cur = np.load(f"{folder}/ref.npy"), np.load(f"{folder}/cur.npy")
    names = [f"num_{i:02d}" for i in range(ref.shape[1])]
    definition = DataDefinition(numerical_columns=names)
    calculate: list[float] = []
    while len(calculate) < 3 and sum(calculate) < 300:  # at most ~5 minutes: median of those run
        started = time.perf_counter()
        rds = Dataset.from_pandas(pd.DataFrame(ref, columns=names), data_definition=definition)
        cds = Dataset.from_pandas(pd.DataFrame(cur, columns=names), data_definition=definition)
        Report([DataDriftPreset(method="ks")]).run(cds, rds)
        calculate.append(time.perf_counter() - started)
    out = {"fit_s": 0.0, "calculate_s": statistics.median(calculate), "runs": len(calculate)}
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
