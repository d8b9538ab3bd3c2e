#!/usr/bin/env python3
"""Writes the Inception and resize fixtures that the FID Inception tests in EvaluationTests read.

Run from the project root with the venv that has the reference implementations installed:

    /work/venv/bin/pip install pytorch-fid clean-fid
    /work/venv/bin/python Tests/Fixtures/make_inception_fixtures.py

Made with torch 2.15.0, torchvision 0.29.2, pytorch-fid 0.3.0, clean-fid 0.1.35, Pillow 13.0.0
and numpy 2.4.6 (the script prints the versions it ran with). Nothing is downloaded: the network
is pytorch-fid's own FID InceptionV3 (pytorch_fid.inception.InceptionV3 with
use_fid_inception=True: torchvision's Inception3 with pytorch-fid's FIDInceptionA/C/E_1/E_2
blocks, 2048-d pool3 features), built with its weight download replaced by the freshly built
network's own state dict, and then every floating-point tensor of that state dict (the names of
pytorch-fid's weight file, `Conv2d_1a_3x3.conv.weight` ... `Mixed_7c.branch_pool.bn.running_var`,
`fc.weight`, `fc.bias`) is overwritten from the formula below, which the Swift test reproduces.
`num_batches_tracked` is left alone (unused in eval mode).

The formula. For a key (a tensor name, or one of the pseudo-keys below) and a shape:
  seed = 64-bit FNV-1a of the key's UTF-8 bytes (basis 0xcbf29ce484222325, prime 0x100000001b3;
         xor the byte, then multiply mod 2^64);
  for flat index i (0-based, C order), all unsigned mod 2^64 (SplitMix64's finalizer):
         z = seed + (i + 1) * 0x9E3779B97F4A7C15
         z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
         z = (z ^ (z >> 27)) * 0x94D049BB133111EB
         z = z ^ (z >> 31)
         v = Double(z >> 40) / 2^24 * 2 - 1          (exact, in [-1, 1))
  weights, computed in float64 and then rounded to float32:
         *.conv.weight (O, I, KH, KW)   v * sqrt(6 / (I * KH * KW))   (sqrt of 6.0 / fan_in)
         *.bn.weight                    1 + 0.2 * v
         *.bn.bias                      0.2 * v
         *.bn.running_mean              0.1 * v
         *.bn.running_var               1 + 0.25 * v
         fc.weight, fc.bias             0.01 * v   (not used by the pool3 features)

Files written to Tests/Fixtures/evaluation/:
  inception_features_75.npy            (2, 2048) float32: pytorch-fid's features (eval mode,
                                       no_grad, float32, CPU) of pseudo-key "images75", shape
                                       (2, 3, 75, 75), pixel (v + 1) / 2, with resize_input=False
                                       (75 x 75 is Inception's smallest input); normalize_input
                                       maps [0, 1] to [-1, 1] as 2x - 1.
  inception_features_28_resized.npy    (1, 2048) float32: pseudo-key "image28", shape
                                       (1, 1, 28, 28), pixel round((v + 1) / 2 * 255) / 255 (8-bit
                                       levels; no value lands on .5, checked), repeated to 3
                                       channels, with resize_input=True: pytorch-fid's
                                       F.interpolate(size=(299, 299), mode='bilinear',
                                       align_corners=False), antialias off (torch's default).
  resize_bilinear_5x6_to_13x11{_input,}.npy   pseudo-key "resize", (1, 1, 5, 6), (v + 1) / 2,
                                       through that same F.interpolate call to (13, 11).
  resize_bilinear_12x10_to_5x4{_input,}.npy   pseudo-key "resize_down", (1, 1, 12, 10) -> (5, 4).
  resize_clean_5x6_to_13x11{_input,}.npy      clean-fid's default ("clean") resize:
                                       cleanfid.resize.make_resizer("PIL", False, "bicubic",
                                       (W, H)), i.e. each channel as a float32 PIL image (mode
                                       'F'), Image.resize((W, H), Image.BICUBIC), clipped to
                                       [0, 255]. Input: pseudo-key "resize", (5, 6), 8-bit values
                                       round((v + 1) / 2 * 255) as clean-fid gets them (uint8,
                                       the gray channel repeated to RGB); output (13, 11) float32,
                                       channel 0 (all three channels are equal, checked).
  resize_clean_12x10_to_5x4{_input,}.npy      pseudo-key "resize_down", (12, 10) -> (5, 4).
  inception_fixtures.json              the FNV seeds and first formula values of a few keys, the
                                       first weights of Conv2d_1a_3x3, and the feature
                                       statistics, to find a mismatch in the Swift formula fast.
All *_input.npy files are float32 and hold exactly the values fed to the reference.

How tight a test can be: the same network in float64 differs from these float32 features by at
most 1e-6 (75 x 75) and 2e-6 (28 -> 299). With these random weights much of each feature does
not depend on the image (the two 75 x 75 images' features correlate 0.998), but likely mistakes
still move some feature by far more: count_include_pad=True in the A/C/E_1 average pools 1.06
(75) and 0.25 (28), batch-norm eps 1e-5 instead of 1e-3 0.017 and 0.055, align_corners=True in
the resize 0.076, average instead of max pooling in Mixed_7c 1.59 (28 -> 299 only: at 75 x 75
Mixed_7c's input is 1 x 1, where both pools are the identity).
"""

