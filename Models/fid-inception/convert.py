#!/usr/bin/env python3
"""Converts pytorch-fid's FID Inception weights to a safetensors file that `diffuse` reads.

    pip install pytorch-fid safetensors
    python Models/fid-inception/convert.py pt_inception-2015-12-05-6726825d.pth fid-inception.safetensors
    python Models/fid-inception/convert.py pt_inception-2015-12-05-6726825d.pth fid-inception.safetensors --check
    python Models/fid-inception/convert.py IN.pth OUT.safetensors --check some-image.png

It reads the state dict (torch.load, map_location="cpu", weights_only=True), keeps the tensors
that pytorch-fid's FID InceptionV3 uses for its 2048-d pool3 features (the conv and batch-norm
tensors of Conv2d_1a_3x3 ... Mixed_7c; fc.*, AuxLogits.* and num_batches_tracked are dropped),
checks them against a pytorch-fid network built without weights (same names, same shapes, none
missing), and writes them as contiguous float32 tensors under the same names.

--check loads the converted file into pytorch-fid's network and prints the features of one image
as pytorch-fid's fid_score reads it (RGB, pixels / 255, bilinear resize to 299 x 299 inside the
network), to compare with `diffuse`: the image given, or else a mid-gray (128) 299 x 299 image.
"""

import argparse
import hashlib
import re
import sys
from unittest import mock

import torch
from safetensors.torch import load_file, save_file

import pytorch_fid.inception

SOURCE = "pt_inception-2015-12-05-6726825d.pth"


def build_fid_inception(weights=None, resize_input=True):
    """pytorch-fid's InceptionV3([3]) for FID without its download: its weight fetch is handed
    the freshly built network's own state dict (pytorch-fid has swapped in its FID blocks by
    then), updated with `weights`. Returns the wrapper and the torchvision Inception3 inside it
    (the one whose state dict has the weight file's names; the wrapper's blocks share its
    modules). Tests/Fixtures/make_inception_fixtures.py builds its network with this too."""
    built = []
    original = pytorch_fid.inception._inception_v3

    def capture(*args, **kwargs):
        built.append(original(*args, **kwargs))
        return built[-1]

    def no_download(url, *args, **kwargs):
        state = built[-1].state_dict()
        state.update(weights or {})
        return state

    with mock.patch.object(pytorch_fid.inception, "_inception_v3", capture), \
            mock.patch.object(pytorch_fid.inception, "load_state_dict_from_url", no_download):
        model = pytorch_fid.inception.InceptionV3([3], resize_input=resize_input, normalize_input=True,
                                                  use_fid_inception=True)
    assert len(built) == 1
    return model.eval(), built[0].eval()


def needed(key):
    return key.startswith(("Conv2d_", "Mixed_")) and not key.endswith("num_batches_tracked")


def expected_shapes():
    _, inception = build_fid_inception()
    return {key: tuple(t.shape) for key, t in inception.state_dict().items() if needed(key)}


def fail(message):
    sys.exit(f"error: {message}")


def convert(source, destination):
    try:
        state = torch.load(source, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - any failure to read is reported the same way
        text = re.sub(r"\x1b\[[0-9;]*m", "", str(error)).strip()
        fail(f"cannot read {source} as a PyTorch state dict ({type(error).__name__}: "
             f"{text.splitlines()[0] if text else 'no message'})")
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        fail(f"{source} is not a state dict of tensors (expected pytorch-fid's {SOURCE})")

    fc = state.get("fc.weight")
    if fc is not None and tuple(fc.shape) != (1008, 2048):
        fail(f"{source} has fc.weight of shape {tuple(fc.shape)}, not pytorch-fid's (1008, 2048): "
             f"it is not the FID Inception (torchvision's ImageNet Inception has 1000 classes)")

    expected = expected_shapes()
    missing = [key for key in expected if key not in state]
    if missing:
        fail(f"{source} lacks {len(missing)} of the {len(expected)} tensors of pytorch-fid's FID "
             f"Inception: {', '.join(missing[:5])}{', ...' if len(missing) > 5 else ''}")
    for key, shape in expected.items():
        if tuple(state[key].shape) != shape:
            fail(f"{key} in {source} has shape {tuple(state[key].shape)}, pytorch-fid's FID "
                 f"Inception has {shape}")
        if not state[key].is_floating_point():
            fail(f"{key} in {source} is {state[key].dtype}, not floating point")
    extra = [key for key in state if key not in expected and not key.startswith(("fc.", "AuxLogits."))
             and not key.endswith("num_batches_tracked")]
    if extra:
        fail(f"{source} has {len(extra)} tensor(s) that pytorch-fid's FID Inception has not: "
             f"{', '.join(extra[:5])}{', ...' if len(extra) > 5 else ''}")

    tensors = {key: state[key].to(torch.float32).contiguous() for key in expected}
    save_file(tensors, destination, metadata={"source": SOURCE, "format": "pt"})
    with open(source, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    print(f"wrote {len(tensors)} tensors ({sum(t.numel() for t in tensors.values())} values) to "
          f"{destination}; {source} has sha256 {digest}")


def check(destination, image_path):
    import numpy as np
    from PIL import Image

    tensors = load_file(destination)
    model, _ = build_fid_inception(tensors)
    if image_path:
        pixels = np.asarray(Image.open(image_path).convert("RGB"), dtype=np.float32) / 255
        name = image_path
    else:
        pixels = np.full((299, 299, 3), 128 / 255, dtype=np.float32)
        name = "mid-gray (128) 299 x 299"
    x = torch.from_numpy(np.ascontiguousarray(pixels.transpose(2, 0, 1)))[None]
    with torch.no_grad():
        features = model(x)[0].reshape(-1).numpy()
    print(f"pytorch-fid features of {name}: mean {features.mean():.6f} std {features.std():.6f} "
          f"norm {np.linalg.norm(features):.6f}")
    print("first 8:", " ".join(f"{v:.6f}" for v in features[:8]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help=f"pytorch-fid's {SOURCE}")
    parser.add_argument("destination", help="the .safetensors file to write")
    parser.add_argument("--check", nargs="?", const="", default=None, metavar="IMAGE",
                        help="print pytorch-fid's features of IMAGE (or of a mid-gray image) "
                             "with the converted weights")
    args = parser.parse_args()
    convert(args.source, args.destination)
    if args.check is not None:
        check(args.destination, args.check)


if __name__ == "__main__":
    main()
