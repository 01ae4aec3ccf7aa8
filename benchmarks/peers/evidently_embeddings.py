"""Evidently 0.7's embedding drift (``EmbeddingsDriftMetric``) with one of its four methods at
its defaults — ``default`` (no method given: Evidently's ``model()``, a classifier's ROC AUC
above 0.55, with a bootstrap instead below 1,000 reference rows), ``distance()``, ``ratio()``
or ``mmd()`` — on the same vectors (run by bench_unstructured.py
--peers in its own virtual environment).

    python evidently_embeddings.py FOLDER CASE BUDGET_S METHOD
    # FOLDER holds CASE_000_ref.npy, CASE_000_cur.npy, ...; trials stop once BUDGET_S is spent

Each trial calls the drift method as ``EmbeddingsDriftMetric`` does (the same score and
decision), without the Report around it: a whole ``Report([EmbeddingsDriftMetric(...)]).run``
took 80-100 s per trial here at 1,000 x 384 a side (loaded machine), too slow for 200 trials.

Prints one JSON line per batch of 10 trials: whether each was flagged, its score and seconds.
"""

import json
import os
import sys
import time
import warnings
from pathlib import Path

BATCH = 10


def main(folder: str, case: str, budget: float, method: str) -> None:
    os.environ["DO_NOT_TRACK"] = "1"  # Evidently sends usage statistics otherwise
    warnings.simplefilter("ignore")
    import numpy as np
    import pandas as pd
    from evidently.legacy.metrics.data_drift import embedding_drift_methods as methods

    refs = sorted(Path(folder).glob(f"{case}_*_ref.npy"))
    started_all = time.perf_counter()
    batch: dict[str, list[float]] = {"drifted": [], "score": [], "seconds": []}
    for ref_file in refs:
        ref = np.load(ref_file)
        cur = np.load(str(ref_file).replace("_ref.npy", "_cur.npy"))
        names = [f"d{i:03d}" for i in range(ref.shape[1])]
        started = time.perf_counter()
        # what EmbeddingsDriftMetric calls; no method given, it takes model(bootstrap=n_ref < 1000)
        chosen = methods.model(bootstrap=len(ref) < 1000) if method == "default" else None
        chosen = chosen or getattr(methods, method)()
        score, drifted, _ = chosen(
            pd.DataFrame(cur, columns=names), pd.DataFrame(ref, columns=names)
        )
        batch["seconds"].append(time.perf_counter() - started)
        batch["drifted"].append(bool(drifted))
        batch["score"].append(float(score))
        if len(batch["seconds"]) == BATCH:
            print(json.dumps({"method": method, "case": case, **batch}), flush=True)
            batch = {key: [] for key in batch}
        if time.perf_counter() - started_all > budget:
            break
    if batch["seconds"]:
        print(json.dumps({"method": method, "case": case, **batch}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4])