import importlib.metadata
import importlib.util
import json
import os
import sys

import numpy as np
import PIL
import torch
import torch.nn.functional as F
import torchvision
from PIL import Image

import cleanfid.resize
import pytorch_fid
import pytorch_fid.inception

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_spec = importlib.util.spec_from_file_location("convert", os.path.join(ROOT, "Models", "fid-inception", "convert.py"))
CONVERTER = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(CONVERTER)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "evaluation")
MASK = (1 << 64) - 1


# --------------------------------------------------------------------------------- formula


def fnv1a64(key):
    h = 0xcbf29ce484222325
    for byte in key.encode("utf-8"):
        h = ((h ^ byte) * 0x100000001b3) & MASK
    return h


def formula(key, shape):
    """v in [-1, 1) for every element of `shape` (float64, C order), vectorized in uint64."""
    count = int(np.prod(shape, dtype=np.int64))
    i = np.arange(1, count + 1, dtype=np.uint64)
    z = np.uint64(fnv1a64(key)) + i * np.uint64(0x9E3779B97F4A7C15)  # arrays wrap mod 2^64
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return ((z >> np.uint64(40)).astype(np.float64) / 2.0**24 * 2 - 1).reshape(shape)


def formula_scalar(key, i):
    """The same for one index, in plain Python integers (a check of the vectorized version)."""
    z = (fnv1a64(key) + (i + 1) * 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    z = z ^ (z >> 31)
    return float(z >> 40) / 2.0**24 * 2 - 1


def weight_values(key, shape):
    v = formula(key, shape)
    if key.endswith(".conv.weight"):
        fan_in = int(np.prod(shape[1:]))
        return v * np.sqrt(6.0 / fan_in)
    if key.endswith(".bn.weight"):
        return 1 + 0.2 * v
    if key.endswith(".bn.bias"):
        return 0.2 * v
    if key.endswith(".bn.running_mean"):
        return 0.1 * v
    if key.endswith(".bn.running_var"):
        return 1 + 0.25 * v
    if key in ("fc.weight", "fc.bias"):
        return 0.01 * v
    raise ValueError(f"no formula for {key}")


# --------------------------------------------------------------------------------- network


def build_fid_inception(resize_input):
    """pytorch-fid's FID InceptionV3 without its weight download: the converter's builder
    (Models/fid-inception/convert.py), so that the fixtures test the network users convert to."""
    return CONVERTER.build_fid_inception(resize_input=resize_input)


def set_formula_weights(inception):
    state = inception.state_dict()
    new = {}
    for key, tensor in state.items():
        if key.endswith("num_batches_tracked"):
            continue
        assert tensor.dtype == torch.float32, key
        new[key] = torch.from_numpy(weight_values(key, tuple(tensor.shape)).astype(np.float32))
    missing, unexpected = inception.load_state_dict(new, strict=False)
    assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing)
    return new


def features(model, images):
    with torch.no_grad():
        out = model(torch.from_numpy(images))[0]
    return out.reshape(out.shape[0], -1).numpy().astype(np.float32)


def describe(name, x):
    s = {"min": float(x.min()), "max": float(x.max()), "mean": float(x.mean()),
         "std": float(x.std()), "zero_fraction": float(np.mean(x == 0))}
    print(f"{name}: shape {x.shape} min {s['min']:.6g} max {s['max']:.6g} mean {s['mean']:.6g} "
          f"std {s['std']:.6g} zeros {s['zero_fraction']:.3f}")
    assert np.isfinite(x).all(), name
    assert s["std"] > 1e-3 and s["zero_fraction"] < 0.9 and s["max"] < 1e4, f"{name} degenerate"
    return s


def eight_bit(key, shape):
    scaled = (formula(key, shape) + 1) / 2 * 255
    assert not np.any(scaled - np.floor(scaled) == 0.5), key  # no ties: any rounding rule agrees
    return np.round(scaled)


