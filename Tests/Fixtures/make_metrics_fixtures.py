#!/usr/bin/env python3
"""Writes the features and reference numbers that EvaluationTests/MetricsTests.swift reads.

Run from anywhere with the venv that has the reference implementations installed:

    /work/venv/bin/pip install pytorch-fid clean-fid torch-fidelity prdc
    /work/venv/bin/python Tests/Fixtures/make_metrics_fixtures.py

It (re)writes Tests/Fixtures/evaluation/metrics_*.npy and metrics_expected.json next to this
script. Everything is seeded, so a second run writes the same numbers. The expected numbers come
from the public implementations themselves, called on the stored features:

  FID        pytorch-fid 0.3.0  pytorch_fid.fid_score.calculate_frechet_distance (scipy sqrtm),
             statistics as pytorch-fid makes them (np.mean, np.cov(rowvar=False)).
  KID        clean-fid 0.1.35   cleanfid.fid.kernel_distance, with np.random.choice replaced by a
             function handing out the stored subset indices (clean-fid draws x = fake rows, then
             y = real rows, per subset); per-subset values from torch-fidelity 0.4.0
             metric_kid.kernel_mmd (mmd2 'unbiased'), std = np.std (ddof 0) as torch-fidelity.
  P/R        torch-fidelity 0.4.0 metric_prc.calculate_precision_recall_full (k = 3, <=), given
             float64 tensors (features_1 = generated, features_2 = real).
  P/R/D/C    prdc 0.2 prdc.compute_prdc (strict <), k = 5 and k = 3.
  IS         torch-fidelity 0.4.0 metric_isc.isc_features_to_metric(logits, splits,
             shuffle=False); the stored input is softmax(logits) in float64.
  Memorization  numpy brute force: Euclidean distances, argsort.

Features are stored as float32 (exactly representable, so Swift and Python see the same numbers)
and every reference is computed in float64 from the float32 values.

Cases (file prefix metrics_<case>_):
  shifted   real 300 x 16 (correlated Gaussian), fake 256 x 16 = scaled and shifted: FID large;
            mean and covariance; KID with 10 subsets of 100 (indices stored); P/R/D/C.
  near      real 300 x 16, fake = real + 1e-4 noise: FID about 0 (nonsingular covariances);
            KID about 0 (where its sums cancel most), with the shifted case's subsets.
  singular  real 20 x 32, fake 24 x 32: N < D, both covariances singular.
  same      real 20 x 32 and an exact copy: FID about 0 with singular covariances; pytorch-fid's
            own value is about -3e-7 here (rounding noise around the zero eigenvalues).
  fallback  given means and covariances (float64): sigma2 has an eigenvalue of -5e-7, so the
            product is not positive semidefinite; expected value = pytorch-fid's eps = 1e-6
            fallback branch (its own code, run by making the first sqrtm call return NaN).
  ties      integer points in 3 dims with duplicates: distances tie with radii exactly, so
            <= (torch-fidelity) and < (prdc) give different answers; checked below.
  gauss     N(0, I)-like features made from Philox4x32-10 (NN's generator, reimplemented here)
            by the Irwin-Hall sum of 12 uniforms, so that Swift makes the same numbers without a
            file: value e of seed s = sum_{t<12} u(12 e + t) - 6 (summed left to right), where
            u(w) = (word w % 4 of Philox block w / 4 + 0.5) / 2^32. 2000 real (seed 1) and 2000
            fake (seed 2) of dimension 64; prdc k = 5 and torch-fidelity k = 3.
  isc       softmax of 203 x 10 logits, splits 10 and 3.
  memo      references 120 x 48, queries 40 x 48 of which 10 are near-copies (+1e-3 noise) and
            2 exact copies of references.
"""

import contextlib
import io
import json
import os

import numpy as np
import torch
from scipy import linalg

import cleanfid.fid
import prdc
import pytorch_fid.fid_score
from torch_fidelity.metric_isc import isc_features_to_metric
from torch_fidelity.metric_kid import kernel_mmd
from torch_fidelity.metric_prc import calculate_precision_recall_full

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "evaluation")
expected = {}


