#!/usr/bin/env python3
"""Writes the reference numbers that EvaluationTests/ROCCurveTests.swift (ROC curves of membership
attacks) and DiffusionTests/PrivacyAccountantTests.swift (the DP-SGD accountant) read.

Run from anywhere with a venv that has the references installed:

    /work/venv/bin/pip install scikit-learn opacus
    /work/venv/bin/python Tests/Fixtures/make_privacy_fixtures.py

It (re)writes Tests/Fixtures/privacy/roc.json next to this script; everything is seeded.

ROC cases: scores of positives (members) and negatives (non-members), float32-representable
(multiples of 1/1024), with the AUC from sklearn.metrics.roc_auc_score and, for each false-positive
rate alpha, the largest true-positive rate of sklearn.metrics.roc_curve's points whose fpr <= alpha
(drop_intermediate=False, so every threshold is a point).
"""
import json
import pathlib

import numpy as np
import sklearn
from sklearn.metrics import roc_auc_score, roc_curve

HERE = pathlib.Path(__file__).resolve().parent / "privacy"
RATES = [0.0, 0.001, 0.01, 0.05, 0.1, 0.5]


def case(name, positives, negatives):
    positives = np.round(np.asarray(positives, dtype=np.float64) * 1024) / 1024
    negatives = np.round(np.asarray(negatives, dtype=np.float64) * 1024) / 1024
    y = np.r_[np.ones(len(positives)), np.zeros(len(negatives))]
    s = np.r_[positives, negatives]
    fpr, tpr, _ = roc_curve(y, s, drop_intermediate=False)
    return {
        "name": name,
        "positives": positives.tolist(),
        "negatives": negatives.tolist(),
        "auc": float(roc_auc_score(y, s)),
        "rates": RATES,
        "tpr_at": [float(tpr[fpr <= a + 1e-12].max()) for a in RATES],
    }


def main():
    rng = np.random.default_rng(17)
    cases = [
        case("shifted", rng.normal(0.5, 1, 200), rng.normal(0, 1, 300)),
        case("ties", rng.integers(0, 6, 50), rng.integers(0, 5, 40)),
        case("separated", rng.uniform(2, 3, 20), rng.uniform(0, 1, 30)),
        case("reversed", rng.normal(-1, 1, 60), rng.normal(0, 1, 60)),
    ]
    HERE.mkdir(exist_ok=True)
    (HERE / "roc.json").write_text(json.dumps({"sklearn": sklearn.__version__, "cases": cases}, indent=1) + "\n")


if __name__ == "__main__":
    main()
