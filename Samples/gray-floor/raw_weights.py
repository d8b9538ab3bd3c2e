#!/usr/bin/env python3
"""A model folder with a run's raw (not averaged) weights, to compare with its EMA weights.

Usage: raw_weights.py RUN_FOLDER OUT_FOLDER. Copies the run's pipeline folder (its U-Net holds
the EMA weights) and replaces the U-Net's weights with the `model/*` tensors of
training_state/state.safetensors. Needs only numpy: safetensors is an 8-byte header length, a
JSON header and the raw tensor bytes.
"""
import json
import pathlib
import shutil
import struct
import sys


def read(path):
    data = pathlib.Path(path).read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    body = data[8 + length:]
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        start, end = entry["data_offsets"]
        tensors[name] = (entry["dtype"], entry["shape"], body[start:end])
    return tensors


def write(path, tensors):
    header, offset, chunks = {"__metadata__": {"format": "pt"}}, 0, []
    for name in sorted(tensors):
        dtype, shape, raw = tensors[name]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        chunks.append(raw)
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    pathlib.Path(path).write_bytes(struct.pack("<Q", len(encoded)) + encoded + b"".join(chunks))


run, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
shutil.rmtree(out, ignore_errors=True)
shutil.copytree(run, out, ignore=shutil.ignore_patterns("training_state", "samples", "loss.*", ".diffuse.lock"))
state = read(run / "training_state" / "state.safetensors")
raw = {name[len("model/"):]: value for name, value in state.items() if name.startswith("model/")}
ema = read(run / "unet" / "diffusion_pytorch_model.safetensors")
assert set(raw) == set(ema), "the state's model/ tensors are not the U-Net's"
write(out / "unet" / "diffusion_pytorch_model.safetensors", raw)
print(f"{out}: {len(raw)} raw tensors in place of the EMA ones")