def save(name, array):
    np.save(os.path.join(OUT, f"metrics_{name}.npy"), array)


def f32(a):
    """Rounded to float32 (what is stored), returned as float64 for the references."""
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def stats(x):
    return np.mean(x, axis=0), np.cov(x, rowvar=False)


def pytorch_fid_value(mu1, s1, mu2, s2):
    """pytorch-fid's value, and whether it took its eps fallback (it prints a message then)."""
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        value = pytorch_fid.fid_score.calculate_frechet_distance(mu1, s1, mu2, s2)
    return float(value), "singular product" in captured.getvalue()


def fid_case(name, real, fake):
    value, fell_back = pytorch_fid_value(*stats(real), *stats(fake))
    assert not fell_back, name  # SciPy >= 1.16's sqrtm does not fail on these
    expected.setdefault(name, {})["fid"] = value
    print(f"{name}: FID {value!r}")


def kid_case(name, real, fake, real_idx, fake_idx):
    subsets, m = real_idx.shape
    draws = iter([idx for s in range(subsets) for idx in (fake_idx[s], real_idx[s])])
    original_choice = np.random.choice
    np.random.choice = lambda *args, **kwargs: next(draws)
    try:
        kid = cleanfid.fid.kernel_distance(real, fake, num_subsets=subsets, max_subset_size=m)
    finally:
        np.random.choice = original_choice
    values = [float(kernel_mmd(real[real_idx[s]], fake[fake_idx[s]], kid_kernel="poly",
                               kid_kernel_poly_degree=3, kid_kernel_poly_gamma=None,
                               kid_kernel_poly_coef0=1)) for s in range(subsets)]
    assert abs(np.mean(values) - kid) <= 1e-9 * abs(kid)
    expected[name].update(kid=float(kid), kid_std=float(np.std(values)), kid_values=values)
    print(f"{name}: KID {kid!r} std {np.std(values)!r}")


def prdc_numbers(real, fake, k):
    with contextlib.redirect_stdout(io.StringIO()):
        r = prdc.compute_prdc(real_features=real, fake_features=fake, nearest_k=k)
    return {key: float(r[key]) for key in ("precision", "recall", "density", "coverage")}


def torch_fidelity_pr(real, fake, k=3):
    p, r = calculate_precision_recall_full(torch.from_numpy(fake), torch.from_numpy(real), neighborhood=k)
    return {"precision": float(p), "recall": float(r)}


def check_margins(real, fake, name):
    """The P/R/D/C answers must not hang on rounding: the same with every radius moved by 1e-9
    relative either way (prdc with scaled radii, re-implemented in numpy here)."""
    from scipy.spatial.distance import cdist
    drr, dff, drf = cdist(real, real), cdist(fake, fake), cdist(real, fake)
    for k in (3, 5):
        rr = np.sort(drr, axis=1)[:, k]
        rf = np.sort(dff, axis=1)[:, k]
        answers = set()
        for scale in (1 - 1e-9, 1 + 1e-9):
            for strict in (True, False):
                lt = (lambda a, b: a < b) if strict else (lambda a, b: a <= b)
                answers.add((strict,) + (
                    lt(drf, rr[:, None] * scale).any(axis=0).sum(),
                    lt(drf, rf[None, :] * scale).any(axis=1).sum(),
                    lt(drf, rr[:, None] * scale).sum(),
                    lt(drf.min(axis=1), rr * scale).sum()))
        assert len(answers) == 2, (name, k, answers)  # one answer for < and one for <=


# ---------------------------------------------------------------------------------- philox


