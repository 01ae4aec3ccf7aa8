"""NannyML 0.13.1's KS path on the same 20 numeric columns (run by bench_speed.py --peers in
NannyML's own virtual environment, never with driftloop's dependencies).

    NML_DISABLE_USAGE_LOGGING=1 python nannyml_ks.py FOLDER   # FOLDER holds ref.npy and cur.npy
"""

import json
import os
import statistics
import sys
import time
import warnings


def main(folder: str) -> None:
    os.environ["NML_DISABLE_USAGE_LOGGING"] = "1"  # NannyML sends usage analytics otherwise
    warnings.simplefilter("ignore")  # "the resulting number of chunks is too low": one chunk
    import nannyml as nml
    import numpy as np
    import pandas as pd

    ref, cur = np.load(f"{folder}/ref.npy"), np.load(f"{folder}/cur.npy")
    names = [f"num_{i:02d}" for i in range(ref.shape[1])]
    rdf, cdf = pd.DataFrame(ref, columns=names), pd.DataFrame(cur, columns=names)
    fit, calculate = [], []
    for _ in range(3):
        started = time.perf_counter()
        calc = nml.UnivariateDriftCalculator(
            column_names=names, continuous_methods=["kolmogorov_smirnov"], chunk_number=1
        )
        calc.fit(rdf)
        fitted = time.perf_counter()
        calc.calculate(cdf)
        fit.append(fitted - started)
        calculate.append(time.perf_counter() - fitted)
    out = {"fit_s": statistics.median(fit), "calculate_s": statistics.median(calculate)}
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