# ---------------------------------------------------------------------------------- main


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(min(2, torch.get_num_threads()))
    print(f"python {sys.version.split()[0]} torch {torch.__version__} torchvision "
          f"{torchvision.__version__} pytorch-fid {pytorch_fid.__version__} clean-fid "
          f"{importlib.metadata.version('clean-fid')} Pillow {PIL.__version__} "
          f"numpy {np.__version__}")
    info = {"seeds": {}, "first_values": {}}

    for key in ("Conv2d_1a_3x3.conv.weight", "Mixed_7c.branch_pool.bn.running_var", "images75"):
        v = formula(key, (8,))
        assert all(v[i] == formula_scalar(key, i) for i in range(8))
        info["seeds"][key] = f"0x{fnv1a64(key):016x}"
        info["first_values"][key] = v.tolist()

    # -- the network: pytorch-fid's FID Inception with formula weights ----------------------
    plain, inception = build_fid_inception(resize_input=False)
    weights = set_formula_weights(inception)
    resizing, inception2 = build_fid_inception(resize_input=True)
    inception2.load_state_dict(weights, strict=False)
    count = sum(t.numel() for t in weights.values())
    print(f"{len(weights)} tensors, {count} values")
    info["tensor_count"] = len(weights)
    info["value_count"] = count
    info["Conv2d_1a_3x3.conv.weight[0, 0, 0, :3]"] = \
        weights["Conv2d_1a_3x3.conv.weight"][0, 0, 0, :3].tolist()

    # -- (a) two 75 x 75 colour images, no resize ---------------------------------------------
    images75 = ((formula("images75", (2, 3, 75, 75)) + 1) / 2).astype(np.float32)
    f75 = features(plain, images75)
    info["features_75"] = describe("features 75x75", f75)
    np.save(os.path.join(OUT, "inception_features_75.npy"), f75)

    # -- (b) one 28 x 28 gray image, 8-bit levels, pytorch-fid's resize to 299 -------------------
    levels = eight_bit("image28", (1, 1, 28, 28))
    assert all(np.float32(n / 255) == np.float32(n) / np.float32(255) for n in range(256))
    gray = (levels / 255).astype(np.float32)
    f28 = features(resizing, np.repeat(gray, 3, axis=1))
    info["features_28_resized"] = describe("features 28x28 -> 299", f28)
    np.save(os.path.join(OUT, "inception_features_28_resized.npy"), f28)

    # -- (c) pytorch-fid's bilinear resize (F.interpolate, align_corners=False, no antialias) ----
    for key, shape, size, name in (("resize", (1, 1, 5, 6), (13, 11), "5x6_to_13x11"),
                                   ("resize_down", (1, 1, 12, 10), (5, 4), "12x10_to_5x4")):
        x = ((formula(key, shape) + 1) / 2).astype(np.float32)
        y = F.interpolate(torch.from_numpy(x), size=size, mode="bilinear",
                          align_corners=False).numpy()
        assert np.array_equal(y, F.interpolate(torch.from_numpy(x), size=size, mode="bilinear",
                                               align_corners=False, antialias=False).numpy())
        np.save(os.path.join(OUT, f"resize_bilinear_{name}_input.npy"), x)
        np.save(os.path.join(OUT, f"resize_bilinear_{name}.npy"), y)
        print(f"bilinear {name}: {y.shape} range [{y.min():.4f}, {y.max():.4f}]")

    # -- (d) clean-fid's "clean" resize: PIL bicubic on float32 channels, clipped ------------------
    for key, shape, (width, height), name in (("resize", (5, 6), (11, 13), "5x6_to_13x11"),
                                              ("resize_down", (12, 10), (4, 5), "12x10_to_5x4")):
        x = eight_bit(key, shape)
        rgb = np.repeat(x.astype(np.uint8)[:, :, None], 3, axis=2)  # as clean-fid reads a file
        resize = cleanfid.resize.make_resizer("PIL", False, "bicubic", (width, height))
        y = resize(rgb)
        assert y.shape == (height, width, 3) and y.dtype == np.float32
        assert np.array_equal(y[:, :, 0], y[:, :, 1]) and np.array_equal(y[:, :, 0], y[:, :, 2])
        np.save(os.path.join(OUT, f"resize_clean_{name}_input.npy"), x.astype(np.float32))
        np.save(os.path.join(OUT, f"resize_clean_{name}.npy"), y[:, :, 0].copy())
        print(f"clean {name}: {y[:, :, 0].shape} range [{y.min():.4f}, {y.max():.4f}]")

    with open(os.path.join(OUT, "inception_fixtures.json"), "w") as f:
        json.dump(info, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