def philox_words(seed, count):
    """Words 0 ..< count of NN's Philox4x32-10 stream (Sources/NN/Core/Random.swift): word w is
    lane w % 4 of block w / 4, block i = Philox(counter = (lo32(i), hi32(i), 0, 0),
    key = (lo32(seed), hi32(seed)))."""
    blocks = (count + 3) // 4
    counter = np.arange(blocks, dtype=np.uint64)
    m32 = np.uint64(0xFFFFFFFF)
    c0, c1 = counter & m32, counter >> np.uint64(32)
    c2 = np.zeros_like(c0)
    c3 = np.zeros_like(c0)
    k0, k1 = np.uint64(seed & 0xFFFFFFFF), np.uint64(seed >> 32)
    for _ in range(10):
        p0 = np.uint64(0xD2511F53) * c0
        p1 = np.uint64(0xCD9E8D57) * c2
        c0, c1, c2, c3 = ((p1 >> np.uint64(32)) ^ c1 ^ k0, p1 & m32,
                          (p0 >> np.uint64(32)) ^ c3 ^ k1, p0 & m32)
        k0 = (k0 + np.uint64(0x9E3779B9)) & m32
        k1 = (k1 + np.uint64(0xBB67AE85)) & m32
    return np.stack([c0, c1, c2, c3], axis=1).reshape(-1)[:count]


