"""Makes Tests/Fixtures/imaging/resize.safetensors: Pillow's bilinear resizes of small images.

Run from the project root with a Python that has Pillow, numpy and safetensors:

    ../venv/bin/python Tests/Fixtures/make_resize_fixtures.py

Each case `<name>` stores `<name>.input` and `<name>.output` as float32 arrays of 8-bit values,
shape (H, W, C). Plain cases are `Image.resize((w, h), Image.BILINEAR)`. "fit" cases are what a
diffusers training script does with torchvision's `Resize(r)` then `CenterCrop(r)` on a PIL
image: the shorter side becomes r and the longer int(r * long / short), Pillow resizes
bilinearly, then the crop offsets are int(round((size - r) / 2)) (Python's round: half to even).
The metadata gives each case's target: "resize=W,H" or "fit=R".
"""
import numpy as np
import PIL
from PIL import Image
from safetensors.numpy import save_file

rng = np.random.default_rng(0)


def random_image(width, height, channels):
    values = rng.integers(0, 256, size=(height, width, channels), dtype=np.uint8)
    # A smooth ramp plus noise, so that filtering errors show in both flat and busy areas.
    ramp = np.linspace(0, 255, width, dtype=np.float64)[None, :, None]
    mixed = (0.5 * values + 0.5 * ramp).round().astype(np.uint8)
    return mixed


def pil(array):
    return Image.fromarray(array[:, :, 0], "L") if array.shape[2] == 1 else Image.fromarray(array, "RGB")


def as_array(image):
    array = np.asarray(image)
    return array[:, :, None] if array.ndim == 2 else array


def fit(image, r):
    width, height = image.size
    short, long = min(width, height), max(width, height)
    scaled = int(r * long / short)
    size = (r, scaled) if width <= height else (scaled, r)
    resized = image.resize(size, Image.BILINEAR)
    top = int(round((resized.size[1] - r) / 2.0))
    left = int(round((resized.size[0] - r) / 2.0))
    return resized.crop((left, top, left + r, top + r))


cases = {
    "gray_down": ((13, 9, 1), "resize", (7, 5)),
    "gray_up": ((13, 9, 1), "resize", (20, 17)),
    "gray_vertical": ((13, 9, 1), "resize", (13, 4)),
    "gray_strong_down": ((40, 33, 1), "resize", (6, 5)),
    "rgb_down": ((11, 7, 3), "resize", (5, 3)),
    "rgb_up": ((11, 7, 3), "resize", (16, 9)),
    "gray_fit_wide": ((32, 20, 1), "fit", 16),
    "rgb_fit_tall": ((20, 31, 3), "fit", 8),
    "gray_fit_half_offset": ((29, 29, 1), "fit", 28),
    "rgb_fit_up": ((6, 5, 3), "fit", 12),
}

tensors, metadata = {}, {"made_by": f"Pillow {PIL.__version__}, numpy {np.__version__}"}
for name, ((width, height, channels), kind, target) in cases.items():
    source = random_image(width, height, channels)
    if kind == "resize":
        result = pil(source).resize(target, Image.BILINEAR)
        metadata[name] = f"resize={target[0]},{target[1]}"
    else:
        result = fit(pil(source), target)
        metadata[name] = f"fit={target}"
    tensors[f"{name}.input"] = source.astype(np.float32)
    tensors[f"{name}.output"] = as_array(result).astype(np.float32)

save_file(tensors, "Tests/Fixtures/imaging/resize.safetensors", metadata=metadata)
print(f"wrote {len(cases)} cases with Pillow {PIL.__version__}")
