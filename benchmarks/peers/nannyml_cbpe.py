"""NannyML 0.13.1's CBPE on the windows bench_performance_estimation.py --peers wrote (run in
NannyML's own virtual environment, never with driftloop's dependencies).

    NML_DISABLE_USAGE_LOGGING=1 python nannyml_cbpe.py FOLDER   # FOLDER holds ref.npz, CELL.npz

Each cell's windows are laid end to end and chunked by the window size, so each chunk is one
window. Reported per cell and metric: the share of windows whose realized metric lies inside
CBPE's confidence band (lower/upper_confidence_boundary), and the share of windows CBPE alerts
on (its thresholds come from the reference's own chunks).
"""

import json
import os
import sys
import warnings


def main(folder: str) -> None:
    os.environ["NML_DISABLE_USAGE_LOGGING"] = "1"  # NannyML sends usage analytics otherwise
    warnings.simplefilter("ignore")
    import nannyml as nml
    import numpy as np
    import pandas as pd
    from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

    ref = np.load(f"{folder}/ref.npz")
    reference = pd.DataFrame({"p": ref["p"], "y": ref["y"]})
    reference["pred"] = (reference["p"] >= 0.5).astype(int)
    realized = {
        "roc_auc": lambda y, p: roc_auc_score(y, p),
        "accuracy": lambda y, p: accuracy_score(y, p >= 0.5),
        "f1": lambda y, p: f1_score(y, p >= 0.5),
    }
    out = {}
    for cell in sorted(f[:-4] for f in os.listdir(folder) if f != "ref.npz"):
        data = np.load(f"{folder}/{cell}.npz")
        p, y, size = data["p"], data["y"], int(data["size"])
        analysis = pd.DataFrame({"p": p, "pred": (p >= 0.5).astype(int)})
        estimator = nml.CBPE(
            y_pred_proba="p",
            y_pred="pred",
            y_true="y",
            metrics=list(realized),
            chunk_size=size,
            problem_type="classification_binary",
        )
        estimator.fit(reference)
        frame = estimator.estimate(analysis).filter(period="analysis").to_df()
        cells = {}
        for metric, fn in realized.items():
            low = frame[(metric, "lower_confidence_boundary")].to_numpy()
            high = frame[(metric, "upper_confidence_boundary")].to_numpy()
            alerts = frame[(metric, "alert")].to_numpy().astype(bool)
            truth = np.array(
                [
                    fn(y[i * size : (i + 1) * size], p[i * size : (i + 1) * size])
                    for i in range(len(low))
                ]
            )
            cells[metric] = {
                "coverage": float(np.mean((low <= truth) & (truth <= high))),
                "alerts": float(np.mean(alerts)),
                "windows": len(low),
            }
        out[cell] = cells
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