def philox_features(seed, rows, dim):
    u = (philox_words(seed, 12 * rows * dim).astype(np.float64) + 0.5) / 2.0**32
    u = u.reshape(rows * dim, 12)
    s = np.zeros(rows * dim)
    for t in range(12):
        s = s + u[:, t]
    return (s - 6).reshape(rows, dim)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20240611)

    # -- shifted: FID, statistics, KID, P/R/D/C ------------------------------------------------
    d = 16
    mix = rng.normal(size=(d, d)) / np.sqrt(d)
    real = f32(rng.normal(size=(300, d)) @ mix)
    fake = f32(1.3 * (rng.normal(size=(256, d)) @ mix) + 0.5)
    save("shifted_real", real.astype(np.float32))
    save("shifted_fake", fake.astype(np.float32))
    mu, sigma = stats(real)
    save("shifted_real_mean", mu)
    save("shifted_real_covariance", sigma)
    fid_case("shifted", real, fake)

    subsets, m = 10, 100
    real_idx = np.stack([rng.choice(len(real), m, replace=False) for _ in range(subsets)])
    fake_idx = np.stack([rng.choice(len(fake), m, replace=False) for _ in range(subsets)])
    save("shifted_kid_real_indices", real_idx.astype(np.int64))
    save("shifted_kid_fake_indices", fake_idx.astype(np.int64))
    kid_case("shifted", real, fake, real_idx, fake_idx)

    check_margins(real, fake, "shifted")
    expected["shifted"]["pr_k3_closed"] = torch_fidelity_pr(real, fake)
    expected["shifted"]["prdc_k5"] = prdc_numbers(real, fake, 5)
    expected["shifted"]["prdc_k3"] = prdc_numbers(real, fake, 3)
    print("shifted:", expected["shifted"]["pr_k3_closed"], expected["shifted"]["prdc_k5"])

    # -- near: FID about 0, nonsingular ---------------------------------------------------------
    near = f32(real + 1e-4 * rng.normal(size=real.shape))
    save("near_fake", near.astype(np.float32))
    fid_case("near", real, near)
    kid_case("near", real, near, real_idx, fake_idx)

    # -- singular and same: N < D -----------------------------------------------------------------
    d = 32
    mix = rng.normal(size=(d, d)) / np.sqrt(d)
    sreal = f32(rng.normal(size=(20, d)) @ mix)
    sfake = f32(1.5 * (rng.normal(size=(24, d)) @ mix) + 0.3)
    save("singular_real", sreal.astype(np.float32))
    save("singular_fake", sfake.astype(np.float32))
    fid_case("singular", sreal, sfake)
    fid_case("same", sreal, sreal.copy())

    # -- fallback: pytorch-fid's eps branch -----------------------------------------------------
    d = 8
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    s1 = q @ np.diag(np.linspace(0.5, 2.0, d)) @ q.T
    q2, _ = np.linalg.qr(rng.normal(size=(d, d)))
    s2 = q2 @ np.diag(np.concatenate([[-5e-7], np.linspace(0.2, 1.5, d - 1)])) @ q2.T
    s1, s2 = (s1 + s1.T) / 2, (s2 + s2.T) / 2
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    for name, value in (("fallback_mean1", mu1), ("fallback_mean2", mu2),
                        ("fallback_covariance1", s1), ("fallback_covariance2", s2)):
        save(name, value)

    class FailFirstSqrtm:
        """scipy.linalg for pytorch-fid, except that its first sqrtm gives NaN (the failure that
        sends pytorch-fid to its eps branch)."""
        def __init__(self):
            self.calls = 0

        def sqrtm(self, a, *args, **kwargs):
            self.calls += 1
            result = linalg.sqrtm(a, *args, **kwargs)
            if self.calls == 1:
                nan = np.full_like(a, np.nan)
                return (nan, 0.0) if isinstance(result, tuple) else nan
            return result

    pytorch_fid.fid_score.linalg = FailFirstSqrtm()
    try:
        value, fell_back = pytorch_fid_value(mu1, s1, mu2, s2)
    finally:
        pytorch_fid.fid_score.linalg = linalg
    assert fell_back
    expected["fallback"] = {"fid": value}
    print(f"fallback: FID {value!r}")

    # -- ties ---------------------------------------------------------------------------------
    treal = rng.integers(0, 4, size=(40, 3)).astype(np.float64)
    treal[30:] = treal[:10]  # duplicates
    tfake = rng.integers(0, 4, size=(30, 3)).astype(np.float64)
    tfake[25:] = treal[:5]
    save("ties_real", treal.astype(np.float32))
    save("ties_fake", tfake.astype(np.float32))
    closed = torch_fidelity_pr(treal, tfake)
    open3 = prdc_numbers(treal, tfake, 3)
    assert (closed["precision"], closed["recall"]) != (open3["precision"], open3["recall"])
    expected["ties"] = {"pr_k3_closed": closed, "prdc_k3": open3, "prdc_k5": prdc_numbers(treal, tfake, 5)}
    print("ties:", expected["ties"])

    # -- gauss: Philox features, prdc and torch-fidelity ----------------------------------------
    n, d = 2000, 64
    greal, gfake = philox_features(1, n, d), philox_features(2, n, d)
    check_margins(greal, gfake, "gauss")
    expected["gauss"] = {"count": n, "dimension": d, "real_seed": 1, "fake_seed": 2,
                         "first_values": [float(v) for v in greal[0, :4]],
                         "prdc_k5": prdc_numbers(greal, gfake, 5),
                         "pr_k3_closed": torch_fidelity_pr(greal, gfake)}
    print("gauss:", expected["gauss"])

    # -- isc ------------------------------------------------------------------------------------
    logits = 3 * rng.normal(size=(203, 10))
    logits[:, 0] += 2
    probabilities = torch.from_numpy(logits).softmax(dim=1).numpy()
    save("isc_probabilities", probabilities)
    expected["isc"] = {}
    for splits in (10, 3):
        r = isc_features_to_metric(torch.from_numpy(logits), splits=splits, shuffle=False)
        expected["isc"][f"splits{splits}"] = {"mean": r["inception_score_mean"], "std": r["inception_score_std"]}
    print("isc:", expected["isc"])

    # -- memo -----------------------------------------------------------------------------------
    refs = f32(rng.uniform(-1, 1, size=(120, 48)))
    queries = f32(rng.uniform(-1, 1, size=(40, 48)))
    copied = rng.choice(120, 12, replace=False)
    queries[:10] = f32(refs[copied[:10]] + 1e-3 * rng.normal(size=(10, 48)))
    queries[10:12] = refs[copied[10:]]
    save("memo_references", refs.astype(np.float32))
    save("memo_queries", queries.astype(np.float32))
    dist = np.sqrt(((queries[:, None, :] - refs[None, :, :]) ** 2).sum(axis=2))
    order = np.argsort(dist, axis=1, kind="stable")
    first, second = order[:, 0], order[:, 1]
    d1, d2 = dist[np.arange(40), first], dist[np.arange(40), second]
    assert (d2 - d1 > 1e-6).all()  # no near-ties between the two nearest
    expected["memo"] = {"first": first.tolist(), "second": second.tolist(),
                        "first_distance": d1.tolist(), "second_distance": d2.tolist(),
                        "copy_rate": float(np.mean(d1 < d2 / 3))}
    print("memo: copy rate", expected["memo"]["copy_rate"])

    with open(os.path.join(OUT, "metrics_expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
