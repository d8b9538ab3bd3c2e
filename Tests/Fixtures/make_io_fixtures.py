#!/usr/bin/env python3
"""Writes the small reference files that NNTests/NpyTests.swift and SafeTensorsTests.swift read.

Run from anywhere with a Python that has numpy, torch and safetensors:

    /work/venv/bin/python Tests/Fixtures/make_io_fixtures.py

It (re)writes Tests/Fixtures/io/ next to this script; the output is deterministic, so running
it again leaves the files unchanged. The tests hard-code the values below, so keep the two in
step when changing either.

.npy files (written by numpy):
  f4_2x3.npy          float32, shape (2, 3), values (0..5) / 4 - 0.5, version 1.0
  f8_1d.npy           float64, shape (5,), [0.1, -2.5, 1e300, 5e-324, -0.0], version 1.0
  i8_scalar.npy       int64, shape (), -1234567890123, version 1.0
  f4_v2.npy           float32, shape (3,), [1, 2, 3], version 2.0 (32-bit header length)
  i8_v3.npy           int64, shape (2, 2), [[1, -2], [3, 2**62]], version 3.0
  f4_big_endian.npy   '>f4', shape (2,), [1.5, -0.25]
  f8_empty.npy        float64, shape (0, 3)
  f4_fortran.npy      float32, shape (2, 3), fortran_order True (the reader must reject it)

.safetensors files (written by safetensors.torch.save_file):
  mixed.safetensors   f32: float32 (2, 3) = (0..5) / 8
                      f16: float16 (7,) = [1, -2.5, 65504, 2**-24, -0, inf, 1/3 rounded]
                      f16_nan: float16 (1,) = [nan]
                      bf16: bfloat16 (2, 2) = [1.5, -3, 0.15625, 256]
                      f64: float64 (3,) = [0.1, -1e10, 1e-3]
                      scalar: float32 () = 7
                      empty: float32 (0, 4)
                      metadata {"note": "fixture"} (one key: several would come out in
                      random order, and the file would not be deterministic)
  pair.safetensors    a: float32 (2,) = [1, 2]; b: float32 (1, 3) = [3, 4, 5];
                      metadata {"format": "pt"}. The Swift writer must produce these exact bytes.
"""

import io
import os

import numpy as np
import torch
from numpy.lib import format as npy_format
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "io")


def save_npy(name, array, version=None):
    path = os.path.join(OUT, name)
    if version is None:
        np.save(path, array)
    else:
        with open(path, "wb") as f:
            npy_format.write_array(f, array, version=version)


def make_npy():
    save_npy("f4_2x3.npy", (np.arange(6, dtype=np.float32) / 4 - 0.5).reshape(2, 3))
    save_npy("f8_1d.npy", np.array([0.1, -2.5, 1e300, 5e-324, -0.0], dtype=np.float64))
    save_npy("i8_scalar.npy", np.array(-1234567890123, dtype=np.int64))
    save_npy("f4_v2.npy", np.array([1, 2, 3], dtype=np.float32), version=(2, 0))
    save_npy("i8_v3.npy", np.array([[1, -2], [3, 2**62]], dtype=np.int64), version=(3, 0))
    save_npy("f4_big_endian.npy", np.array([1.5, -0.25], dtype=">f4"))
    save_npy("f8_empty.npy", np.zeros((0, 3), dtype=np.float64))
    save_npy("f4_fortran.npy", np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))


def make_safetensors():
    mixed = {
        "f32": (torch.arange(6, dtype=torch.float32) / 8).reshape(2, 3),
        "f16": torch.tensor([1, -2.5, 65504, 2**-24, -0.0, float("inf"), 1 / 3], dtype=torch.float16),
        "f16_nan": torch.tensor([float("nan")], dtype=torch.float16),
        "bf16": torch.tensor([[1.5, -3], [0.15625, 256]], dtype=torch.bfloat16),
        "f64": torch.tensor([0.1, -1e10, 1e-3], dtype=torch.float64),
        "scalar": torch.tensor(7, dtype=torch.float32),
        "empty": torch.zeros(0, 4, dtype=torch.float32),
    }
    save_file(mixed, os.path.join(OUT, "mixed.safetensors"), metadata={"note": "fixture"})
    pair = {
        "a": torch.tensor([1, 2], dtype=torch.float32),
        "b": torch.tensor([[3, 4, 5]], dtype=torch.float32),
    }
    save_file(pair, os.path.join(OUT, "pair.safetensors"), metadata={"format": "pt"})


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    make_npy()
    make_safetensors()
    for name in sorted(os.listdir(OUT)):
        print(f"{name}: {os.path.getsize(os.path.join(OUT, name))} bytes")
