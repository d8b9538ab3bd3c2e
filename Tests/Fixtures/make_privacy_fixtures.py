#!/usr/bin/env python3
"""Writes the reference numbers that EvaluationTests/ROCCurveTests.swift (ROC curves of membership
attacks) and DiffusionTests/PrivacyAccountantTests.swift (the DP-SGD accountant) read.

Run from anywhere with a venv that has the references installed:

    /work/venv/bin/pip install scikit-learn opacus
    /work/venv/bin/python Tests/Fixtures/make_privacy_fixtures.py

It (re)writes Tests/Fixtures/privacy/roc.json and rdp.json next to this script; everything is
seeded.

ROC cases: scores of positives (members) and negatives (non-members), float32-representable
(multiples of 1/1024), with the AUC from sklearn.metrics.roc_auc_score and, for each false-positive
rate alpha, the largest true-positive rate of sklearn.metrics.roc_curve's points whose fpr <= alpha
(drop_intermediate=False, so every threshold is a point).

Accountant cases: (noise multiplier, sample rate, steps, delta) with Opacus' RDPAccountant
(history = [(sigma, q, steps)], default orders): get_privacy_spent -> (epsilon, best order), and
the per-step RDP of opacus.accountants.analysis.rdp.compute_rdp at a few integer and fractional
orders; noise cases: get_noise_multiplier(target_epsilon, target_delta, sample_rate, steps) with
epsilon_tolerance 0.01, and the epsilon that noise multiplier spends.
"""
import json
import pathlib

import numpy as np
import sklearn
from sklearn.metrics import roc_auc_score, roc_curve
import opacus
from opacus.accountants import RDPAccountant
from opacus.accountants.analysis import rdp as rdp_analysis
from opacus.accountants.utils import get_noise_multiplier

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
    accountant_cases = []
    for sigma, q, steps, delta in [(1.0, 0.01, 1000, 1e-5), (0.7, 0.004, 5000, 1e-5), (2.5, 0.1, 300, 1e-6),
                                   (5.0, 1e-4, 100000, 1e-5), (0.5, 0.02, 10, 1e-3), (1.3, 64 / 60000, 20000, 1e-5)]:
        accountant = RDPAccountant()
        accountant.history = [(sigma, q, steps)]
        epsilon, order = accountant.get_privacy_spent(delta=delta)
        orders = [1.5, 2.0, 3.7, 8.0, 32.0]
        rdp = rdp_analysis.compute_rdp(q=q, noise_multiplier=sigma, steps=1, orders=orders)
        accountant_cases.append({"sigma": sigma, "q": q, "steps": steps, "delta": delta, "epsilon": epsilon,
                                 "order": order, "orders": orders, "rdp": [float(r) for r in rdp]})
    noise_cases = []
    for epsilon, delta, q, steps in [(10.0, 1e-5, 0.01, 2000), (1.0, 1e-5, 0.004, 5000), (3.0, 1e-6, 0.05, 500)]:
        sigma = get_noise_multiplier(target_epsilon=epsilon, target_delta=delta, sample_rate=q, steps=steps)
        accountant = RDPAccountant()
        accountant.history = [(sigma, q, steps)]
        noise_cases.append({"target_epsilon": epsilon, "delta": delta, "q": q, "steps": steps, "sigma": sigma,
                            "epsilon": accountant.get_epsilon(delta=delta)})
    (HERE / "rdp.json").write_text(json.dumps({"opacus": opacus.__version__, "accountant": accountant_cases,
                                               "noise": noise_cases}, indent=1) + "\n")
    (HERE / "roc.json").write_text(json.dumps({"sklearn": sklearn.__version__, "cases": cases}, indent=1) + "\n")


if __name__ == "__main__":
    main()
